-- KEYS: the visit (hash), the live visits (zset), the changes (stream), the
-- day's invitation counts (hash)
-- ARGV: visitor_id, expected_rev, expires_at, retention_ms, keep_ms, counted, field, value, ...
-- Writes a visit the app decided with core/visitors (a page, the shop's
-- facts, a tab closed, an invitation and its answer): a compare-and-set on
-- its revision, so two processes deciding from the same reading cannot
-- both win (the loser reads it again). Keeps it at most retention_ms, lists
-- it live until expires_at, tells every process on the stream (entries
-- older than keep_ms by Redis's clock are trimmed), and counts `counted` ("<rule>:<event>")
-- when given. Returns the visit as stored.
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[2]) then return redis.error_reply('conflict the visit changed meanwhile') end
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
redis.call('HSET', KEYS[1], 'visitor_id', ARGV[1], 'expires_at', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[6] ~= '' then
  redis.call('HINCRBY', KEYS[4], ARGV[6], 1)
  redis.call('EXPIRE', KEYS[4], 400 * 86400)
end
local row = redis.call('HGETALL', KEYS[1])
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000 - tonumber(ARGV[5])
redis.call('XADD', KEYS[3], 'MINID', '~', floor, '*', unpack(row))
return row
