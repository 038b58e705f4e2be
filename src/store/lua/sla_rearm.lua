-- ARGV: prefix, id, metric, from, target, warn_at, due_at
-- Moves a running response wait of a conversation or ticket to the
-- deadlines core computed in its team's business hours (send.lua arms it on
-- the wall clock, now + target, so the hot path needs no read of the hours).
-- Only the wait it was computed for: the record still waits since `from`,
-- its target is still `target`, and neither the answer (sla_settle) nor the
-- sweep (sla_due.lua) has ended it; a warning that already fired is not
-- armed again. Returns 1 when moved, 0 when the wait was not that one.
local id, metric, from, target = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local warn, due = tonumber(ARGV[6]), tonumber(ARGV[7])
local key, timers = clock_home(id)  -- SPLIT: a conversation's talk side (KEYS routes it there)
local c = redis.call('HMGET', key, 'waiting_since', 'sla_' .. metric)
if c[1] ~= from or num(c[2]) ~= tonumber(target) then return 0 end
local member = id .. '|' .. metric .. '|'
if not redis.call('ZSCORE', timers, member .. 'breach') then return 0 end
if redis.call('ZSCORE', timers, member .. 'warn') then
  redis.call('ZADD', timers, 'XX', warn, member .. 'warn')
end
redis.call('ZADD', timers, 'XX', due, member .. 'breach')
redis.call('HSET', key, 'sla_due_' .. metric, due)
return 1
