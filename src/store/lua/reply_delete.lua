-- KEYS: the reply (hash), its scope's shortcuts (hash), its scope's replies (set)
-- ARGV: id
-- Deletes a saved reply with its shortcut. Refused: not_found.
local shortcut = redis.call('HGET', KEYS[1], 'shortcut')
if not shortcut then return redis.error_reply('not_found no such saved reply') end
if redis.call('HGET', KEYS[2], shortcut) == ARGV[1] then redis.call('HDEL', KEYS[2], shortcut) end
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
