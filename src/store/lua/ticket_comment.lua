-- ARGV: prefix, id, role, author, author_name, public ('1'|'0'), text, now, mirror ('1'|'0'),
--       attachment (the attached file's JSON, or ''), then the ticket's deadlines from now
--       (nine values, see sla_deadlines in prelude.lua; '' each when not given: wall clock)
-- A reply or a private note on a ticket. A public one is mirrored into the
-- ticket's conversation as a message (with the next seq) when `mirror` is
-- set, so the customer gets it in their widget and history. A customer's
-- reply reopens a pending or solved ticket; a closed ticket takes nothing
-- (the caller opens a follow-up ticket). An author_name '' is looked up: a
-- customer's in their visitor record, anyone else's in their user record.
-- Returns {comment_id, seq (0: not mirrored; -1: to be mirrored by the
-- caller on the conversation's talk side, SPLIT, see append.lua), visitor,
-- status, previous_status, conversation, author_name}.
local id, role, author, aname, public, text, now, mirror =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local tk = P .. 'ticket:' .. id
local t = redis.call('HMGET', tk, 'status', 'conversation', 'requester', 'waiting_since', 'team', 'first_reply_at')
if not t[1] then return err('not_found', 'no such ticket') end
if t[1] == 'closed' then return err('conflict', 'the ticket is closed') end
local att = ARGV[10] or ''
if aname == '' then
  aname = redis.call('HGET', P .. (role == 'customer' and 'visitor:' or 'user:') .. author, 'name') or ''
end
local cid = redis.call('XADD', tk .. ':comments', '*', 'ts', now, 'role', role, 'uid', author, 'name', aname,
  'public', public, 'text', text, 'att', att)
redis.call('XADD', tk .. ':events', '*', 'ts', now, 'actor', role .. ':' .. author, 'what',
  public == '1' and 'public_reply' or 'private_note', 'from', '', 'to', cid)
local seq = 0
local conv = t[2] or ''
if public == '1' and mirror == '1' and conv ~= '' and redis.call('EXISTS', ck(conv)) == 1 and SPLIT then
  seq = -1
elseif public == '1' and mirror == '1' and conv ~= '' and redis.call('EXISTS', ck(conv)) == 1 then
  seq = redis.call('HINCRBY', ck(conv), 'seq', 1)
  redis.call('XADD', ck(conv) .. ':msgs', '0-' .. seq, 'ts', now, 'role', role, 'uid', author, 'name', aname,
    'text', text, 'cmid', 'ticket:' .. cid, 'att', att)
end
-- The ticket's response clock: a public customer reply starts a wait, a
-- public agent reply ends it.
if public == '1' then
  local metric = t[6] and 'next_response' or 'first_response'
  if role == 'customer' and not t[4] then
    redis.call('HSET', tk, 'waiting_since', now)
    sla_arm(id, metric, tonumber(now), sla_deadlines(11)[metric])
  elseif role ~= 'customer' then
    if not t[6] then redis.call('HSET', tk, 'first_reply_at', now) end
    if t[4] then
      redis.call('HDEL', tk, 'waiting_since')
      sla_settle(id, metric, tonumber(now), t[5] or '', author)
    end
  end
end
local status = t[1]
if role == 'customer' and (status == 'pending' or status == 'solved') then
  status = 'open'
  redis.call('HSET', tk, 'status', 'open')
  redis.call('ZREM', P .. 'tickets:solved', id)
  redis.call('XADD', tk .. ':events', '*', 'ts', now, 'actor', role .. ':' .. author, 'what', 'status', 'from', t[1], 'to', 'open')
end
redis.call('HSET', tk, 'updated_at', now)
redis.call('ZADD', P .. 'tickets:updated', now, id)
return {cid, seq, t[3] or '', status, t[1], conv, aname}
