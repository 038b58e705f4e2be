-- ARGV: prefix, now, max
-- Claims the follow-ups that fell due (each exactly once, whichever process
-- asks first). Those whose owner has no connection anywhere wait in the
-- owner's due_pending set for their next hello. Returns {id, owner, delivered(0|1), ...}.
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'followups:due', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', P .. 'followups:due', id)
  local f = redis.call('HMGET', P .. 'followup:' .. id, 'status', 'owner')
  if f[1] == 'open' then
    redis.call('HSET', P .. 'followup:' .. id, 'fired', '1', 'fired_at', ARGV[2])
    local online = num(redis.call('HGET', ak(f[2]), 'conns')) > 0
    if not online then redis.call('SADD', P .. 'agent:' .. f[2] .. ':due_pending', id) end
    out[#out + 1] = id
    out[#out + 1] = f[2]
    out[#out + 1] = online and 1 or 0
  end
end
return out
