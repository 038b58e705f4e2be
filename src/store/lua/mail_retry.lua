-- KEYS: the mail's record, the queue, its attempt log, the mail index
-- ARGV: id, now, who asked
-- Queues a failed mail again, due at once, for a new round of attempts:
-- its give-up time and backoff count from now (retried_at, and the
-- attempts made before, retried_after), it and its log no longer expire,
-- and it moves to the top of the index. Returns 1. Refused: not_found
-- (unknown, or expired), conflict (queued or sent).
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return redis.error_reply('not_found no such mail') end
if status ~= 'failed' then return redis.error_reply('conflict the mail is ' .. status .. ', not failed') end
redis.call('HSET', KEYS[1], 'status', 'queued', 'retried_at', ARGV[2], 'retried_by', ARGV[3], 'retried_after',
  redis.call('HGET', KEYS[1], 'attempts') or '0')
redis.call('HDEL', KEYS[1], 'failed_at')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
return 1
