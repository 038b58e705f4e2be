-- ARGV: prefix, conv, visitor, rating, expectation, comment, now, window_ms, solved
-- The customer's answer, any part of it on its own ('' = not given): the
-- rating, their verdict, a comment, the "did this solve it?" tap. Each
-- part once, within the window after the resolve; parts may come in
-- separate answers (the tap, then the stars, then the verdict).
-- Returns the parts now stored: {rating, expectation, comment, solved}.
local conv, visitor = ARGV[2], ARGV[3]
local parts = {{'csat_rating', ARGV[4], 'rating'}, {'csat_expectation', ARGV[5], 'expectation'},
               {'csat_comment', ARGV[6], 'comment'}, {'csat_solved', ARGV[9], 'solved'}}
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'resolved_at', 'csat_rating', 'csat_expectation',
  'csat_comment', 'csat_solved')
if not c[1] then return err('not_found', 'no such conversation') end
if c[2] ~= visitor then return err('forbidden', 'not your conversation') end
if c[1] ~= 'resolved' then return err('conflict', 'the conversation is not resolved yet') end
if tonumber(ARGV[7]) >= num(c[3]) + tonumber(ARGV[8]) then return err('conflict', 'the time to answer has passed') end
for i, p in ipairs(parts) do
  if p[2] ~= '' and c[3 + i] and c[3 + i] ~= '' then
    if p[3] == 'rating' then return err('conflict', 'this conversation was already rated') end
    return err('conflict', 'this conversation already has its ' .. p[3])
  end
end
for _, p in ipairs(parts) do
  if p[2] ~= '' then redis.call('HSET', ck(conv), p[1], p[2]) end
end
redis.call('HSET', ck(conv), 'csat_at', ARGV[7])
return redis.call('HMGET', ck(conv), 'csat_rating', 'csat_expectation', 'csat_comment', 'csat_solved')
