-- ARGV: prefix, id, owner, creator, conversation_id, ticket_id, due_at, kind, note, now
-- A follow-up task with a durable timer: due times live in the sorted set
-- `followups:due` until the timer fires (followup_fire.lua claims them).
local id, owner, creator, conv, ticket, due, kind, note, now =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
if redis.call('HGET', P .. 'user:' .. owner, 'role') ~= 'agent' then return err('bad_request', 'the owner must be an agent') end
if conv ~= '' and redis.call('EXISTS', ck(conv)) == 0 then return err('not_found', 'no such conversation') end
if ticket ~= '' and redis.call('EXISTS', P .. 'ticket:' .. ticket) == 0 then return err('not_found', 'no such ticket') end
local fk = P .. 'followup:' .. id
redis.call('HSET', fk, 'id', id, 'owner', owner, 'created_by', creator, 'conversation_id', conv, 'ticket_id', ticket,
  'due_at', due, 'kind', kind, 'note', note, 'status', 'open', 'created_at', now, 'fired', '0')
redis.call('ZADD', P .. 'followups:due', due, id)
redis.call('ZADD', P .. 'followups:open', due, id)
redis.call('ZADD', P .. 'agent:' .. owner .. ':followups', due, id)
redis.call('ZADD', P .. 'followups', now, id)
if conv ~= '' then redis.call('SADD', ck(conv) .. ':followups', id) end
if ticket ~= '' then redis.call('SADD', P .. 'ticket:' .. ticket .. ':followups', id) end
return redis.call('HGETALL', fk)
