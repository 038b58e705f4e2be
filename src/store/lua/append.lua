-- KEYS: a key of the talk side's slot that never exists (Keys::talk_route).
-- ARGV: prefix, conv, key (this append's idempotency key), role, uid, name,
--       text, cmid, now, attachment (JSON or ''), clock ('wait': the
--       customer's first words, which start the first response clock;
--       'first': the customer wrote but no wait starts (kept as a ticket);
--       '': neither), then for 'wait' the first response's warn and due
--       times as core computed them in the team's hours ('' or 0: on the
--       wall clock from the talk side's target)
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
  if clock == 'wait' then
    -- The wait and its timers, in the bucket beside the messages (send.lua).
    local f = redis.call('HMGET', k, 'sla_first_response', 'sla_ratio')
    local at_warn, at_due = tonumber(ARGV[12]), tonumber(ARGV[13])
    local at = (at_warn and at_due and at_due > 0) and {at_warn, at_due, num(f[1])} or nil
    local warn, due = sla_plan(f[1], f[2], tonumber(now), at)
    local set = {'waiting_since', now}
    if warn then
      redis.call('ZADD', tb_(conv) .. 'sla', sla_timers(conv, 'first_response', warn, due))
      set[3], set[4] = 'sla_due_first_response', due
    end
    redis.call('HSET', k, unpack(set))
  end
end
return seq
