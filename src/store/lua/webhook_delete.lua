-- ARGV: prefix, id
-- Removes a subscription with its waiting deliveries and its log.
local id = ARGV[2]
local k = P .. 'webhook:' .. id
if redis.call('EXISTS', k) == 0 then return err('not_found', 'no such webhook') end
for _, lane in ipairs(redis.call('SMEMBERS', k .. ':lanes')) do
  redis.call('DEL', k .. ':lane:' .. lane)
  redis.call('ZREM', P .. 'webhooks:due', id .. '|' .. lane)
end
redis.call('DEL', k, k .. ':lanes', k .. ':attempts', k .. ':log')
redis.call('SREM', P .. 'webhooks', id)
return 1
