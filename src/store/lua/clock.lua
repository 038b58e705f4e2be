-- ARGV: prefix, then 12 values per step: conv, seq, role, user, team, now,
-- first_customer ('1'|''), wait ('1' started, '0' ended, ''), warn, due
-- (0: no target), metric, first_response_ms (-1: not the first reply). The response clock's part of the messages of one
-- group commit on a Redis Cluster (send.lua answers it on the
-- conversation's talk side; the timers, counters and the record's times
-- are here, in the routing slot). Mirrors what send.lua does inline on one
-- primary. Steps of a conversation are applied once and in order: one at
-- or below the record's `clock_seq` is a repeat or was overtaken by a later
-- message (a wait it started was already answered) and is skipped.
-- Returns one reply per step: the metric this reply was late for, or ''.
local function step(conv, seq, role, user, team, now, first, wait, warn, due, metric, fr)
  local k = ck(conv)
  if num(redis.call('HGET', k, 'clock_seq')) >= seq then return '' end
  local set = {'clock_seq', seq}
  local breached = ''
  if first == '1' then
    set[#set + 1] = 'first_customer_at'
    set[#set + 1] = now
  end
  if wait == '1' then
    set[#set + 1] = 'waiting_since'
    set[#set + 1] = now
    if due > 0 then
      redis.call('ZADD', P .. 'sla', sla_timers(conv, metric, warn, due))
      set[#set + 1] = 'sla_due_' .. metric
      set[#set + 1] = due
    end
  else
    if fr >= 0 then
      set[#set + 1] = 'first_response_at'
      set[#set + 1] = now
      metric_sample('fr', conv, team, user, fr, now)
    end
    if wait == '0' then
      set[#set + 1] = 'waiting_since'
      set[#set + 1] = ''
      if sla_settle(conv, metric, now, team, user) == 'breached' then breached = metric end
    end
  end
  redis.call('HSET', k, unpack(set))
  return breached
end

local out = {}
for i = 2, #ARGV - 11, 12 do
  out[#out + 1] = step(ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]),
    ARGV[i + 6], ARGV[i + 7], tonumber(ARGV[i + 8]), tonumber(ARGV[i + 9]), ARGV[i + 10], tonumber(ARGV[i + 11]))
end
return out
