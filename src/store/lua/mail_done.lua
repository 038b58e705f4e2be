-- KEYS: the mail's record, the queue
-- ARGV: id, sent ('1' | '0'), now, next try (when not sent), give up ('1' | '0'), error
-- Records how a sending went: sent, or tried again later, or given up on.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'sent_at', ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'last_error', ARGV[6], 'failed_at', ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'last_error', ARGV[6])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return 1
