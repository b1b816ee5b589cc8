--- Bulk operations: one script per chunk of records.
--- bulk_insert(ids, ix, uq, exp, ch, chain, step, steps, prefix, mode, ttl, items) writes a chunk of
--- new records.
---   KEYS: ids (the model's id set), every index / unique key named in ix and uq, the expiry
---         keys exp (the ix, uq, exp and ch tables of st_indexed, lua/lib/index.lua), and `chain`
---         (see below); record keys are prefix .. id, built here (they share the model's hash tag).
---   ARGV: prefix, ttl (ms, 0 = none: a replaced record keeps its TTL), and items: one list holding,
---         per record, its id, its field count n, then n entries (field, value, field, value...).
---   mode: 'error' (an existing id raises CONFLICT, a taken unique value UNIQUE: nothing written),
---         'skip' (such items are left out), 'replace' (an existing id is overwritten, like save;
---         a unique value held by another record still raises UNIQUE).
---   chain, step, steps: the chunks of one call are sent several at a time, so a chunk may reach
---         Redis after an earlier one failed. Chunk `step` of `steps` (text; nil for a call of one
---         chunk) runs only when chunk step-1 completed: each completed chunk notes its step in the
---         string key `chain` (the last one deletes it), and a chunk that finds another value there
---         writes nothing and returns an empty list (no chunk is empty otherwise).
---   Returns one entry per item: the new version, or '' when skipped.
---   Items apply in order: an id or a unique value claimed earlier in the chunk counts as taken.
---   Every check runs first, against a simulation of the chunk's own writes (ids claimed, unique
---   values claimed and released), so the writes that follow cannot fail halfway.
---   A new record (no stored record, none earlier in the chunk, no expiry bookkeeping left by an
---   expired one, no model ttl) is written by bulk_new: its hash now, its id-set, index and unique
---   entries gathered and sent as multi-member ZADD / HSET (bulk_flush) before any other write of
---   the chunk and at its end, so every key ends as rec_write would leave it, in the same order;
---   any other record goes through rec_write (lua/lib/record.lua).
--- bulk_unchain(key) deletes the chain key of an insertMany, or the cursor list of an update or
--- delete by query (lua/lib/cursor.lua), that stopped before its last chunk.
--- bulk_read(prefix, ids, slide): the whole hash of each record (an empty list when absent), in
--- order; with `slide` (ms, a sliding TTL) each record read gets its TTL re-armed to it.
--- @include "state"
--- @include "fail"
--- @include "index"
--- @include "record"
--- @include "words"
--- @include "changes"
-- the gathered entries of new records: per index / unique key, one flat argument list
local function bulk_batch(ix, uq)
  local b = { ids = {}, ix = {}, uq = {} }
  for j = 1, #ix do b.ix[j] = {} end
  for j = 1, #uq do b.uq[j] = {} end
  return b
end

-- one command per key for the gathered entries (4,000 arguments at most per call: Lua's C stack)
local function bulk_send(cmd, key, list)
  for i = 1, #list, 4000 do redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list))) end
end

local function bulk_flush(b, ids, ix, uq)
  if #b.ids == 0 then return end
  for j, x in ipairs(ix) do
    if #b.ix[j] > 0 then bulk_send('ZADD', x[2], b.ix[j]) end
    b.ix[j] = {}
  end
  for j, u in ipairs(uq) do
    if #b.uq[j] > 0 then bulk_send('HSET', u[2], b.uq[j]) end
    b.uq[j] = {}
  end
  bulk_send('ZADD', ids, b.ids)
  b.ids = {}
end

-- a new record (see the header): its hash written, its entries gathered into b; version '1'
local function bulk_new(b, key, id, ix, uq, ch, items, from, to)
  local kv = {}
  for k = from, to do kv[#kv + 1] = items[k] end
  local head = math.min(#kv, 3998)
  redis.call('HSET', key, '#v', '1', unpack(kv, 1, head))
  for i = head + 1, #kv, 4000 do redis.call('HSET', key, unpack(kv, i, math.min(i + 3999, #kv))) end
  if #ix > 0 or #uq > 0 then
    local all = {}
    for i = 1, #kv, 2 do all[kv[i]] = kv[i + 1] end
    for j, x in ipairs(ix) do
      local v = all[x[1]]
      if v then
        local list = b.ix[j]
        if x[3] == 'n' then
          list[#list + 1] = tonumber(v)
          list[#list + 1] = id
        elseif x[3] == 't' then
          tx_sync(x[2], id, false, v)
        else
          list[#list + 1] = 0
          list[#list + 1] = ix_member(v, id)
        end
      end
    end
    for j, u in ipairs(uq) do
      local v = all[u[1]]
      if v then
        local list = b.uq[j]
        list[#list + 1] = v
        list[#list + 1] = id
      end
    end
  end
  b.ids[#b.ids + 1] = 0
  b.ids[#b.ids + 1] = id
  if ch then ch_written(ch, id, '1', kv, nil) end
  return '1'
end

local function bulk_insert(ids, ix, uq, exp, ch, chain, step, steps, prefix, mode, ttl, items)
  if step and step ~= '1' and redis.call('GET', chain) ~= tostring(tonumber(step) - 1) then return {} end
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
    r.fresh = not exists
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
  -- writes: new records gathered (bulk_new), the others one by one once the gathered are sent
  local b = bulk_batch(ix, uq)
  local fast = tonumber(ttl) == 0
  -- an expired record leaves its entries to a sweep: a new record of its id takes rec_write's path
  local bookkept = redis.call('EXISTS', exp[2]) == 1
  for i, r in ipairs(recs) do
    if not r.ok then
      out[i] = ''
    elseif fast and r.fresh and not (bookkept and redis.call('HEXISTS', exp[2], r.id) == 1) then
      out[i] = bulk_new(b, prefix .. r.id, r.id, ix, uq, ch, items, r.from, r.to)
    else
      bulk_flush(b, ids, ix, uq)
      local s = st_indexed(st_new(prefix .. r.id), r.id, ix, uq, exp, ch)
      local kv = {}
      for k = r.from, r.to do kv[#kv + 1] = items[k] end
      out[i] = rec_write(s, ids, r.id, kv, 'replace', ttl)
    end
  end
  bulk_flush(b, ids, ix, uq)
  if step == steps then
    if step then redis.call('DEL', chain) end
  else
    -- an abandoned chain (the client went away) expires on its own
    redis.call('SET', chain, step, 'PX', 600000)
  end
  return out
end

-- `route` is the model's id set, unused here: it is declared in KEYS so that the script runs on
-- the node holding the model's records (whose keys the script builds from `prefix`).
local function bulk_read(route, prefix, ids, slide)
  local out = {}
  for i, id in ipairs(ids) do
    out[i] = redis.call('HGETALL', prefix .. id)
    if slide and #out[i] > 0 then redis.call('PEXPIRE', prefix .. id, slide) end
  end
  return out
end

-- the chain or cursor key of a bulk call that stopped before its last chunk
local function bulk_unchain(key)
  return redis.call('DEL', key)
end
