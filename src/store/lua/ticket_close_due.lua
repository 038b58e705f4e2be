-- ARGV: prefix, now, solved_before, max
-- Closes the tickets solved before `solved_before` (each once, whichever
-- process asks first). Returns their ids.
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'tickets:solved', '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))) do
  redis.call('ZREM', P .. 'tickets:solved', id)
  local tk = P .. 'ticket:' .. id
  if redis.call('HGET', tk, 'status') == 'solved' then
    redis.call('HSET', tk, 'status', 'closed', 'closed_at', ARGV[2], 'updated_at', ARGV[2])
    redis.call('ZADD', P .. 'tickets:updated', ARGV[2], id)
    redis.call('XADD', tk .. ':events', '*', 'ts', ARGV[2], 'actor', 'system', 'what', 'status', 'from', 'solved', 'to', 'closed')
    out[#out + 1] = id
  end
end
return out
