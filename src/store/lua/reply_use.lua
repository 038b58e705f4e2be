-- KEYS: the reply (hash)
-- Counts one use of a saved reply (never of one deleted meanwhile: a count
-- alone would bring back an empty record). Returns it as stored.
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('not_found no such saved reply') end
redis.call('HINCRBY', KEYS[1], 'uses', 1)
return redis.call('HGETALL', KEYS[1])
