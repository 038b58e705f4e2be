-- ARGV: prefix, conv, agent, agent_name, now
-- Returns {team, visitor, visitor_name, queue_wait_ms (-1 unless first assigned now)}.
local conv, agent, name, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = redis.call('HMGET', ck(conv), 'status', 'offered_to', 'team', 'visitor', 'assigned_at', 'visitor_name', 'created_at')
if not c[1] then return err('not_found', 'no such conversation') end
if c[1] ~= 'offered' or c[2] ~= agent then return err('conflict', 'the offer is no longer open') end
drop_offer(conv, agent)
-- The record's changes in one HSET (a burst of chats is where Redis
-- spends the most per chat; docs/PERFORMANCE.md, storm).
local set = {'status', 'active', 'agent', agent, 'agent_name', name, 'offered_to', ''}
local wait, first = -1, not c[5]
if first then
  set[#set + 1] = 'assigned_at'
  set[#set + 1] = now
  wait = tonumber(now) - num(c[7])
end
redis.call('HSET', ck(conv), unpack(set))
touch(conv)
if first then metric_sample('qw', conv, c[3], agent, wait, now) end
redis.call('HINCRBY', ak(agent), 'active', 1)
redis.call('SADD', ak(agent) .. ':convs', conv)
redis.call('SADD', P .. 'active:' .. c[3], conv)
return {c[3], c[4], c[6] or '', wait}
