-- ARGV: prefix, conv, reviewed_by, note, now
-- A supervisor marks a conversation on the review list reviewed, with a
-- note: it moves to the done list at the same place (its resolve time).
-- Once: a conversation not waiting for review is refused.
local conv = ARGV[2]
local score = redis.call('ZSCORE', P .. 'reviews', conv)
if not score then return err('not_found', 'no such conversation waiting for review') end
redis.call('HSET', ck(conv), 'reviewed_at', ARGV[5], 'reviewed_by', ARGV[3], 'review_note', ARGV[4])
redis.call('ZREM', P .. 'reviews', conv)
redis.call('ZADD', P .. 'reviews:done', score, conv)
return 1
