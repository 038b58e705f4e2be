-- KEYS: the mail's record, the queue (zset by due time), the Message-ID's
--       index entry (to find its ticket from a reply), the mail index
--       (zset by when each mail was last queued, for the supervisors' list)
-- ARGV: id, now, ticket id (or ''), trim before (index entries queued
--       before this are dropped: their records have expired; 0: none),
--       field, value, field, value ...
-- Queues one e-mail, due at once. Returns 1.
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('conflict that mail id is taken') end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', 0, 'created_at', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
if (tonumber(ARGV[4]) or 0) > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[4]) end
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'EX', 31536000) end
return 1
