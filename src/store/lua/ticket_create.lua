-- ARGV: prefix, id, subject, requester, requester_name, status, priority, team, assignee, tags_csv, via,
--       conversation, follow_up_of, actor, now, sla_policy, first_ms, next_ms, resolution_ms, warning_ratio,
--       then the policy's deadlines from now (nine values, see sla_deadlines in prelude.lua)
-- A ticket, its first timeline entry, its indexes, and the link from its
-- conversation. Returns the record (HGETALL).
local id, subject, requester, rname, status, priority, team, assignee, tags, via, conv, follow, actor, now =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13],
  ARGV[14], ARGV[15]
if redis.call('SISMEMBER', P .. 'teams', team) == 0 then return err('bad_request', 'unknown team') end
local aname = ''
if assignee ~= '' then
  if redis.call('HGET', P .. 'user:' .. assignee, 'role') ~= 'agent' then return err('bad_request', 'the assignee must be an agent') end
  aname = redis.call('HGET', P .. 'user:' .. assignee, 'name') or assignee
end
if requester ~= '' and rname == '' then rname = redis.call('HGET', P .. 'visitor:' .. requester, 'name') or '' end
if requester ~= '' and redis.call('EXISTS', P .. 'visitor:' .. requester) == 0 then
  return err('bad_request', 'no such requester')
end
if conv ~= '' and redis.call('EXISTS', ck(conv)) == 0 then return err('not_found', 'no such conversation') end
local tk = create_ticket(id, subject, requester, rname, status, priority, team, assignee, aname, tags, via, conv, follow,
  actor, now)
if ARGV[16] then ticket_sla_start(id, ARGV[16], ARGV[17], ARGV[18], ARGV[19], ARGV[20], now, false, sla_deadlines(21)) end
return redis.call('HGETALL', tk)
