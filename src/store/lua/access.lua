-- ARGV: prefix, conv, role, user, teams
-- The conversation's record (HGETALL) when the caller may see it.
local conv, role, user, teams = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HGETALL', ck(conv))
if #c == 0 then return err('not_found', 'no such conversation') end
local f = {}
for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
if not can_see(role, user, teams, f.visitor, f.agent, f.offered_to, f.team) then
  return err('forbidden', 'not your conversation')
end
return c
