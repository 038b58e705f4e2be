-- ARGV: prefix, then pairs: conv, rev (as copy_take.lua read them)
-- Takes each conversation off `copies` if its record is still at the
-- revision that was copied; one changed since stays for the next copy.
local done = 0
for i = 2, #ARGV - 1, 2 do
  if tostring(num(redis.call('HGET', ck(ARGV[i]), 'rev'))) == ARGV[i + 1] then
    done = done + redis.call('SREM', P .. 'copies', ARGV[i])
  end
end
return done
