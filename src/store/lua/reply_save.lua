-- KEYS: the reply (hash), its scope's shortcuts (hash shortcut -> id), its scope's replies (set)
-- ARGV: id, scope, team, owner, shortcut, title, text, now, by, creating ('1' | '0')
-- Creates or changes a saved reply; a shortcut names one reply per scope
-- (a team's, an agent's own). Refused: the shortcut is another reply's
-- (conflict), the reply to change is gone (not_found). Returns it as stored.
local id, shortcut = ARGV[1], ARGV[5]
local taken = redis.call('HGET', KEYS[2], shortcut)
if taken and taken ~= id then return redis.error_reply('conflict the shortcut /' .. shortcut .. ' is taken') end
if ARGV[10] == '0' and redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('not_found no such saved reply') end
local old = redis.call('HGET', KEYS[1], 'shortcut')
if old and old ~= shortcut and redis.call('HGET', KEYS[2], old) == id then redis.call('HDEL', KEYS[2], old) end
redis.call('HSET', KEYS[2], shortcut, id)
redis.call('SADD', KEYS[3], id)
redis.call('HSET', KEYS[1], 'id', id, 'scope', ARGV[2], 'team', ARGV[3], 'owner', ARGV[4], 'shortcut', shortcut,
  'title', ARGV[6], 'text', ARGV[7], 'updated_at', ARGV[8], 'updated_by', ARGV[9])
if ARGV[10] == '1' then redis.call('HSET', KEYS[1], 'created_at', ARGV[8], 'created_by', ARGV[9], 'uses', 0) end
return redis.call('HGETALL', KEYS[1])
