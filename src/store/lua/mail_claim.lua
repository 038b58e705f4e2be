-- ARGV: prefix, now, lease_ms, max
-- Claims the e-mails due, at most `max`, each leased to the caller (due
-- again after the lease should the caller die sending it). Returns
-- {id, attempt, ...}.
local due = P .. 'mail:due'
local now = num(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, num(ARGV[4]))) do
  if redis.call('EXISTS', P .. 'mail:' .. id) == 0 then
    redis.call('ZREM', due, id)
  else
    redis.call('ZADD', due, now + num(ARGV[3]), id)
    out[#out + 1] = id
    out[#out + 1] = redis.call('HINCRBY', P .. 'mail:' .. id, 'attempts', 1)
  end
end
return out
