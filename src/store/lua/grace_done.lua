-- ARGV: prefix, agent
-- Ends an agent's grace once their chats are handed back: they are offline.
local agent = ARGV[2]
if num(redis.call('HGET', ak(agent), 'conns')) > 0 then return 0 end
redis.call('ZREM', P .. 'grace', agent)
redis.call('HSET', ak(agent), 'status', 'offline')
return 1
