-- ARGV: prefix, conv, role, user, teams, seq
-- Records how far one side has read and says whom to tell: {visitor, agent}.
local conv, role, user, teams, seq = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'agent', 'offered_to', 'team', 'seq')
if not c[1] then return err('not_found', 'no such conversation') end
if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then return err('forbidden', 'not your conversation') end
if seq > num(c[6]) then seq = num(c[6]) end
local field = role == 'customer' and 'read_customer' or 'read_agent'
if seq > num(redis.call('HGET', ck(conv), field)) then redis.call('HSET', ck(conv), field, seq) end
return {c[2], c[3] or '', seq}
