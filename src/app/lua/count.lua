-- ARGV: prefix, key (after the prefix), window_ms, restart ('1': every event starts the window anew)
-- Counts one event in a window that Redis expires. Returns {count, ms left
-- in the window}. The limits themselves are core::rate_decision's.
local k = P .. ARGV[2]
local n = redis.call('INCR', k)
if n == 1 or ARGV[4] == '1' then redis.call('PEXPIRE', k, ARGV[3]) end
return {n, redis.call('PTTL', k)}
