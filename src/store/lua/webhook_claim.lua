-- ARGV: prefix, now, lease_ms, max
-- Claims the lanes whose head is due, at most `max`: each is leased to the
-- caller (due again only after the lease, should the caller die with it).
-- Lanes of a subscription that is paused after a failure wait for its
-- retry time; those of a disabled or deleted one are parked (re-armed when
-- it is active again). Returns {subscription, lane, head, attempt, url,
-- secret, failures, ...}; the head is "<event id>\n<type>\n<body>".
local due = P .. 'webhooks:due'
local now = num(ARGV[2])
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, num(ARGV[4]))) do
  local bar = string.find(m, '|', 1, true)
  local id, lane = string.sub(m, 1, bar - 1), string.sub(m, bar + 1)
  local k = P .. 'webhook:' .. id
  local s = redis.call('HMGET', k, 'status', 'url', 'secret', 'retry_at', 'failures')
  local head = redis.call('LINDEX', k .. ':lane:' .. lane, 0)
  if not head then
    redis.call('ZREM', due, m)
    redis.call('SREM', k .. ':lanes', lane)
  elseif s[1] ~= 'active' then
    redis.call('ZREM', due, m)
  elseif num(s[4]) > now then
    redis.call('ZADD', due, s[4], m)
  else
    redis.call('ZADD', due, now + num(ARGV[3]), m)
    local attempt = redis.call('HINCRBY', k .. ':attempts', lane, 1)
    for _, v in ipairs({id, lane, head, attempt, s[2] or '', s[3] or '', num(s[5])}) do out[#out + 1] = v end
  end
end
return out
