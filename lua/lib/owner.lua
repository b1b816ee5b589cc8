--- Owners of unique values across shards (a sharded model on a cluster; the protocol is
--- src/model/unique.ts). A value's owner lives in an owner bucket, a HASH in a hash tag of its own
--- (`{<Model>#uq:<b>}:<field>`, b from the value, never the record's tag): value -> entry, where an
--- entry is
---   'p|<deadline>|<token>|<id>'  reserved for record <id> by the claim <token>: its record write
---                                 may land until <deadline> (ms, server time), never after
---   'c|<token>|<id>'             confirmed: record <id> got the value under the claim <token>
--- Every claim writes a fresh token, so an entry read once is never seen again once changed, and a
--- compare-and-swap on the whole entry (uq_swap) acts only on what its caller verified.
--- Items name the bucket key by its field: keys are `prefix .. field`, all in the route key's slot.
--- @include "fail"

-- the server's clock in ms
local function uq_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- an entry's state ('p' or 'c'), deadline (pending only), token and id
local function uq_parse(e)
  local d, t, id = string.match(e, '^p|(%d+)|([^|]*)|(.*)$')
  if d then return 'p', tonumber(d), t, id end
  t, id = string.match(e, '^c|([^|]*)|(.*)$')
  return 'c', nil, t, id
end

--- uq_claim(route, prefix, items, lease_ms, skew_ms): reserves values. items: per value its field,
--- the value, the claiming record's id, a fresh token and `expect` ('' or the entry the caller
--- verified: its record does not hold the value). Returns { deadline, status1, detail1, ... }:
---   'ok', previous entry ('' if none)  reserved: the entry is now 'p|deadline|token|id'
---   'taken', owner id                  another record's claim is in flight (before its deadline + skew)
---   'verify', entry                    another record owns it (confirmed, or pending past its
---                                      deadline + skew): the caller checks that record and claims
---                                      again with expect = entry, or reports the violation
---   'again', entry                     the entry changed since the caller verified it
--- A record's own entry is always taken over (with a new token), so no older claim can be
--- confirmed or released under it. skew_ms covers clocks of masters that disagree: the record
--- write checks the deadline on its own master's clock.
local function uq_claim(route, prefix, items, lease, skew)
  local now = uq_now()
  local deadline = string.format('%d', now + tonumber(lease))
  local out = { deadline }
  for i = 1, #items, 5 do
    local key, v, id, token, expect = prefix .. items[i], items[i + 1], items[i + 2], items[i + 3], items[i + 4]
    local e = redis.call('HGET', key, v)
    local status, detail = 'ok', e or ''
    if e and expect ~= '' then
      if e ~= expect then status = 'again' end
    elseif e then
      local state, d, _, owner = uq_parse(e)
      if owner ~= id then
        if state == 'p' and now < d + tonumber(skew) then status, detail = 'taken', owner
        else status = 'verify' end
      end
    end
    if status == 'ok' then redis.call('HSET', key, v, 'p|' .. deadline .. '|' .. token .. '|' .. id) end
    out[#out + 1] = status
    out[#out + 1] = detail
  end
  return out
end

-- the entry of `value` in the owner bucket `key` ('' when the value has no owner)
local function uq_entry(key, value)
  return redis.call('HGET', key, value) or ''
end

--- uq_swap(route, prefix, items): per item field, value, expect, new: when the entry is exactly
--- `expect` ('' when there is none), sets it to `new` ('' deletes it). Confirms a claim (expect
--- its pending entry, new its confirmed one), restores the entry a failed claim replaced, drops an
--- owner whose record was verified not to hold the value. Returns per item 1 (swapped) or 0.
local function uq_swap(route, prefix, items)
  local out = {}
  for i = 1, #items, 4 do
    local key, v, new = prefix .. items[i], items[i + 1], items[i + 3]
    out[#out + 1] = 0
    if uq_entry(key, v) == items[i + 2] then
      if new == '' then redis.call('HDEL', key, v) else redis.call('HSET', key, v, new) end
      out[#out] = 1
    end
  end
  return out
end

--- uq_get(route, prefix, items): per field/value pair, its entry ('' when it has no owner).
local function uq_get(route, prefix, items)
  local out = {}
  for i = 1, #items, 2 do out[#out + 1] = uq_entry(prefix .. items[i], items[i + 1]) end
  return out
end

--- uq_lease(key, deadline, fields): the first step of a record write under claims: LEASE when the
--- server's clock is past `deadline` (the earliest deadline of the write's claims; '' for none),
--- so a writer slower than its lease never writes; nothing is written before it. Returns the values
--- `fields` of hash `key` hold before the write (false where absent), which the writer releases after.
local function uq_lease(key, deadline, fields)
  if deadline ~= '' and uq_now() > tonumber(deadline) then
    fail('LEASE', 'the unique value claims of this write expired (deadline ' .. deadline .. ') before it ran')
  end
  if #fields == 0 then return {} end
  return redis.call('HMGET', key, unpack(fields))
end

--- uq_holds(s, pairs): per field/value pair, 1 when record state s's hash (a live record) holds
--- that value (an expired record holds nothing).
local function uq_holds(s, pairs)
  local out = {}
  for i = 1, #pairs, 2 do
    local v = redis.call('HGET', s.key, pairs[i])
    out[#out + 1] = (v == pairs[i + 1]) and 1 or 0
  end
  return out
end

--- uq_scan(key, cursor, count, skew_ms): one HSCAN step of an owner bucket: { next cursor, value1,
--- entry1, ... }, without the pending entries still in flight (before their deadline + skew).
local function uq_scan(key, cursor, count, skew)
  local r = redis.call('HSCAN', key, cursor, 'COUNT', count)
  local now = uq_now()
  local out = { r[1] }
  for i = 1, #r[2], 2 do
    local state, d = uq_parse(r[2][i + 1])
    if state == 'c' or now >= d + tonumber(skew) then
      out[#out + 1] = r[2][i]
      out[#out + 1] = r[2][i + 1]
    end
  end
  return out
end
