-- ARGV: prefix, team, max_chats
-- What routing needs to plan a team: {chats, agents}, chats as
-- {id, score, {agent, declined_at, ...}}, agents as
-- {id, status, capacity, active, offered, conns, last_assigned_at}.
local team, max = ARGV[2], tonumber(ARGV[3])
local q = redis.call('ZRANGE', qk(team), 0, max - 1, 'WITHSCORES')
local chats = {}
for i = 1, #q, 2 do
  chats[#chats + 1] = {q[i], q[i + 1], redis.call('HGETALL', ck(q[i]) .. ':declined')}
end
local agents = {}
if #chats > 0 then
  for _, a in ipairs(redis.call('SMEMBERS', P .. 'team:' .. team .. ':agents')) do
    local f = redis.call('HMGET', ak(a), 'status', 'capacity', 'active', 'offered', 'conns', 'last_assigned_at')
    if f[1] == 'online' and num(f[5]) > 0 then
      agents[#agents + 1] = {a, f[1], f[2] or '0', f[3] or '0', f[4] or '0', f[5] or '0', f[6] or '0'}
    end
  end
end
return {chats, agents}
