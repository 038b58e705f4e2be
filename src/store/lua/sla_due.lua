-- ARGV: prefix, now, max, bucket ('' for the routing slot's timers, else
-- the number of a talk bucket on a Redis Cluster, whose slot KEYS names)
-- Fires the SLA timers that fell due, each once across processes. A warning
-- fires only while the customer still waits; a breach is recorded once on
-- the conversation (how late) and counted for its team and agent. In a
-- talk bucket (SPLIT) the conversation's copy on its talk side says whether
-- it still waits, and the caller tells the breach to the record
-- (clock.lua); a bucket whose slot is moving is left for the next sweep.
-- Returns {conv, metric, phase, due_at, agent, team, ...}.
local now = tonumber(ARGV[2])
local bucket = ARGV[4] or ''
local timers = bucket == '' and P .. 'sla' or TALK .. '{t' .. bucket .. '}:sla'
local out = {}
local due_now = redis.pcall('ZRANGEBYSCORE', timers, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
if type(due_now) ~= 'table' or due_now.err then return out end
for _, member in ipairs(due_now) do
  local conv, metric, phase = string.match(member, '^(.-)|(.-)|(.-)$')
  local is_ticket = string.sub(conv, 1, 2) == 't_'
  local key = bucket == '' and record_key(conv) or tk_(conv)
  local c = redis.pcall('HMGET', key, 'status', is_ticket and 'assignee' or 'agent', 'team', 'sla_due_' .. metric)
  if c.err then break end
  redis.call('ZREM', timers, member)
  -- The warning goes with the breach (sla_settle relies on it).
  if phase == 'breach' then redis.call('ZREM', timers, conv .. '|' .. metric .. '|warn') end
  local open = c[1] and c[1] ~= 'resolved' and c[1] ~= 'ticket' and c[1] ~= 'solved' and c[1] ~= 'closed'
  if open then
    local due = num(c[4])
    if phase == 'breach' and bucket == '' then sla_breached(conv, key, metric, now - due, now, c[3] or '', c[2]) end
    out[#out + 1] = conv
    out[#out + 1] = metric
    out[#out + 1] = phase
    out[#out + 1] = due
    out[#out + 1] = c[2] or ''
    out[#out + 1] = c[3] or ''
  end
end
return out
