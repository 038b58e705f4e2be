-- ARGV: prefix, conv, role, user, teams, now, final ('resolved' | 'ticket')
-- Ends the chat part of a conversation: resolved, or kept as a ticket (the
-- agent turned it into one). Either way the agent's slot is freed.
-- Returns {visitor, agent, team, previous_status, stage}.
local conv, role, user, teams, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local final = ARGV[7] == 'ticket' and 'ticket' or 'resolved'
local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'agent', 'offered_to', 'team', 'stage')
if not c[1] then return err('not_found', 'no such conversation') end
if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then return err('forbidden', 'not your conversation') end
if role == 'agent' and c[3] ~= user then return err('forbidden', 'the conversation is not assigned to you') end
if c[1] == 'resolved' then return err('conflict', 'the conversation is already resolved') end
if c[1] == 'ticket' and final == 'ticket' then return err('conflict', 'the conversation is already a ticket') end
if c[1] == 'active' then
  unload(c[3], conv)
elseif c[1] == 'queued' then
  redis.call('ZREM', qk(c[5]), conv)
elseif c[1] == 'offered' then
  drop_offer(conv, c[4])
end
-- The clock stops: a customer still waiting is not answered by a resolve,
-- so those timers just end; the resolution target is counted.
sla_clear_responses(conv)
redis.call('HDEL', ck(conv), 'waiting_since')
sla_settle(conv, 'resolution', tonumber(now), c[5], c[3] or '')
if final == 'resolved' then
  redis.call('HSET', ck(conv), 'status', 'resolved', 'resolved_at', now, 'offered_to', '')
else
  redis.call('HSET', ck(conv), 'status', 'ticket', 'offered_to', '', 'agent', '', 'agent_name', '')
end
touch(conv)
return {c[2], c[3] or '', c[5], c[1], c[6] or ''}
