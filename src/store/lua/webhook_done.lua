-- ARGV: prefix, subscription, lane, event id, delivered ('1' | '0'), now,
--       next try (when failed), type, attempt, HTTP status, error, ms
-- Records one attempt in the subscription's log. Delivered: the lane's head
-- goes (if it is still this event: a lease that ran out may have let
-- another process deliver it first) and the next one is due at once; the
-- subscription's failure record is cleared. Failed: the lane waits, and so
-- does the whole subscription (one failing receiver is not hammered once
-- per lane); failures of one round count once. Returns {failing since, or 0}.
local id, lane, ev, now = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local k = P .. 'webhook:' .. id
local due = P .. 'webhooks:due'
local member = id .. '|' .. lane
if redis.call('EXISTS', k) == 0 then return {0} end
local ok = ARGV[5] == '1'
redis.call('XADD', k .. ':log', 'MAXLEN', '~', 1000, '*', 'event', ev, 'type', ARGV[8], 'lane', lane, 'attempt', ARGV[9],
  'result', ok and 'delivered' or 'failed', 'status', ARGV[10], 'error', ARGV[11], 'ms', ARGV[12], 'ts', now)
local head = redis.call('LINDEX', k .. ':lane:' .. lane, 0)
local current = head ~= false and string.sub(head, 1, #ev + 1) == ev .. '\n'
if ok then
  if current then
    redis.call('LPOP', k .. ':lane:' .. lane)
    redis.call('HDEL', k .. ':attempts', lane)
    if redis.call('LLEN', k .. ':lane:' .. lane) > 0 then
      redis.call('ZADD', due, now, member)
    else
      redis.call('ZREM', due, member)
      redis.call('SREM', k .. ':lanes', lane)
    end
  end
  redis.call('HSET', k, 'last_success_at', now, 'failures', 0)
  redis.call('HDEL', k, 'failing_since', 'retry_at')
  return {0}
end
local retry = num(ARGV[7])
local paused = num(redis.call('HGET', k, 'retry_at'))
if paused > num(now) then
  retry = math.max(retry, paused)
else
  redis.call('HINCRBY', k, 'failures', 1)
  redis.call('HSET', k, 'retry_at', retry)
end
if current then redis.call('ZADD', due, retry, member) end
local since = redis.call('HGET', k, 'failing_since')
if not since then
  since = now
  redis.call('HSET', k, 'failing_since', now)
end
redis.call('HSET', k, 'last_error', ARGV[11], 'last_failure_at', now)
return {num(since)}
