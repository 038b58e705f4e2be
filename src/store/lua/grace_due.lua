-- ARGV: prefix, now, max
-- Agents whose grace ran out with no connection back, each with the chats
-- to hand back: {agent, {conv, priority, created_at, ...}, ...}. An agent
-- who came back is dropped from the grace set here.
local out = {}
for _, agent in ipairs(redis.call('ZRANGEBYSCORE', P .. 'grace', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  if num(redis.call('HGET', ak(agent), 'conns')) > 0 then
    redis.call('ZREM', P .. 'grace', agent)
  else
    local chats = {}
    for _, conv in ipairs(redis.call('SMEMBERS', ak(agent) .. ':convs')) do
      local c = redis.call('HMGET', ck(conv), 'priority', 'created_at', 'team')
      chats[#chats + 1] = conv
      chats[#chats + 1] = c[1] or 'normal'
      chats[#chats + 1] = c[2] or '0'
      chats[#chats + 1] = c[3] or ''
    end
    out[#out + 1] = agent
    out[#out + 1] = chats
  end
end
return out
