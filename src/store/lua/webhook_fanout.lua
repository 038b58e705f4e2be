-- ARGV: prefix, group, outbox entry id, event id, type, order key, body, now
-- Moves one event of the outbox into the delivery lane of every active
-- subscription that wants its type, and acknowledges it, in one step: a
-- process that dies before this leaves the entry pending for another to
-- claim; one that dies after has nothing left to do. A lane is one
-- subscription's queue for one conversation (the order key): its head is
-- delivered before anything behind it. Returns how many lanes took it, or
-- -1 when the entry was already handled.
local outbox = P .. 'webhooks:outbox'
if redis.call('XACK', outbox, ARGV[2], ARGV[3]) == 0 then return -1 end
redis.call('XDEL', outbox, ARGV[3])
local ev, etype, key, now = ARGV[4], ARGV[5], ARGV[6], num(ARGV[8])
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', P .. 'webhooks')) do
  local k = P .. 'webhook:' .. id
  local s = redis.call('HMGET', k, 'status', 'events', 'retry_at')
  local events = ',' .. (s[2] or '') .. ','
  if s[1] == 'active' and (string.find(events, ',*,', 1, true) or string.find(events, ',' .. etype .. ',', 1, true)) then
    if redis.call('RPUSH', k .. ':lane:' .. key, ev .. '\n' .. etype .. '\n' .. ARGV[7]) == 1 then
      redis.call('SADD', k .. ':lanes', key)
      redis.call('ZADD', P .. 'webhooks:due', 'NX', math.max(now, num(s[3])), id .. '|' .. key)
    end
    n = n + 1
  end
end
return n
