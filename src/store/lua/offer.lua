-- ARGV: prefix, conv, agent, expires_at, now
-- Commits one planned offer if it still holds: the chat still waits in its
-- queue and the agent is still online, connected and below capacity. This
-- compare-and-set is what keeps routing atomic across server processes.
-- Returns {1, team, visitor, visitor_name, priority, context, preview} or {0, why}.
local conv, agent, expires, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', ck(conv), 'status', 'team', 'visitor', 'visitor_name', 'priority', 'context', 'preview')
if c[1] ~= 'queued' then return {0, 'chat'} end
if not redis.call('ZSCORE', qk(c[2]), conv) then return {0, 'chat'} end
local a = redis.call('HMGET', ak(agent), 'status', 'capacity', 'active', 'offered', 'conns')
if a[1] ~= 'online' or num(a[5]) <= 0 or num(a[3]) + num(a[4]) >= num(a[2]) then return {0, 'agent'} end
redis.call('ZREM', qk(c[2]), conv)
redis.call('HSET', ck(conv), 'status', 'offered', 'offered_to', agent, 'offer_expires', expires)
touch(conv)
redis.call('ZADD', P .. 'offers', expires, conv)
redis.call('HINCRBY', ak(agent), 'offered', 1)
redis.call('SADD', ak(agent) .. ':offers', conv)
redis.call('HSET', ak(agent), 'last_assigned_at', now)
return {1, c[2], c[3], c[4] or '', c[5] or 'normal', c[6] or '{}', c[7] or ''}
