-- ARGV: prefix, from, to, offset, count, team, agent, stage
-- One page of the conversations started in [from, to] (the `convs` index),
-- filtered by team, agent and stage when given ('none': the conversations
-- started without a stage): for GET /api/v1/reports/summary (which may
-- also group them by stage).
-- Returns {scanned, row, row, ...}, each row the FIELDS below in order.
local FIELDS = {'id', 'team', 'agent', 'created_at', 'first_customer_at', 'assigned_at', 'first_response_at',
  'resolved_at', 'status', 'ticketed_at_start', 'csat_rating', 'assessment_level',
  'out_first_response_met', 'out_first_response_breached', 'out_next_response_met', 'out_next_response_breached',
  'out_resolution_met', 'out_resolution_breached', 'assessment_confidence', 'stage'}
local from, to, offset, count, team, agent, stage = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] or ''
local function stage_matches(s)
  if stage == '' then return true end
  s = s or ''
  if stage == 'none' then return s == '' end
  return s == stage
end
local ids = redis.call('ZRANGEBYSCORE', P .. 'convs', from, to, 'LIMIT', offset, count)
local out = {#ids}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ck(id), unpack(FIELDS))
  if f[1] and (team == '' or f[2] == team) and (agent == '' or f[3] == agent) and stage_matches(f[#FIELDS]) then
    for i = 1, #FIELDS do out[#out + 1] = f[i] or '' end
  end
end
return out
