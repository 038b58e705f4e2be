-- ARGV: prefix, conv_id, visitor, visitor_name, team, priority, context, now, score, text, stage
-- A customer has one open conversation at a time: starting again answers
-- the open one. Returns {conv_id, status, queue_position, team, created(0|1)}.
local id, visitor, vname, team = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now, score, text = ARGV[8], ARGV[9], ARGV[10]
local vconvs = P .. 'visitor:' .. visitor .. ':convs'
for _, cid in ipairs(redis.call('ZREVRANGE', vconvs, 0, 9)) do
  local c = redis.call('HMGET', ck(cid), 'status', 'team')
  if c[1] and c[1] ~= 'resolved' then
    local pos = redis.call('ZRANK', qk(c[2]), cid)
    return {cid, c[1], pos and (pos + 1) or 0, c[2], 0}
  end
end
if redis.call('SISMEMBER', P .. 'teams', team) == 0 then return err('bad_request', 'unknown team') end
redis.call('HSET', ck(id), 'id', id, 'visitor', visitor, 'visitor_name', vname, 'team', team,
  'priority', ARGV[6], 'status', 'queued', 'created_at', now, 'score', score, 'seq', 0,
  'context', ARGV[7], 'preview', text, 'stage', ARGV[11], 'agent', '', 'offered_to', '')
redis.call('ZADD', qk(team), score, id)
redis.call('ZADD', vconvs, now, id)
redis.call('ZADD', P .. 'convs', now, id)
if text ~= '' then
  redis.call('HSET', ck(id), 'seq', 1, 'first_customer_at', now)
  redis.call('XADD', ck(id) .. ':msgs', '0-1', 'ts', now, 'role', 'customer', 'uid', visitor,
    'name', vname, 'text', text, 'cmid', '')
end
return {id, 'queued', redis.call('ZRANK', qk(team), id) + 1, team, 1}
