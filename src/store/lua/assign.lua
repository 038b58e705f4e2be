-- ARGV: prefix, conv, to_agent, now, mode ('transfer' | 'force'), expected_agent
-- Gives the chat to `to_agent` at once. A transfer needs the chat active
-- with `expected_agent` and the target online and connected; both need the
-- target below capacity.
-- Returns {previous_status, previous_agent, visitor, team, agent_name,
-- queue_wait_ms (-1 unless first assigned now)}.
local conv, to, now, mode, expected = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local c = redis.call('HMGET', ck(conv), 'status', 'agent', 'team', 'offered_to', 'visitor', 'assigned_at', 'created_at')
if not c[1] then return err('not_found', 'no such conversation') end
if c[1] == 'resolved' then return err('conflict', 'the conversation is resolved') end
if mode == 'transfer' and (c[1] ~= 'active' or c[2] ~= expected) then
  return err('conflict', 'the conversation changed hands')
end
if c[1] == 'active' and c[2] == to then return err('conflict', 'the conversation is already with that agent') end
local a = redis.call('HMGET', ak(to), 'status', 'capacity', 'active', 'offered', 'conns')
if not a[2] then return err('not_found', 'no such agent') end
if mode == 'transfer' and (a[1] ~= 'online' or num(a[5]) <= 0) then
  return err('conflict', 'that agent is not online')
end
if num(a[3]) + num(a[4]) >= num(a[2]) then return err('conflict', 'that agent is at capacity') end
local name = redis.call('HGET', P .. 'user:' .. to, 'name') or to
local previous = c[2] or ''
if c[1] == 'active' then
  unload(c[2], conv)
  -- The customer is handed from one agent to another: the assessment counts it.
  redis.call('HINCRBY', ck(conv), 'transfers', 1)
elseif c[1] == 'queued' then
  redis.call('ZREM', qk(c[3]), conv)
elseif c[1] == 'offered' then
  drop_offer(conv, c[4])
  previous = c[4]
end
redis.call('HSET', ck(conv), 'status', 'active', 'agent', to, 'agent_name', name, 'offered_to', '')
touch(conv)
local wait = -1
if not c[6] then
  redis.call('HSET', ck(conv), 'assigned_at', now)
  wait = tonumber(now) - num(c[7])
  metric_sample('qw', conv, c[3], to, wait, now)
end
redis.call('HINCRBY', ak(to), 'active', 1)
redis.call('HSET', ak(to), 'last_assigned_at', now)
redis.call('SADD', ak(to) .. ':convs', conv)
redis.call('SADD', P .. 'active:' .. c[3], conv)
return {c[1], previous, c[5], c[3], name, wait}
