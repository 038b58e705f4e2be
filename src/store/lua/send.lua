-- ARGV: prefix, then 9 values per message: conv, role, user, name, teams,
-- client_msg_id, text, now, attachment (the file's JSON, or ''). The messages of one group commit (store::Db::
-- grouped), appended in order; each is checked on its own and given the
-- next seq of its conversation unless its sender already sent that
-- client_msg_id. Returns one reply per message, in order: its refusal, or
-- {seq, ts, duplicate(0|1), visitor, agent, ticket, status,
--  first_response_ms (-1 unless this is the first agent reply),
--  breached (the metric this reply was late for, or '')}.
local function send(conv, role, user, name, teams, cmid, text, now, att)
  local c = redis.call('HMGET', ck(conv), 'status', 'visitor', 'agent', 'offered_to', 'team',
    'first_customer_at', 'first_response_at', 'ticket', 'waiting_since')
  if not c[1] then return err('not_found', 'no such conversation') end
  if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then
    return err('forbidden', 'not your conversation')
  end
  if role == 'agent' and c[3] ~= user then return err('forbidden', 'the conversation is not assigned to you') end
  local dedup = ck(conv) .. ':cmid'
  local key = user .. ':' .. cmid
  local prev = redis.call('HGET', dedup, key)
  if prev then
    local sep = string.find(prev, ':', 1, true)
    return {tonumber(string.sub(prev, 1, sep - 1)), tonumber(string.sub(prev, sep + 1)), 1, c[2], c[3], c[8] or '',
      c[1], -1, ''}
  end
  if c[1] == 'resolved' then return err('conflict', 'the conversation is resolved') end
  local seq = redis.call('HINCRBY', ck(conv), 'seq', 1)
  if att ~= '' then
    redis.call('XADD', ck(conv) .. ':msgs', '0-' .. seq, 'ts', now, 'role', role, 'uid', user,
      'name', name, 'text', text, 'cmid', cmid, 'att', att)
  else
    redis.call('XADD', ck(conv) .. ':msgs', '0-' .. seq, 'ts', now, 'role', role, 'uid', user,
      'name', name, 'text', text, 'cmid', cmid)
  end
  redis.call('HSET', dedup, key, seq .. ':' .. now)
  local t = tonumber(now)
  local first_response, breached = -1, ''
  if role == 'customer' then
    if not c[6] then redis.call('HSET', ck(conv), 'first_customer_at', now) end
    -- The first unanswered message starts the response clock.
    if not c[9] and c[1] ~= 'ticket' then
      redis.call('HSET', ck(conv), 'waiting_since', now)
      sla_arm(conv, c[7] and 'next_response' or 'first_response', t)
    end
  else
    if c[6] and not c[7] then
      redis.call('HSET', ck(conv), 'first_response_at', now)
      first_response = t - tonumber(c[6])
      metric_sample('fr', conv, c[5], user, first_response, now)
    end
    if c[9] then
      redis.call('HDEL', ck(conv), 'waiting_since')
      local metric = c[7] and 'next_response' or 'first_response'
      if sla_settle(conv, metric, t, c[5], user) == 'breached' then breached = metric end
    end
  end
  return {seq, t, 0, c[2], c[3], c[8] or '', c[1], first_response, breached}
end

local out = {}
for i = 2, #ARGV - 8, 9 do
  out[#out + 1] = send(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
    ARGV[i + 7], ARGV[i + 8])
end
return out
