-- ARGV: prefix, now, queue_scan
-- The live gauges of the whole deployment, read in one round trip: O(teams
-- + agents), never a scan of conversations (active chats are counted from
-- each team's `active:<team>` set, kept as chats are taken and let go).
-- Also samples the queue once a minute for the dashboard's charts.
-- Returns {teams, agents, series, met_only_open, followups_overdue} with
--   teams  {team, queue_length, oldest_created_at, online, available, active, ...}
--   agents {id, name, teams, status, active, capacity, available (0|1), followups_open, followups_overdue, ...}
--   series {minute, queue_length, longest_wait_ms, ...} for the last hour.
local now, scan = tonumber(ARGV[2]), tonumber(ARGV[3])
local teams = redis.call('SMEMBERS', P .. 'teams')
table.sort(teams)
local out_teams, out_agents, seen = {}, {}, {}
local total_queue, oldest_all = 0, 0
for _, team in ipairs(teams) do
  local qlen = redis.call('ZCARD', qk(team))
  -- The longest wait among the first `scan` in queue order: priority can
  -- put a younger chat first, never more than `scan` of them in practice.
  local oldest = 0
  if qlen > 0 then
    for _, cid in ipairs(redis.call('ZRANGE', qk(team), 0, scan - 1)) do
      local created = num(redis.call('HGET', ck(cid), 'created_at'))
      if created > 0 and (oldest == 0 or created < oldest) then oldest = created end
    end
  end
  total_queue = total_queue + qlen
  if oldest > 0 and (oldest_all == 0 or oldest < oldest_all) then oldest_all = oldest end
  local online, available = 0, 0
  local members = redis.call('SMEMBERS', P .. 'team:' .. team .. ':agents')
  table.sort(members)
  for _, a in ipairs(members) do
    local f = redis.call('HMGET', ak(a), 'status', 'capacity', 'active', 'offered', 'conns', 'name', 'teams')
    -- Without a live session an agent is offline, whatever was set last.
    local status = num(f[5]) > 0 and (f[1] or 'offline') or 'offline'
    local free = status == 'online' and num(f[3]) + num(f[4]) < num(f[2])
    if status == 'online' then online = online + 1 end
    if free then available = available + 1 end
    if not seen[a] then
      seen[a] = true
      local fk = ak(a) .. ':followups'
      for _, v in ipairs({a, f[6] or a, f[7] or '', status, num(f[3]), num(f[2]), free and 1 or 0,
                          redis.call('ZCARD', fk), redis.call('ZCOUNT', fk, '-inf', now)}) do
        out_agents[#out_agents + 1] = v
      end
    end
  end
  for _, v in ipairs({team, qlen, oldest, online, available, redis.call('SCARD', P .. 'active:' .. team)}) do
    out_teams[#out_teams + 1] = v
  end
end

-- One point a minute, taken by whichever process reads first in that minute.
local minute = now - now % 60000
local sk = P .. 'metrics:series'
if num(redis.call('GET', sk .. ':last')) < minute then
  redis.call('SET', sk .. ':last', minute)
  local wait = oldest_all > 0 and math.max(0, now - oldest_all) or 0
  redis.call('ZADD', sk, minute, minute .. '|' .. total_queue .. '|' .. wait)
  redis.call('ZREMRANGEBYSCORE', sk, '-inf', minute - 2 * 3600 * 1000)
end
local series = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', sk, minute - 59 * 60000, minute)) do
  for part in string.gmatch(m, '[^|]+') do series[#series + 1] = tonumber(part) end
end

return {out_teams, out_agents, series, redis.call('ZCARD', P .. 'reviews'),
        redis.call('ZCOUNT', P .. 'followups:open', '-inf', now)}
