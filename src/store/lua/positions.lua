-- ARGV: prefix, team, max
-- The waiting chats of a team in order, with their customers: {conv, visitor, ...}.
local out = {}
for _, conv in ipairs(redis.call('ZRANGE', qk(ARGV[2]), 0, tonumber(ARGV[3]) - 1)) do
  out[#out + 1] = conv
  out[#out + 1] = redis.call('HGET', ck(conv), 'visitor') or ''
end
return out
