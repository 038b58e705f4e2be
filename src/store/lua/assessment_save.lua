-- ARGV: prefix, conv, assessment_json, level, confidence, score, times_json, sla_policy, trigger, resolved_at, team, agent, now
-- Stores one (re)assessment of a conversation, judged by core::assess: the
-- judgement and the measured times on the record, a line in its history,
-- its place among the assessed (by resolve time) and on the supervisors'
-- review list (met and below, until one marks it reviewed; an exceeded one
-- leaves it), and the live figures' sample (a later one replaces this one
-- there). Returns 1 when it is on the review list, else 0.
local conv, level, now = ARGV[2], ARGV[4], ARGV[13]
redis.call('HSET', ck(conv), 'assessment', ARGV[3], 'assessment_level', level, 'assessment_confidence', ARGV[5],
  'times', ARGV[7], 'sla_policy', ARGV[8])
redis.call('XADD', ck(conv) .. ':assessments', '*', 'ts', now, 'level', level, 'score', ARGV[6], 'confidence', ARGV[5],
  'trigger', ARGV[9])
redis.call('ZADD', P .. 'assessed', ARGV[10], conv)
local listed = 0
if level == 'exceeded' then
  redis.call('ZREM', P .. 'reviews', conv)
elseif not redis.call('HGET', ck(conv), 'reviewed_at') then
  redis.call('ZADD', P .. 'reviews', ARGV[10], conv)
  listed = 1
end
metric_sample('assess', conv, ARGV[11], ARGV[12], level, now)
return listed
