-- ARGV: prefix, before (an index score: the page holds mails queued at or
--       before it; '+inf' for the newest), the id of the last mail of the
--       previous page ('' for none), status ('' for any), limit, scan budget
-- A page of the mail index, newest first: the records, without their
-- bodies, of up to `limit` mails of that status, each queued one with
-- when it is next tried (next_try_at: its due time, or the end of the
-- lease while it is being sent). Index entries whose record has expired
-- are dropped as they are met. At most `budget` entries are read, so a
-- rare status cannot make one call walk the whole index.
-- Returns {cursor, {field, value, ...}, ...}: the cursor is
-- "<score>:<id>" of the last entry read, '' when the index is exhausted.
local index = P .. 'mail:index'
local due = P .. 'mail:due'
local before, after, want = ARGV[2], ARGV[3], ARGV[4]
local limit, budget = num(ARGV[5]), num(ARGV[6])
local fields = {'id', 'kind', 'to', 'to_name', 'subject', 'ticket_id', 'conversation_id', 'status', 'attempts',
  'last_error', 'created_at', 'sent_at', 'failed_at', 'retried_at', 'retried_by'}
local STATUS = 8
local items, dead = {}, {}
local scanned, offset = 0, 0
local cursor = ''
local exhausted = false
while #items < limit and scanned < budget do
  local page = redis.call('ZREVRANGEBYSCORE', index, before, '-inf', 'WITHSCORES', 'LIMIT', offset, 100)
  if #page == 0 then
    exhausted = true
    break
  end
  offset = offset + #page / 2
  for i = 1, #page, 2 do
    local id, score = page[i], page[i + 1]
    -- Mails queued in the same millisecond come in reverse id order: those
    -- down to the cursor's id were on the previous page.
    local seen = after ~= '' and tonumber(score) == tonumber(before) and id >= after
    if not seen then
      scanned = scanned + 1
      cursor = score .. ':' .. id
      local v = redis.call('HMGET', P .. 'mail:' .. id, unpack(fields))
      if not v[STATUS] then
        dead[#dead + 1] = id
      elseif want == '' or v[STATUS] == want then
        local item = {}
        for j, f in ipairs(fields) do
          if v[j] then
            item[#item + 1] = f
            item[#item + 1] = v[j]
          end
        end
        if v[STATUS] == 'queued' then
          local at = redis.call('ZSCORE', due, id)
          if at then
            item[#item + 1] = 'next_try_at'
            item[#item + 1] = at
          end
        end
        items[#items + 1] = item
      end
      if #items >= limit or scanned >= budget then break end
    end
  end
end
if #dead > 0 then redis.call('ZREM', index, unpack(dead)) end
local out = {exhausted and '' or cursor}
for _, item in ipairs(items) do out[#out + 1] = item end
return out
