-- ARGV: prefix, id, actor, expected_status, now, then field/value pairs among
--       status, priority, team, assignee, subject, tags
-- Applies the changes if the ticket is still in expected_status (the caller
-- checked the transition against that status), recording each in the
-- timeline. Returns {record (HGETALL), changes {field, from, to, ...}}.
local id, actor, expected, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local tk = P .. 'ticket:' .. id
local current = redis.call('HGET', tk, 'status')
if not current then return err('not_found', 'no such ticket') end
if current ~= expected then return err('conflict', 'the ticket changed meanwhile; read it again') end
local changes = {}
for i = 6, #ARGV, 2 do
  local f, v = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', tk, f) or ''
  if old ~= v then
    if f == 'team' and redis.call('SISMEMBER', P .. 'teams', v) == 0 then return err('bad_request', 'unknown team') end
    if f == 'assignee' and v ~= '' then
      if redis.call('HGET', P .. 'user:' .. v, 'role') ~= 'agent' then return err('bad_request', 'the assignee must be an agent') end
    end
    changes[#changes + 1] = {f, old, v}
  end
end
for _, c in ipairs(changes) do
  local f, old, v = c[1], c[2], c[3]
  redis.call('HSET', tk, f, v)
  if f == 'assignee' then
    redis.call('HSET', tk, 'assignee_name', v == '' and '' or (redis.call('HGET', P .. 'user:' .. v, 'name') or v))
  end
  if f == 'status' then
    if v == 'solved' then
      redis.call('HSET', tk, 'solved_at', now)
      redis.call('ZADD', P .. 'tickets:solved', now, id)
      sla_clear_responses(id)
      redis.call('HDEL', tk, 'waiting_since')
      sla_settle(id, 'resolution', tonumber(now), redis.call('HGET', tk, 'team') or '', redis.call('HGET', tk, 'assignee') or '')
    else
      redis.call('ZREM', P .. 'tickets:solved', id)
    end
    if v == 'closed' then
      redis.call('HSET', tk, 'closed_at', now)
      sla_clear_responses(id)
      redis.call('ZREM', P .. 'sla', id .. '|resolution|warn', id .. '|resolution|breach')
    end
  end
  redis.call('XADD', tk .. ':events', '*', 'ts', now, 'actor', actor, 'what', f, 'from', old, 'to', v)
end
if #changes > 0 then
  redis.call('HSET', tk, 'updated_at', now)
  redis.call('ZADD', P .. 'tickets:updated', now, id)
end
local flat = {}
for _, c in ipairs(changes) do
  flat[#flat + 1] = c[1]
  flat[#flat + 1] = c[2]
  flat[#flat + 1] = c[3]
end
return {redis.call('HGETALL', tk), flat}
