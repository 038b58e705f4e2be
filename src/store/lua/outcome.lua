-- ARGV: prefix, conv, role, user, teams, outcome, went_beyond, now
-- The agent records how the chat ended ('' = not given): the outcome
-- (solved | workaround | not_solved) and what they gave beyond the ask. The
-- agent of the conversation (also after the resolve) or a supervisor; a
-- later record replaces an earlier one.
-- Returns {status, outcome, went_beyond}.
local conv, role, user, teams = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'agent', 'offered_to', 'team')
if not c[1] then return err('not_found', 'no such conversation') end
if role == 'customer' then return err('forbidden', 'the customer answers the CSAT question instead') end
if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then return err('forbidden', 'not your conversation') end
if role == 'agent' and c[3] ~= user then return err('forbidden', 'the conversation is not assigned to you') end
if c[1] ~= 'active' and c[1] ~= 'resolved' then
  return err('conflict', 'only a conversation being served or resolved has an outcome')
end
if ARGV[6] ~= '' then redis.call('HSET', ck(conv), 'outcome', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', ck(conv), 'went_beyond', ARGV[7]) end
redis.call('HSET', ck(conv), 'outcome_by', user, 'outcome_at', ARGV[8])
local f = redis.call('HMGET', ck(conv), 'outcome', 'went_beyond')
return {c[1], f[1] or '', f[2] or ''}
