-- ARGV: prefix, conv, role, user, name, teams, text, now
-- Private notes live in their own stream, so customers' seqs have no gaps.
-- Returns {note_id, visitor, agent}.
local conv, role, user, name, teams, text, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'agent', 'offered_to', 'team')
if not c[1] then return err('not_found', 'no such conversation') end
if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then return err('forbidden', 'not your conversation') end
local id = redis.call('XADD', ck(conv) .. ':notes', '*', 'ts', now, 'role', role, 'uid', user, 'name', name, 'text', text)
return {id, c[2], c[3] or ''}
