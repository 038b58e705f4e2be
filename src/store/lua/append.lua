-- KEYS: a key of the talk side's slot that never exists (Keys::talk_route).
-- ARGV: prefix, conv, key (this append's idempotency key), role, uid, name,
--       text, cmid, now, attachment (JSON or ''), clock ('wait': the
--       customer's first words, which start the first response clock;
--       'first': the customer wrote but no wait starts (kept as a ticket);
--       '': neither)
-- Appends one message the server writes on someone's behalf on a Redis
-- Cluster (SPLIT, see prelude.lua): the customer's words that start a chat
-- (start.lua), the chat's system notice, a ticket reply mirrored into its
-- conversation (ticket_comment.lua). Those steps run in the routing slot;
-- this is their talk side's half, written after them. `key` makes a retry
-- harmless: an append already made answers its seq again.
-- Returns the message's seq.
local conv, key, role, uid, name, text, cmid, now, att, clock =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local k = tk_(conv)
local done = redis.call('HGET', k .. ':cmid', 'server:' .. key)
if done then return tonumber(string.sub(done, 1, string.find(done, ':', 1, true) - 1)) end
local seq = redis.call('HINCRBY', k, 'seq', 1)
redis.call('HSET', k .. ':cmid', 'server:' .. key, seq .. ':' .. now)
local entry = {'XADD', k .. ':msgs', '0-' .. seq, 'ts', now, 'role', role, 'uid', uid, 'name', name, 'text', text,
  'cmid', cmid}
if att ~= '' then
  entry[#entry + 1] = 'att'
  entry[#entry + 1] = att
end
redis.call(unpack(entry))
if clock == 'wait' or clock == 'first' then
  redis.call('HSETNX', k, 'first_customer_at', now)
  if clock == 'wait' then redis.call('HSET', k, 'waiting_since', now) end
end
return seq
