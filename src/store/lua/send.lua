-- ARGV: prefix, then 9 values per message: conv, role, user, name, teams,
-- client_msg_id, text, now, attachment (the file's JSON, or ''). The
-- messages of one group commit (store::Db::grouped), appended in order;
-- each is checked on its own and given the next seq of its conversation
-- unless its sender already sent that client_msg_id. Returns one reply per
-- message, in order: its refusal, or
-- {seq, ts, duplicate(0|1), visitor, agent, ticket, status,
--  first_response_ms (-1 unless this is the first agent reply),
--  breached (the metric this reply was late for, or ''),
--  the wait this customer message started, or '' team 0 '0': its metric
--  (first_response|next_response), the team, the target and warning ratio,
--  then for clock.lua (used when SPLIT): first customer message ('1'|''),
--  and how late (ms) the breached reply was}.
-- The wait is armed here on the wall clock (now + target); the caller
-- re-arms it with core's deadline when the team keeps business hours
-- (sla_rearm.lua), so the hot path needs no read of the team's hours.
--
-- The hot path of the product, so it is kept lean: one HMGET reads all the
-- record needs (the SLA targets and deadlines too), HSETNX claims the
-- client_msg_id, XADD appends, one HSET writes the record's changes; only
-- the response clock's start (one ZADD) or stop (ZREM and its counters)
-- comes on top. Each redis.call costs more glue than its command here, and
-- Lua formats a number into a string with sprintf, so the seq is formatted
-- once and the answer clears waiting_since in that HSET ('' is "not
-- waiting") rather than with an HDEL (docs/PERFORMANCE.md, round 3).
--
-- SPLIT (a Redis Cluster, see prelude.lua): everything here is on the
-- conversation's talk side, in its bucket's slot, the response clock too
-- (the timers in the bucket's set, a wait met counted in the bucket); what
-- happens once to the record (its first customer message, its first
-- response, a breach) store::ConversationStore::append tells clock.lua in
-- the routing slot, a call for a conversation's first two messages and its
-- late replies only.
local FIELDS = {'status', 'visitor', 'agent', 'offered_to', 'team', 'first_customer_at', 'first_response_at',
  'ticket', 'waiting_since', 'seq', 'sla_first_response', 'sla_next_response', 'sla_ratio',
  'sla_due_first_response', 'sla_due_next_response'}

local function earlier(c, dedup, key)
  local prev = redis.call('HGET', dedup, key)
  if not prev then return nil end
  local sep = string.find(prev, ':', 1, true)
  return {tonumber(string.sub(prev, 1, sep - 1)), tonumber(string.sub(prev, sep + 1)), 1, c[2], c[3], c[8] or '',
    c[1], -1, '', '', '', 0, '0', '', 0}
end

local function send(conv, role, user, name, teams, cmid, text, now, att)
  -- The talk side and where its waits' timers and counts are (SPLIT: its
  -- bucket's): every key this may write, asked for first (talk_here).
  local base = SPLIT and tb_(conv) or P
  local k = tk_(conv, base)
  if SPLIT and not talk_here(k, k .. ':cmid', k .. ':msgs', base .. 'sla', base .. 'sla:agent:' .. user) then
    return moving()
  end
  local c = redis.call('HMGET', k, unpack(FIELDS))
  if not c[1] then return err('not_found', 'no such conversation') end
  if SPLIT and not talk_here(base .. 'sla:team:' .. (c[5] or '')) then return moving() end
  if not can_see(role, user, teams, c[2], c[3], c[4], c[5]) then
    return err('forbidden', 'not your conversation')
  end
  if role == 'agent' and c[3] ~= user then return err('forbidden', 'the conversation is not assigned to you') end
  local dedup, key = k .. ':cmid', user .. ':' .. cmid
  if c[1] == 'resolved' then
    return earlier(c, dedup, key) or err('conflict', 'the conversation is resolved')
  end
  local seq = num(c[10]) + 1
  local s = tostring(seq)
  if redis.call('HSETNX', dedup, key, s .. ':' .. now) == 0 then return earlier(c, dedup, key) end
  if att ~= '' then
    redis.call('XADD', k .. ':msgs', '0-' .. s, 'ts', now, 'role', role, 'uid', user,
      'name', name, 'text', text, 'cmid', cmid, 'att', att)
  else
    redis.call('XADD', k .. ':msgs', '0-' .. s, 'ts', now, 'role', role, 'uid', user,
      'name', name, 'text', text, 'cmid', cmid)
  end
  local set = {'seq', s}
  local t = tonumber(now)
  local first_response, breached = -1, ''
  local wait = {'', c[5] or '', 0, '0'}  -- the team is answered either way (clock.lua's)
  local metric = c[7] and 'next_response' or 'first_response'
  local waiting = c[9] and c[9] ~= ''
  local first, late = '', 0  -- for clock.lua (SPLIT)
  if role == 'customer' then
    if not c[6] then
      set[#set + 1] = 'first_customer_at'; set[#set + 1] = now
      first = '1'
    end
    -- The first unanswered message starts the response clock.
    if not waiting and c[1] ~= 'ticket' then
      set[#set + 1] = 'waiting_since'
      set[#set + 1] = now
      local target = c[7] and c[12] or c[11]
      local warn, due = sla_plan(target, c[13], t)
      if warn then
        redis.call('ZADD', base .. 'sla', sla_timers(conv, metric, warn, due))
        set[#set + 1] = 'sla_due_' .. metric
        set[#set + 1] = due
        wait = {metric, c[5] or '', num(target), c[13] or '0.8'}
      end
    end
  else
    if c[6] and not c[7] then
      set[#set + 1] = 'first_response_at'
      set[#set + 1] = now
      first_response = t - tonumber(c[6])
      if not SPLIT then metric_sample('fr', conv, c[5], user, first_response, now) end
    end
    if waiting then
      set[#set + 1] = 'waiting_since'
      set[#set + 1] = ''
      local due = c[7] and c[15] or c[14]
      if SPLIT then
        local outcome, by = sla_stop(conv, metric, t, c[5] or '', user, due, k, base)
        if outcome == 'breached' then breached, late = metric, by end
      elseif sla_settle(conv, metric, t, c[5], user, due) == 'breached' then
        breached = metric
      end
    end
  end
  redis.call('HSET', k, unpack(set))
  return {seq, t, 0, c[2], c[3], c[8] or '', c[1], first_response, breached, wait[1], wait[2], wait[3],
    wait[4], first, late}
end

local out = {}
for i = 2, #ARGV - 8, 9 do
  out[#out + 1] = send(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
    ARGV[i + 7], ARGV[i + 8])
end
return out
