-- ARGV: prefix, id, actor, actor_role, due_at ('' keeps), owner ('' keeps), set_note ('0' | '1'), note, now
-- Reschedules or hands over an open follow-up; a new due time re-arms its
-- timer even if it had fired. Only its owner, its creator or a supervisor.
local id, actor, role, due, owner, set_note, note = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local fk = P .. 'followup:' .. id
local f = redis.call('HMGET', fk, 'status', 'owner', 'created_by', 'due_at')
if not f[1] then return err('not_found', 'no such follow-up') end
if role ~= 'supervisor' and actor ~= f[2] and actor ~= f[3] then return err('forbidden', 'not your follow-up') end
if f[1] ~= 'open' then return err('conflict', 'the follow-up is ' .. f[1]) end
if owner ~= '' and owner ~= f[2] then
  if redis.call('HGET', P .. 'user:' .. owner, 'role') ~= 'agent' then return err('bad_request', 'the owner must be an agent') end
  redis.call('ZREM', P .. 'agent:' .. f[2] .. ':followups', id)
  redis.call('SREM', P .. 'agent:' .. f[2] .. ':due_pending', id)
  redis.call('HSET', fk, 'owner', owner)
  f[2] = owner
end
if due ~= '' then
  redis.call('HSET', fk, 'due_at', due, 'fired', '0')
  redis.call('ZADD', P .. 'followups:due', due, id)
  redis.call('ZADD', P .. 'followups:open', due, id)
  redis.call('SREM', P .. 'agent:' .. f[2] .. ':due_pending', id)
  f[4] = due
end
redis.call('ZADD', P .. 'agent:' .. f[2] .. ':followups', f[4], id)
if set_note == '1' then redis.call('HSET', fk, 'note', note) end
redis.call('HSET', fk, 'updated_at', ARGV[9])
return redis.call('HGETALL', fk)
