-- ARGV: prefix, now, max
-- Fires the SLA timers that fell due, each once across processes. A warning
-- fires only while the customer still waits; a breach is recorded once on
-- the conversation (how late) and counted for its team and agent.
-- Returns {conv, metric, phase, due_at, agent, team, ...}.
local now = tonumber(ARGV[2])
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', P .. 'sla', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', P .. 'sla', member)
  local conv, metric, phase = string.match(member, '^(.-)|(.-)|(.-)$')
  -- The warning goes with the breach (sla_settle relies on it).
  if phase == 'breach' then redis.call('ZREM', P .. 'sla', conv .. '|' .. metric .. '|warn') end
  local key = record_key(conv)
  local is_ticket = string.sub(conv, 1, 2) == 't_'
  local c = redis.call('HMGET', key, 'status', is_ticket and 'assignee' or 'agent', 'team', 'sla_due_' .. metric)
  local open = c[1] and c[1] ~= 'resolved' and c[1] ~= 'ticket' and c[1] ~= 'solved' and c[1] ~= 'closed'
  if open then
    local due = num(c[4])
    if phase == 'breach' then sla_breached(conv, key, metric, now - due, now, c[3] or '', c[2]) end
    out[#out + 1] = conv
    out[#out + 1] = metric
    out[#out + 1] = phase
    out[#out + 1] = due
    out[#out + 1] = c[2] or ''
    out[#out + 1] = c[3] or ''
  end
end
return out
