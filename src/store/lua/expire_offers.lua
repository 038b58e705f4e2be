-- ARGV: prefix, now, max
-- Claims the offers whose time ran out (each once, whichever process asks
-- first) and hands their chats back. Returns {conv, agent, team, ...}.
local now = ARGV[2]
local out = {}
for _, conv in ipairs(redis.call('ZRANGEBYSCORE', P .. 'offers', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  local c = redis.call('HMGET', ck(conv), 'status', 'offered_to', 'team', 'score')
  redis.call('ZREM', P .. 'offers', conv)
  if c[1] == 'offered' then
    release_offer(conv, c[2], c[3], c[4], now)
    out[#out + 1] = conv
    out[#out + 1] = c[2]
    out[#out + 1] = c[3]
  end
end
return out
