-- ARGV: prefix, conv, role, user, teams, after_seq, limit
-- Returns {status, entries} where entries are XRANGE entries after after_seq.
local conv, role, user, teams = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', tk_(conv), 'status', 'visitor', 'agent', 'offered_to', 'team')
if not c[1] then return err('not_found', 'no such conversation') end
if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then
  return err('forbidden', 'not your conversation')
end
local from = '0-' .. (tonumber(ARGV[6]) + 1)
return {c[1], redis.call('XRANGE', tk_(conv) .. ':msgs', from, '+', 'COUNT', tonumber(ARGV[7]))}
