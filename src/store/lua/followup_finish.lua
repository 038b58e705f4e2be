-- ARGV: prefix, id, actor, actor_role, status ('done' | 'cancelled'), now
-- Ends an open follow-up once: its timer is disarmed, and who and when kept.
local id, actor, role, status, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local fk = P .. 'followup:' .. id
local f = redis.call('HMGET', fk, 'status', 'owner', 'created_by')
if not f[1] then return err('not_found', 'no such follow-up') end
if role ~= 'supervisor' and actor ~= f[2] and actor ~= f[3] then return err('forbidden', 'not your follow-up') end
if f[1] ~= 'open' then return err('conflict', 'the follow-up is already ' .. f[1]) end
redis.call('HSET', fk, 'status', status, 'done_at', now, 'done_by', actor)
redis.call('ZREM', P .. 'followups:due', id)
redis.call('ZREM', P .. 'followups:open', id)
redis.call('ZREM', P .. 'agent:' .. f[2] .. ':followups', id)
redis.call('SREM', P .. 'agent:' .. f[2] .. ':due_pending', id)
return redis.call('HGETALL', fk)
