-- ARGV: prefix, conv_id, visitor, visitor_name, team, priority, context, now, score, text, stage,
--       hours_open ('1'|'0'), ticket_id, subject, offline_text, after_hours_text, ticket_when_offline ('1'|'0'),
--       sla_policy, first_response_ms, next_response_ms, resolution_ms, warning_ratio,
--       then the policy's deadlines from now (nine values, see sla_deadlines in prelude.lua)
-- A customer has one open conversation at a time, whatever its status:
-- starting again answers the open one (a conversation kept as a ticket is
-- open until its ticket is solved). When the team is outside its hours, or
-- none of its agents is online, the chat is kept as a ticket instead of
-- waiting in a queue, and the customer is told so in a system message.
-- Returns {conv_id, status, queue_position, team, created(0|1), ticket_id, reason,
--          previous}: previous, when created, is the customer's latest other
--          conversation ('' if none; the assessment asks whether it held).
local id, visitor, vname, team = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, score, text = ARGV[8], ARGV[9], ARGV[10]
local vconvs = P .. 'visitor:' .. visitor .. ':convs'
local at = sla_deadlines(23)

-- Chats that arrive in the same millisecond wait first come, first served
-- (ids are random, so Redis's order of equal scores would not be): a new
-- chat's score is above the last one waiting in that millisecond by a
-- sixteenth (still exact at the scores' magnitude), written with its fraction.
local function arrival_score(q)
  local s = tonumber(score)
  local last = redis.call('ZREVRANGEBYSCORE', q, '(' .. string.format('%.4f', s + 1), string.format('%.4f', s),
    'WITHSCORES', 'LIMIT', 0, 1)
  if last[2] then s = math.max(s, tonumber(last[2]) + 0.0625) end
  return string.format('%.4f', s)
end

-- Why a chat of `t` cannot be live now: 'after_hours', 'offline' or ''.
-- A few of the team's agents at random are looked at first: with agents
-- online one of them usually is, and a big team's whole list (one HMGET an
-- agent) is read only when none of those is.
local function not_live(t)
  if ARGV[12] ~= '1' then return 'after_hours' end
  if ARGV[17] ~= '1' then return '' end
  local function any_live(agents)
    for _, a in ipairs(agents) do
      local f = redis.call('HMGET', ak(a), 'status', 'conns')
      if f[1] == 'online' and num(f[2]) > 0 then return true end
    end
    return false
  end
  local team_agents, sample = P .. 'team:' .. t .. ':agents', 8
  if any_live(redis.call('SRANDMEMBER', team_agents, sample)) then return '' end
  if redis.call('SCARD', team_agents) > sample and any_live(redis.call('SMEMBERS', team_agents)) then return '' end
  return 'offline'
end

-- Appends the customer's text to a conversation and starts its response
-- clock. SPLIT: the message is appended and its wait started on the talk
-- side by the caller (append.lua).
local function customer_text(cid)
  if not redis.call('HGET', ck(cid), 'first_customer_at') then redis.call('HSET', ck(cid), 'first_customer_at', now) end
  if SPLIT then return end
  local seq = redis.call('HINCRBY', ck(cid), 'seq', 1)
  redis.call('XADD', ck(cid) .. ':msgs', '0-' .. seq, 'ts', now, 'role', 'customer', 'uid', visitor,
    'name', vname, 'text', text, 'cmid', '')
  redis.call('HSET', ck(cid), 'waiting_since', now)
  sla_arm(cid, 'first_response', tonumber(now), at.first_response)
end

local earlier = redis.call('ZREVRANGE', vconvs, 0, 9)
local function previous(cid)
  for _, other in ipairs(earlier) do
    if other ~= cid then return other end
  end
  return ''
end

for _, cid in ipairs(earlier) do
  local c = redis.call('HMGET', ck(cid), 'status', 'team', 'ticket')
  if c[1] == 'ticket' then
    -- Kept as a ticket: it stays the customer's one open conversation until
    -- the ticket is solved. Starting again when the team can chat makes it
    -- live again (the ticket stays linked); otherwise it is answered as is.
    local ts = c[3] and c[3] ~= '' and redis.call('HGET', P .. 'ticket:' .. c[3], 'status')
    if ts and ts ~= 'solved' and ts ~= 'closed' then
      if not_live(c[2]) ~= '' then return {cid, 'ticket', 0, c[2], 0, c[3], '', ''} end
      local s = arrival_score(qk(c[2]))
      redis.call('HSET', ck(cid), 'status', 'queued', 'score', s, 'offered_to', '')
      touch(cid)
      redis.call('ZADD', qk(c[2]), s, cid)
      sla_arm(cid, 'resolution', tonumber(now), at.resolution)
      if text ~= '' then customer_text(cid) end
      return {cid, 'queued', redis.call('ZRANK', qk(c[2]), cid) + 1, c[2], 1, c[3], '', previous(cid)}
    end
  elseif c[1] and c[1] ~= 'resolved' then
    local pos = redis.call('ZRANK', qk(c[2]), cid)
    return {cid, c[1], pos and (pos + 1) or 0, c[2], 0, c[3] or '', '', ''}
  end
end
if redis.call('SISMEMBER', P .. 'teams', team) == 0 then return err('bad_request', 'unknown team') end
-- A new chat: its record written by one HSET, its SLA timers by one ZADD
-- (a burst of starts is where Redis spends the most per chat; see the storm
-- in docs/PERFORMANCE.md).
local reason = not_live(team)
local record = {'id', id, 'visitor', visitor, 'visitor_name', vname, 'team', team,
  'priority', ARGV[6], 'status', reason == '' and 'queued' or 'ticket', 'created_at', now,
  'context', ARGV[7], 'preview', text, 'stage', ARGV[11], 'agent', '', 'offered_to', '',
  'sla_policy', ARGV[18], 'sla_first_response', ARGV[19], 'sla_next_response', ARGV[20], 'sla_resolution', ARGV[21],
  'sla_ratio', ARGV[22]}
if not SPLIT then
  record[#record + 1] = 'seq'
  record[#record + 1] = text ~= '' and 1 or 0
end
if text ~= '' then
  record[#record + 1] = 'first_customer_at'
  record[#record + 1] = now
end
local timers, place = {}, nil
if reason == '' then
  local t = tonumber(now)
  place = arrival_score(qk(team))
  record[#record + 1] = 'score'
  record[#record + 1] = place
  -- The chat's resolution target, and its first response when the customer
  -- has written (what sla_arm does for a record already stored; SPLIT: the
  -- first response's wait is the talk side's, append.lua).
  local waits = {{'resolution', ARGV[21]}}
  if text ~= '' and not SPLIT then
    record[#record + 1] = 'waiting_since'
    record[#record + 1] = now
    waits[2] = {'first_response', ARGV[19]}
  end
  for _, w in ipairs(waits) do
    local warn, due = sla_plan(w[2], ARGV[22], t, at[w[1]])
    if warn then
      for _, v in ipairs({sla_timers(id, w[1], warn, due)}) do timers[#timers + 1] = v end
      record[#record + 1] = 'sla_due_' .. w[1]
      record[#record + 1] = due
    end
  end
else
  record[#record + 1] = 'score'
  record[#record + 1] = score
  record[#record + 1] = 'ticketed_at_start'
  record[#record + 1] = reason
end
redis.call('HSET', ck(id), unpack(record))
touch(id)
redis.call('ZADD', vconvs, now, id)
redis.call('ZADD', P .. 'convs', now, id)
keep_visitor(visitor)
if text ~= '' and not SPLIT then
  redis.call('XADD', ck(id) .. ':msgs', '0-1', 'ts', now, 'role', 'customer', 'uid', visitor,
    'name', vname, 'text', text, 'cmid', '')
end
if reason == '' then
  if #timers > 0 then redis.call('ZADD', P .. 'sla', unpack(timers)) end
  redis.call('ZADD', qk(team), place, id)
  return {id, 'queued', redis.call('ZRANK', qk(team), id) + 1, team, 1, '', '', previous(id)}
end
local ticket = ARGV[13]
create_ticket(ticket, ARGV[14], visitor, vname, 'new', ARGV[6], team, '', '', '', 'chat', id, '', 'customer:' .. visitor, now)
ticket_sla_start(ticket, ARGV[18], ARGV[19], ARGV[20], ARGV[21], ARGV[22], now, text ~= '', at)
if not SPLIT then  -- SPLIT: the caller appends the notice on the talk side (append.lua)
  local seq = redis.call('HINCRBY', ck(id), 'seq', 1)
  local notice = reason == 'after_hours' and ARGV[16] or ARGV[15]
  redis.call('XADD', ck(id) .. ':msgs', '0-' .. seq, 'ts', now, 'role', 'system', 'uid', 'system', 'name', 'Exceed',
    'text', notice, 'cmid', '')
end
return {id, 'ticket', 0, team, 1, ticket, reason, previous(id)}
