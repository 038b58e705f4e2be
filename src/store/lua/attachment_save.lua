-- KEYS: the attachment's record, its conversation's or ticket's attachment set
-- ARGV: id, created_at, field, value, field, value ...
-- Writes an attachment's record and lists it with what it is attached to.
-- Refuses an id that is taken (ids are random: a second write is a bug).
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('conflict that attachment id is taken') end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return redis.call('HGETALL', KEYS[1])
