-- KEYS: the team's agents (set)
-- ARGV: prefix
-- 1 while an agent of the team is online with a live session (as
-- start.lua judges it), else 0: for the invitation rules.
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local a = redis.call('HMGET', ARGV[1] .. 'agent:' .. id, 'status', 'conns')
  if a[1] == 'online' and (tonumber(a[2]) or 0) > 0 then return 1 end
end
return 0
