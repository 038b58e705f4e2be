-- ARGV: prefix, conv, visitor, rating, expectation, comment, now, window_ms
-- One answer per conversation, within the window after its resolve.
local conv, visitor = ARGV[2], ARGV[3]
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'csat_rating', 'resolved_at')
if not c[1] then return err('not_found', 'no such conversation') end
if c[2] ~= visitor then return err('forbidden', 'not your conversation') end
if c[1] ~= 'resolved' then return err('conflict', 'the conversation is not resolved yet') end
if c[3] then return err('conflict', 'this conversation was already rated') end
if tonumber(ARGV[7]) >= num(c[4]) + tonumber(ARGV[8]) then return err('conflict', 'the time to answer has passed') end
redis.call('HSET', ck(conv), 'csat_rating', ARGV[4], 'csat_expectation', ARGV[5], 'csat_comment', ARGV[6], 'csat_at', ARGV[7])
return 1
