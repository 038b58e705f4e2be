-- KEYS: the live visits (zset), the changes (stream)
-- ARGV: prefix, max
-- Every visit on the live list (at most max) and the stream's last entry
-- id, read at one instant: a process starts its list from this and reads
-- the stream on from that id. Returns {last_id, {field, value, ...}, ...}.
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local out = {last[1] and last[1][1] or '0-0'}
for _, id in ipairs(ids) do
  local row = redis.call('HGETALL', ARGV[1] .. 'visit:' .. id)
  if #row > 0 then out[#out + 1] = row end
end
return out
