-- ARGV: prefix, count
-- Up to `count` conversations whose talk side needs the record's fields
-- (listed in `copies` by touch() in prelude.lua): for each, the id, the
-- record's rev (0 when the record is gone) and the COPIED fields ('' each
-- when unset), flat. store::Db::sync_copies writes them with copy_put.lua
-- and then clears the entries with copy_done.lua.
local out = {}
for _, conv in ipairs(redis.call('SRANDMEMBER', P .. 'copies', tonumber(ARGV[2]))) do
  local f = redis.call('HMGET', ck(conv), 'rev', unpack(COPIED))
  out[#out + 1] = conv
  out[#out + 1] = tostring(num(f[1]))
  for i = 2, #COPIED + 1 do out[#out + 1] = f[i] or '' end
end
return out
