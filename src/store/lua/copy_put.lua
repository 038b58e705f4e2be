-- KEYS: a key of the talk side's slot that never exists (Keys::talk_route).
-- ARGV: prefix, conv, rev, then the COPIED fields' values (prelude.lua).
-- Writes the routing record's fields into the talk side unless it already
-- has that revision or a later one (revisions only grow, so a late or
-- repeated copy changes nothing). A conversation that left the chat
-- (resolved, or kept as a ticket) waits for no reply: its wait and its
-- response timers in the bucket are cleared.
-- Returns 1 when written, 0 when the talk side was as new.
local conv, rev = ARGV[2], tonumber(ARGV[3])
local k = tk_(conv)
if num(redis.call('HGET', k, 'rev')) >= rev then return 0 end
local set = {'rev', rev}
for i, field in ipairs(COPIED) do
  set[#set + 1] = field
  set[#set + 1] = ARGV[3 + i]
end
if ARGV[4] == 'resolved' or ARGV[4] == 'ticket' then
  set[#set + 1] = 'waiting_since'
  set[#set + 1] = ''
  sla_clear_responses(conv, tb_(conv) .. 'sla')
end
redis.call('HSET', k, unpack(set))
return 1
