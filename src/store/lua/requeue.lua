-- ARGV: prefix, conv, from_agent, to_team, score, now
-- Puts an active chat of `from_agent` back in a queue (a transfer to a team,
-- or its agent gone past the grace period). Compare-and-set on the agent, so
-- two processes doing the same step move the chat once.
-- Returns {visitor, team}.
local conv, from, team, score = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', ck(conv), 'status', 'agent', 'visitor')
if not c[1] then return err('not_found', 'no such conversation') end
if c[1] ~= 'active' or c[2] ~= from then return err('conflict', 'the conversation changed hands') end
if redis.call('SISMEMBER', P .. 'teams', team) == 0 then return err('bad_request', 'unknown team') end
unload(from, conv)
redis.call('HINCRBY', ck(conv), 'transfers', 1)  -- handed on: the assessment counts it
redis.call('HSET', ck(conv), 'status', 'queued', 'agent', '', 'agent_name', '', 'team', team, 'score', score)
touch(conv)
redis.call('ZADD', qk(team), score, conv)
return {c[3], team}
