-- ARGV: prefix, agent, status, capacity ('' keeps it)
-- Returns {status, capacity, teams}.
local agent, status, cap = ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', ak(agent)) == 0 then return err('not_found', 'no such agent') end
redis.call('HSET', ak(agent), 'status', status)
if cap ~= '' then redis.call('HSET', ak(agent), 'capacity', cap) end
local f = redis.call('HMGET', ak(agent), 'capacity', 'teams')
return {status, tonumber(f[1]) or 0, f[2] or ''}
