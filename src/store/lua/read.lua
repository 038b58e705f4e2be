-- ARGV: prefix, then 5 values per read: conv, role, user, teams, seq. The
-- read receipts of one group commit (store::Db::grouped), as send.lua's
-- messages. Each records how far one side has read and answers whom to
-- tell: {visitor, agent, seq} (seq capped at the last message), or its
-- refusal.
local function read(conv, role, user, teams, seq)
  local k = tk_(conv)
  if SPLIT and not talk_here(k, k .. ':cmid', k .. ':msgs') then return moving() end
  local field = role == 'customer' and 'read_customer' or 'read_agent'
  local c = redis.call('HMGET', k, 'status', 'visitor', 'agent', 'offered_to', 'team', 'seq', field)
  if not c[1] then return err('not_found', 'no such conversation') end
  if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then return err('forbidden', 'not your conversation') end
  if seq > num(c[6]) then seq = num(c[6]) end
  if seq > num(c[7]) then redis.call('HSET', k, field, seq) end
  return {c[2], c[3] or '', seq}
end

local out = {}
for i = 2, #ARGV - 4, 5 do
  out[#out + 1] = read(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4]))
end
return out
