-- ARGV: prefix, id, create ('1' | '0'), now, field, value, field, value ...
-- Writes a webhook subscription's fields (create: a new one; else an
-- existing one). A subscription turned active again has its failure record
-- cleared and its waiting deliveries re-armed. Returns the record (HGETALL).
local id, now = ARGV[2], ARGV[4]
local k = P .. 'webhook:' .. id
local exists = redis.call('EXISTS', k) == 1
if ARGV[3] == '1' and exists then return err('conflict', 'that webhook id is taken') end
if ARGV[3] ~= '1' and not exists then return err('not_found', 'no such webhook') end
local was = redis.call('HGET', k, 'status')
for i = 5, #ARGV, 2 do redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end
redis.call('SADD', P .. 'webhooks', id)
if ARGV[3] ~= '1' and was ~= 'active' and redis.call('HGET', k, 'status') == 'active' then
  redis.call('HDEL', k, 'failing_since', 'retry_at', 'disabled_at', 'disabled_reason')
  redis.call('HSET', k, 'failures', 0)
  for _, lane in ipairs(redis.call('SMEMBERS', k .. ':lanes')) do
    redis.call('ZADD', P .. 'webhooks:due', 'NX', now, id .. '|' .. lane)
  end
end
return redis.call('HGETALL', k)
