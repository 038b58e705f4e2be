-- ARGV: prefix, then 8 values per conversation: conv, team, agent, now,
-- first customer message ('1'|''), first_response_ms (-1: not the first
-- reply), breached metric ('' none), late_ms.
-- SPLIT (a Redis Cluster): the response clock runs on a conversation's talk
-- side, in its bucket (send.lua, sla_due.lua); what happens once to it is
-- told here to its record in the routing slot, for the views, the reports
-- and the live figures: the customer's first message, the first response
-- (and its live sample), a breach (on the record, the team's and agent's
-- breach counts, its sample). A conversation's first two messages and its
-- breaches only. A record that is gone is skipped. Returns '' per entry.
local function tell(conv, team, agent, now, first, fr, breached, late)
  local k = ck(conv)
  if redis.call('EXISTS', k) == 0 then return '' end
  if first == '1' then redis.call('HSETNX', k, 'first_customer_at', now) end
  if fr >= 0 and redis.call('HSETNX', k, 'first_response_at', now) == 1 then
    metric_sample('fr', conv, team, agent, fr, now)
  end
  if breached ~= '' then sla_breached(conv, k, breached, late, tonumber(now), team, agent) end
  return ''
end

local out = {}
for i = 2, #ARGV - 7, 8 do
  out[#out + 1] = tell(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]),
    ARGV[i + 6], tonumber(ARGV[i + 7]))
end
return out
