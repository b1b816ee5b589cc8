--- Bulk operations: one script per chunk of records.
--- bulk_insert(ids, ix, uq, exp, ch, prefix, mode, ttl, items) writes a chunk of new records.
---   KEYS: ids (the model's id set), every index / unique key named in ix and uq, and the expiry
---         keys exp (the ix, uq, exp and ch tables of st_indexed, lua/lib/index.lua); record keys are
---         prefix .. id, built here (they share the model's hash tag).
---   ARGV: prefix, ttl (ms, 0 = none: a replaced record keeps its TTL), and items: one list holding,
---         per record, its id, its field count n, then n entries (field, value, field, value...).
---   mode: 'error' (an existing id raises CONFLICT, a taken unique value UNIQUE: nothing written),
---         'skip' (such items are left out), 'replace' (an existing id is overwritten, like save;
---         a unique value held by another record still raises UNIQUE).
---   Returns one entry per item: the new version, or '' when skipped.
---   Items apply in order: an id or a unique value claimed earlier in the chunk counts as taken.
---   Every check runs first, against a simulation of the chunk's own writes (ids claimed, unique
---   values claimed and released), so the writes that follow (rec_write) cannot fail halfway.
--- bulk_read(prefix, ids, slide): the whole hash of each record (an empty list when absent), in
--- order; with `slide` (ms, a sliding TTL) each record read gets its TTL re-armed to it.
--- @include "state"
--- @include "fail"
--- @include "index"
--- @include "record"
local function bulk_insert(ids, ix, uq, exp, ch, prefix, mode, ttl, items)
  local recs, at = {}, 1
  while at <= #items do
    local n = tonumber(items[at + 1])
    recs[#recs + 1] = { id = items[at], from = at + 2, to = at + 1 + n }
    at = at + 2 + n
  end
  -- checks: nothing is written until every item is decided
  local claimed = {}   -- id -> the unique fields' values it holds after earlier items, or nil
  local owner = {}     -- uq index -> value -> id or false (released), overriding the stored hash
  for j = 1, #uq do owner[j] = {} end
  local function holder(j, v)
    local o = owner[j][v]
    if o == nil then
      o = redis.call('HGET', uq[j][2], v)
      -- an expired owner (no sweep reached it yet) holds nothing
      if o and redis.call('EXISTS', prefix .. o) == 0 then o = false end
    end
    return o or nil
  end
  local out = {}
  for i, r in ipairs(recs) do
    local key = prefix .. r.id
    local held = claimed[r.id]
    local exists = held ~= nil or redis.call('EXISTS', key) == 1
    local ok = true
    if exists and mode ~= 'replace' then
      if mode == 'error' then fail_item('CONFLICT', i, 'record ' .. r.id .. ' already exists') end
      ok = false
    end
    local new = {}
    if ok and #uq > 0 then
      local kv = {}
      for k = r.from, r.to, 2 do kv[items[k]] = items[k + 1] end
      for j, u in ipairs(uq) do
        new[j] = kv[u[1]] or false
        local o = new[j] and holder(j, new[j])
        if o and o ~= r.id then
          if mode == 'skip' then ok = false break end
          fail_item('UNIQUE', i, u[1] .. ' ' .. new[j] .. ' is already taken by ' .. o, u[1])
        end
      end
    end
    r.ok = ok
    if ok then
      if #uq > 0 then
        if held == nil then
          held = {}
          for j, u in ipairs(uq) do held[j] = exists and redis.call('HGET', key, u[1]) or false end
        end
        for j = 1, #uq do
          local old = held[j]
          if old ~= new[j] then
            if old and holder(j, old) == r.id then owner[j][old] = false end
            if new[j] then owner[j][new[j]] = r.id end
          end
        end
      end
      claimed[r.id] = new
    end
  end
  -- writes
  for i, r in ipairs(recs) do
    if r.ok then
      local s = st_indexed(st_new(prefix .. r.id), r.id, ix, uq, exp, ch)
      local kv = {}
      for k = r.from, r.to do kv[#kv + 1] = items[k] end
      out[i] = rec_write(s, ids, r.id, kv, 'replace', ttl)
    else
      out[i] = ''
    end
  end
  return out
end

local function bulk_read(prefix, ids, slide)
  local out = {}
  for i, id in ipairs(ids) do
    out[i] = redis.call('HGETALL', prefix .. id)
    if slide and #out[i] > 0 then redis.call('PEXPIRE', prefix .. id, slide) end
  end
  return out
end
