-- ARGV: prefix, conv, agent, now
-- Returns {team}.
local conv, agent, now = ARGV[2], ARGV[3], ARGV[4]
local c = redis.call('HMGET', ck(conv), 'status', 'offered_to', 'team', 'score')
if not c[1] then return err('not_found', 'no such conversation') end
if c[1] ~= 'offered' or c[2] ~= agent then return err('conflict', 'the offer is no longer open') end
release_offer(conv, agent, c[3], c[4], now)
return {c[3]}
