-- ARGV: prefix, agent, process_id, delta (+1 | -1), now, grace_ms
-- Counts an agent's WebSockets across processes. When the last one goes,
-- the grace period starts; a new one ends it. Returns the count.
local agent, proc, delta, now, grace = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local pk = P .. 'proc:' .. proc .. ':agents'
if redis.call('HINCRBY', pk, agent, delta) <= 0 then redis.call('HDEL', pk, agent) end
local n = redis.call('HINCRBY', ak(agent), 'conns', delta)
if n <= 0 then
  redis.call('HSET', ak(agent), 'conns', 0)
  n = 0
  if delta < 0 then redis.call('ZADD', P .. 'grace', now + grace, agent) end
else
  redis.call('ZREM', P .. 'grace', agent)
end
return n
