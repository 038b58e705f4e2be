-- KEYS: sets of reply ids (a team's, an agent's own, ...)
-- ARGV: prefix
-- Every reply of those sets, each as its field/value list.
local out = {}
for _, set in ipairs(KEYS) do
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local row = redis.call('HGETALL', ARGV[1] .. 'reply:' .. id)
    if #row > 0 then out[#out + 1] = row end
  end
end
return out
