-- ARGV: prefix, visitor_id, name, email, user_id, now, idle_ttl_s
-- Writes a visitor record. A visitor who never started a chat or a ticket
-- expires after idle_ttl_s (with the id its verified user_id maps to);
-- keep_visitor() in the prelude makes the record permanent once they do.
local vk = P .. 'visitor:' .. ARGV[2]
redis.call('HSET', vk, 'id', ARGV[2], 'name', ARGV[3], 'email', ARGV[4], 'user_id', ARGV[5], 'created_at', ARGV[6])
if redis.call('HGET', vk, 'kept') ~= '1' then
  redis.call('EXPIRE', vk, ARGV[7])
  if ARGV[5] ~= '' then redis.call('EXPIRE', P .. 'visitor_by_user:' .. ARGV[5], ARGV[7]) end
end
return 1
