-- KEYS: the counter. ARGV: window_ms, restart ('1': every event starts the window anew)
-- Counts one event in a window that Redis expires. Returns {count, ms left
-- in the window}. The limits themselves are core::rate_decision's.
local n = redis.call('INCR', KEYS[1])
if n == 1 or ARGV[2] == '1' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
