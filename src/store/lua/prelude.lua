-- Shared by every script. ARGV[1] is the key prefix. Keys are built here
-- rather than passed as KEYS because a step touches records it discovers
-- (the conversation's agent, its team's queue).
--
-- Loaded once as the top of the Redis Functions library that holds every
-- script (store::Scripts): the definitions below are made when the library
-- loads, not on every call, and each call begins with prefix_(ARGV[1]).
-- Where Redis has no functions, each script is this text, then
-- prefix_(ARGV[1]), then its body, run by EVALSHA.
--
-- Two sides of a conversation (docs/CLUSTER.md): its record `ck(id)`, with
-- routing (queues, agents, offers, the SLA timers), and its talk `tk_(id)`:
-- the messages (`:msgs`), the client_msg_ids seen (`:cmid`) and the hash
-- send.lua reads. On one primary they are the same keys. On a Redis Cluster
-- (a prefix with a hash tag, "{exceed}:") the talk is in one of 256
-- bucket slots, "exceed:{t<k>}:conv:<id>", so conversations spread over the
-- primaries: SPLIT. Each bucket keeps its conversations' response clock
-- beside their messages: the waits' timers (`tb_(id) .. 'sla'`) and the met
-- counts; the record keeps what happens once (first customer message,
-- first response, breaches: clock.lua). The talk hash then holds a copy of what send.lua checks
-- (status, visitor, agent, offered_to, team, ticket, the SLA targets) with
-- the record's revision `rev`; the record is the truth, and every step that
-- changes those fields calls touch(), which bumps `rev` and lists the
-- conversation in `copies` for store::Db to copy (copy_put.lua).
local P, SPLIT, TALK
local function ck(id) return P .. 'conv:' .. id end
local function has_tag(s)  -- Redis Cluster's rule, as store::hash_tag
  local open = string.find(s, '{', 1, true)
  if not open then return false end
  local close = string.find(s, '}', open + 1, true)
  return close ~= nil and close > open + 1
end
-- The prefix of this call, and what follows from it (worked out again only
-- when it changes: one deployment has one prefix).
local function prefix_(p)
  if p == P then return end
  P = p
  SPLIT = has_tag(p)
  TALK = SPLIT and (string.gsub(p, '[{}]', '')) or nil
end
-- A conversation's bucket base (SPLIT): its id's last two hex digits,
-- else the sum of its bytes, mod 256 (store::Keys::bucket_of).
local function tb_(id)
  local k = tonumber(string.sub(id, -2), 16)
  if not k or #id < 2 or string.find(string.sub(id, -2), '[^0-9a-f]') then
    k = 0
    for i = 1, #id do k = k + string.byte(id, i) end
    k = k % 256
  end
  return TALK .. '{t' .. k .. '}:'
end
local function tk_(id, base)  -- base: tb_(id) when the caller has it
  if SPLIT then return (base or tb_(id)) .. 'conv:' .. id end
  return ck(id)
end
-- The fields copied into the talk hash (copy_take.lua, copy_put.lua).
local COPIED = {'status', 'visitor', 'agent', 'offered_to', 'team', 'ticket', 'sla_first_response',
  'sla_next_response', 'sla_ratio'}
-- Whether the keys named (a talk side's, its bucket's) are all served here
-- now (SPLIT). While a Redis Cluster moves a bucket's slot its keys go one
-- by one, and a script that met a moved key midway would stop with its
-- writes until then kept (a client_msg_id claimed, its message appended,
-- the seq not counted): a step that touches a conversation it did not
-- declare asks first for every key it may write, and answers TRYAGAIN
-- (store::Db: unavailable, the client retries) if one is not here.
local function talk_here(...)
  return type(redis.pcall('EXISTS', ...)) == 'number'
end
local function moving() return redis.error_reply('TRYAGAIN the conversation is moving') end
local function touch(conv)
  if not SPLIT then return end
  redis.call('HINCRBY', ck(conv), 'rev', 1)
  redis.call('SADD', P .. 'copies', conv)
end
local function ak(id) return P .. 'agent:' .. id end
local function qk(team) return P .. 'queue:' .. team end
local function num(v) return tonumber(v) or 0 end
local function err(code, text) return redis.error_reply(code .. ' ' .. text) end

-- May `role`/`user` (an agent of the comma-separated `teams`) see the
-- conversation whose visitor, agent, offered_to and team are given?
local function can_see(role, user, teams, visitor, agent, offered_to, team)
  if role == 'supervisor' then return true end
  if role == 'customer' then return visitor == user end
  if agent == user or offered_to == user then return true end
  return string.find(',' .. teams .. ',', ',' .. (team or '') .. ',', 1, true) ~= nil
end

-- Hands an offered chat back to its team's queue at its old place and
-- remembers who let it go, so that agent is skipped for a while.
local function release_offer(conv, agent, team, score, now)
  redis.call('ZREM', P .. 'offers', conv)
  redis.call('SREM', ak(agent) .. ':offers', conv)
  redis.call('HSET', ck(conv), 'status', 'queued', 'offered_to', '')
  touch(conv)
  redis.call('ZADD', qk(team), score, conv)
  redis.call('HSET', ck(conv) .. ':declined', agent, now)
  if redis.call('HINCRBY', ak(agent), 'offered', -1) < 0 then redis.call('HSET', ak(agent), 'offered', 0) end
end

-- Withdraws a pending offer without handing the chat back (it is being
-- resolved or assigned).
local function drop_offer(conv, agent)
  redis.call('ZREM', P .. 'offers', conv)
  if agent == nil or agent == '' then return end
  redis.call('SREM', ak(agent) .. ':offers', conv)
  if redis.call('HINCRBY', ak(agent), 'offered', -1) < 0 then redis.call('HSET', ak(agent), 'offered', 0) end
end

-- Takes one chat off an agent's load (and off its team's active set).
local function unload(agent, conv)
  if agent == nil or agent == '' then return end
  redis.call('SREM', P .. 'active:' .. (redis.call('HGET', ck(conv), 'team') or ''), conv)
  if redis.call('HINCRBY', ak(agent), 'active', -1) < 0 then redis.call('HSET', ak(agent), 'active', 0) end
  redis.call('SREM', ak(agent) .. ':convs', conv)
end

-- Writes a new ticket, its indexes, its first timeline entry and the link
-- from its conversation (checks are the caller's).
-- A visitor with a chat or a ticket is kept for good: the record (and the
-- verified user's link to it) loses the expiry a new visitor gets.
local function keep_visitor(visitor)
  local vk = P .. 'visitor:' .. visitor
  local v = redis.call('HMGET', vk, 'kept', 'user_id')
  if v[1] == '1' then return end
  redis.call('HSET', vk, 'id', visitor, 'kept', '1')
  redis.call('PERSIST', vk)
  if v[2] and v[2] ~= '' then redis.call('PERSIST', P .. 'visitor_by_user:' .. v[2]) end
end

local function create_ticket(id, subject, requester, rname, status, priority, team, assignee, aname, tags, via, conv,
                             follow, actor, now)
  local tk = P .. 'ticket:' .. id
  redis.call('HSET', tk, 'id', id, 'subject', subject, 'requester', requester, 'requester_name', rname,
    'status', status, 'priority', priority, 'team', team, 'assignee', assignee, 'assignee_name', aname,
    'tags', tags, 'via', via, 'conversation', conv, 'follow_up_of', follow, 'created_at', now, 'updated_at', now)
  redis.call('ZADD', P .. 'tickets', now, id)
  redis.call('ZADD', P .. 'tickets:updated', now, id)
  if requester ~= '' then
    redis.call('ZADD', P .. 'visitor:' .. requester .. ':tickets', now, id)
    keep_visitor(requester)
  end
  if conv ~= '' then
    redis.call('HSET', ck(conv), 'ticket', id)
    touch(conv)
    redis.call('SADD', tk .. ':convs', conv)
  end
  redis.call('XADD', tk .. ':events', '*', 'ts', now, 'actor', actor, 'what', 'created', 'from', '', 'to', status)
  if follow ~= '' then
    redis.call('XADD', P .. 'ticket:' .. follow .. ':events', '*', 'ts', now, 'actor', actor, 'what', 'follow_up', 'from', '', 'to', id)
  end
  return tk
end

-- Live metrics samples (app/metrics.cpp reads them into core::LiveWindow):
-- one stream entry per first response (fr), first assignment (qw), SLA
-- breach (breach) and assessment (assess), kept for a day and a bit.
local function metric_sample(kind, conv, team, agent, value, now)
  local args = {'XADD', P .. 'metrics:samples'}
  local oldest = tonumber(now) - 26 * 3600 * 1000
  if oldest > 0 then
    args[#args + 1] = 'MINID'
    args[#args + 1] = '~'
    args[#args + 1] = oldest
  end
  for _, v in ipairs({'*', 'k', kind, 'c', conv, 't', team or '', 'a', agent or '', 'v', value, 'at', now}) do
    args[#args + 1] = v
  end
  redis.call(unpack(args))
end

-- Records one breach of a record's target: on the record (how late, and
-- its count for reports), for its team and agent, and as a live sample.
local function sla_breached(id, key, metric, late, now, team, agent)
  redis.call('HSETNX', key, 'breach_' .. metric, late)
  redis.call('HINCRBY', key, 'out_' .. metric .. '_breached', 1)
  redis.call('HINCRBY', P .. 'sla:team:' .. team, metric .. '.breached', 1)
  if agent ~= nil and agent ~= '' then redis.call('HINCRBY', P .. 'sla:agent:' .. agent, metric .. '.breached', 1) end
  redis.call('HINCRBY', P .. 'sla:breaches', metric, 1)
  metric_sample('breach', id, team, agent, metric, now)
end

-- SLA timers live in the sorted set `sla` as "<id>|<metric>|warn" and
-- "<id>|<metric>|breach" (a conversation's or a ticket's id), scored by
-- when they fire (sla_due.lua). The policy's targets are recorded on the
-- record (conversation or ticket) when it starts.
local function record_key(id)
  if string.sub(id, 1, 2) == 't_' then return P .. 'ticket:' .. id end
  return ck(id)
end

-- When each target of the caller's policy warns and falls due, as core
-- computed them in the team's business hours (store/sla_args.hpp): nine
-- values from ARGV[i], warn, due and target for first_response,
-- next_response and resolution, '' where there is no target.
-- Returns {metric = {warn, due, target}}.
local function sla_deadlines(i)
  local d = {}
  for k, m in ipairs({'first_response', 'next_response', 'resolution'}) do
    local j = i + 3 * (k - 1)
    local warn, due, target = tonumber(ARGV[j]), tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2])
    if warn and due and target then d[m] = {warn, due, target} end
  end
  return d
end

-- Arms a target of the record if its policy has one: at `at` = {warn, due,
-- target} when the caller passed core's deadlines for the record's target
-- (see sla_deadlines), else on the wall clock from `from` (callers not yet
-- given deadlines, or a record started under another policy).
-- When a target of `target` ms (0: none) with warning ratio `ratio` warns
-- and falls due for a wait from `from`: core's deadlines `at` when they were
-- computed for that target, else the wall clock. nil when there is no target.
local function sla_plan(target, ratio, from, at)
  target = num(target)
  if target <= 0 then return nil end
  if at and at[3] == target then return at[1], at[2] end
  return from + math.floor(target * (tonumber(ratio) or 0.8)), from + target
end

-- The ZADD arguments of a target's two timers in `sla`: warn, then breach.
local function sla_timers(id, metric, warn, due)
  return warn, id .. '|' .. metric .. '|warn', due, id .. '|' .. metric .. '|breach'
end

local function sla_arm(id, metric, from, at)
  local key = record_key(id)
  local f = redis.call('HMGET', key, 'sla_' .. metric, 'sla_ratio')
  local warn, due = sla_plan(f[1], f[2], from, at)
  if not warn then return end
  redis.call('ZADD', P .. 'sla', sla_timers(id, metric, warn, due))
  redis.call('HSET', key, 'sla_due_' .. metric, due)
end

-- Stops a running target whose timers are in `base` .. 'sla' (the routing
-- slot's, P, or a talk bucket's) and counts it met there when answered in
-- time: on the record `key` and for the team and agent. Returns 'met', or
-- 'breached' and how late (ms), or nil when nothing was pending. `due` is
-- the record's sla_due_<metric> when the caller has read it already.
-- A warning never outlives its breach entry (warning_ratio <= 1, and the
-- sweep drops the warning with the breach), so removing both and finding
-- either means the breach was still pending.
local function sla_stop(id, metric, now, team, agent, due, key, base)
  local pending = redis.call('ZREM', base .. 'sla', id .. '|' .. metric .. '|warn', id .. '|' .. metric .. '|breach')
  if pending == 0 then return nil end
  due = num(due or redis.call('HGET', key, 'sla_due_' .. metric))
  if now > due then return 'breached', now - due end
  redis.call('HINCRBY', key, 'out_' .. metric .. '_met', 1)
  redis.call('HINCRBY', base .. 'sla:team:' .. team, metric .. '.met', 1)
  if agent ~= nil and agent ~= '' then redis.call('HINCRBY', base .. 'sla:agent:' .. agent, metric .. '.met', 1) end
  return 'met'
end

-- Stops a running target of a record in the routing slot and counts it
-- once, a breach too (unless the sweep already counted it).
local function sla_settle(id, metric, now, team, agent, due)
  local key = record_key(id)
  local outcome, late = sla_stop(id, metric, now, team, agent, due, key, P)
  if outcome == 'breached' then sla_breached(id, key, metric, late, now, team, agent) end
  return outcome
end

-- Where a record's response waits are kept: its hash and the timers' set.
-- A conversation's on a Redis Cluster are on its talk side (SPLIT).
local function clock_home(id)
  if SPLIT and string.sub(id, 1, 2) ~= 't_' then return tk_(id), tb_(id) .. 'sla' end
  return record_key(id), P .. 'sla'
end

-- Ends the response targets of a record (answered or closed without it),
-- whose timers are in `timers` (the routing slot's by default; a
-- conversation's on a Redis Cluster are its bucket's: copy_put.lua).
local function sla_clear_responses(id, timers)
  timers = timers or P .. 'sla'
  for _, m in ipairs({'first_response', 'next_response'}) do
    redis.call('ZREM', timers, id .. '|' .. m .. '|warn', id .. '|' .. m .. '|breach')
  end
end

-- Starts a ticket's clock: its policy, its resolution target, and the first
-- response target when the customer has already written (a chat kept as a
-- ticket); `at` is sla_deadlines' table.
local function ticket_sla_start(id, policy, first, next_, resolution, ratio, now, customer_wrote, at)
  at = at or {}
  redis.call('HSET', P .. 'ticket:' .. id, 'sla_policy', policy, 'sla_first_response', first, 'sla_next_response', next_,
    'sla_resolution', resolution, 'sla_ratio', ratio)
  sla_arm(id, 'resolution', tonumber(now), at.resolution)
  if customer_wrote then
    redis.call('HSET', P .. 'ticket:' .. id, 'waiting_since', now)
    sla_arm(id, 'first_response', tonumber(now), at.first_response)
  end
end
