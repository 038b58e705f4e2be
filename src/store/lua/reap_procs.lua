-- ARGV: prefix, now, dead_before, grace_ms
-- A process that stopped beating (killed, host lost) cannot close its
-- agents' connections: take them off their counts here, starting grace.
-- Returns the number of processes reaped.
local now, dead_before, grace = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local dead = redis.call('ZRANGEBYSCORE', P .. 'procs', '-inf', dead_before)
for _, proc in ipairs(dead) do
  local pk = P .. 'proc:' .. proc .. ':agents'
  local h = redis.call('HGETALL', pk)
  for i = 1, #h, 2 do
    local n = redis.call('HINCRBY', ak(h[i]), 'conns', -tonumber(h[i + 1]))
    if n <= 0 then
      redis.call('HSET', ak(h[i]), 'conns', 0)
      redis.call('ZADD', P .. 'grace', now + grace, h[i])
    end
  end
  redis.call('DEL', pk)
  redis.call('ZREM', P .. 'procs', proc)
end
return #dead
