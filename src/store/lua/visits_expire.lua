-- KEYS: the live visits (zset), the changes (stream)
-- ARGV: prefix, now, max, keep_ms
-- Claims the visits whose time on the live list is over (each exactly once,
-- whatever the number of processes), marks them gone (no tab counted: a
-- process that died with its sockets left them counted) and tells every
-- process on the stream; trims the stream to keep_ms by Redis's clock
-- (so nothing of a visit stays there long, however quiet the shop).
-- Returns their visitor ids.
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000 - tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local visit = ARGV[1] .. 'visit:' .. id
  if redis.call('EXISTS', visit) == 1 then
    redis.call('HSET', visit, 'conns', 0)
    redis.call('HINCRBY', visit, 'rev', 1)
  end
  redis.call('XADD', KEYS[2], 'MINID', '~', floor, '*', 'visitor_id', id, 'gone', '1')
end
redis.call('XTRIM', KEYS[2], 'MINID', '~', floor)
return ids
