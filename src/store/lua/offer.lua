-- ARGV: prefix, conv, agent, expires_at, now
-- Commits one planned offer if it still holds: the chat still waits in its
-- queue and the agent is still online, connected and below capacity. This
-- compare-and-set is what keeps routing atomic across server processes.
-- Returns {1, team, visitor, visitor_name, priority, context, preview} or {0, why}.
local conv, agent, expires, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', ck(conv), 'status', 'team', 'visitor', 'visitor_name', 'priority', 'context', 'preview')
if c[1] ~= 'queued' then return {0, 'chat'} end
local a = redis.call('HMGET', ak(agent), 'status', 'capacity', 'active', 'offered', 'conns')
if a[1] ~= 'online' or num(a[5]) <= 0 or num(a[3]) + num(a[4]) >= num(a[2]) then return {0, 'agent'} end
-- Taking the chat out of its queue is the last check: nothing is written
-- unless it was there. A burst of chats is where Redis spends the most per
-- chat (docs/PERFORMANCE.md, storm), so no command here is spent twice:
-- the agent's offers counted from the value just read, in the same HSET
-- as the time of the offer.
if redis.call('ZREM', qk(c[2]), conv) == 0 then return {0, 'chat'} end
redis.call('HSET', ck(conv), 'status', 'offered', 'offered_to', agent, 'offer_expires', expires)
touch(conv)
redis.call('ZADD', P .. 'offers', expires, conv)
redis.call('HSET', ak(agent), 'offered', num(a[4]) + 1, 'last_assigned_at', now)
redis.call('SADD', ak(agent) .. ':offers', conv)
return {1, c[2], c[3], c[4] or '', c[5] or 'normal', c[6] or '{}', c[7] or ''}
