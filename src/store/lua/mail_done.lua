-- KEYS: the mail's record, the queue, the mail's attempt log (stream)
-- ARGV: id, sent ('1' | '0'), now, next try (when not sent), give up ('1' | '0'),
--       error, attempt, the SMTP server's last reply code ('0': none came),
--       retention (ms), log length
-- Records how a sending went, and the attempt in the mail's log, in one
-- step: sent, or tried again later (result 'retry'), or given up on
-- ('failed'). The log keeps the last `log length` attempts. A finished mail
-- and its log expire after the retention: they hold a customer's address
-- and words. A mail no longer queued (expired, or finished by another
-- process after this one's lease ran out) is left as it is. Returns 1, or
-- 0 when nothing was recorded.
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
local now = ARGV[3]
local result = 'retry'
if ARGV[2] == '1' then result = 'sent' elseif ARGV[5] == '1' then result = 'failed' end
local next_try = ''
if result == 'retry' then next_try = ARGV[4] end
redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[10], '*', 'ts', now, 'attempt', ARGV[7], 'result', result, 'code', ARGV[8],
  'error', ARGV[6], 'next_try', next_try)
if result == 'retry' then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[6])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  return 1
end
if result == 'sent' then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'sent_at', now)
else
  redis.call('HSET', KEYS[1], 'status', 'failed', 'last_error', ARGV[6], 'failed_at', now)
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('PEXPIRE', KEYS[3], ARGV[9])
return 1
