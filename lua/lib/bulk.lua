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
  local b = { ids = {}, ix = {}, uq = {}, heads = {} }
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
  local function clear(t)
    for i = #t, 1, -1 do t[i] = nil end
  end
  for j, x in ipairs(ix) do
    if #b.ix[j] > 0 then bulk_send('ZADD', x[2], b.ix[j]) end
    clear(b.ix[j])
  end
  for j, u in ipairs(uq) do
    if #b.uq[j] > 0 then bulk_send('HSET', u[2], b.uq[j]) end
    clear(b.uq[j])
  end
  bulk_send('ZADD', ids, b.ids)
  clear(b.ids)
end

-- a new record (see the header): its hash written straight from `items` (entries from .. to), its
-- entries gathered into b; version '1'. `at` maps each index / unique field to its entries in b
-- (see bulk_insert), so the record's fields are walked once and nothing is copied.
local function bulk_new(b, at, key, id, ch, items, from, to)
  if to - from < 3998 then
    redis.call('HSET', key, '#v', '1', unpack(items, from, to))
  else
    redis.call('HSET', key, '#v', '1', unpack(items, from, from + 3997))
    for i = from + 3998, to, 4000 do redis.call('HSET', key, unpack(items, i, math.min(i + 3999, to))) end
  end
  for k = from, to, 2 do
    local f = at[items[k]]
    if f then
      local v = items[k + 1]
      for _, e in ipairs(f) do
        local x, list = e[1], e[2]
        -- scores go as the text they are ('0', the stored number): a Lua number would be
        -- printed back to text for Redis, at the cost of a snprintf each
        if x == 'n' then
          list[#list + 1] = v
          list[#list + 1] = id
        elseif x == 's' then
          list[#list + 1] = '0'
          list[#list + 1] = ix_member_in(b.heads, v, id)
        elseif x == 't' then
          tx_sync(e[3], id, false, v)
        else
          list[#list + 1] = v
          list[#list + 1] = id
        end
      end
    end
  end
  b.ids[#b.ids + 1] = '0'
  b.ids[#b.ids + 1] = id
  if ch then
    local kv = {}
    for k = from, to do kv[#kv + 1] = items[k] end
    ch_written(ch, id, '1', kv, nil)
  end
  return '1'
end

-- field -> the entries a new record's value of it goes to: { type ('n', 's', 't' or 'u' for a
-- unique value), b's list for it, the word list key of a 't' index }
local function bulk_targets(b, ix, uq)
  local at = {}
  local function add(f, e)
    at[f] = at[f] or {}
    at[f][#at[f] + 1] = e
  end
  for j, x in ipairs(ix) do add(x[1], { x[3], b.ix[j], x[2] }) end
  for j, u in ipairs(uq) do add(u[1], { 'u', b.uq[j] }) end
  return at
end

local function bulk_insert(ids, ix, uq, exp, ch, chain, step, steps, prefix, mode, ttl, items)
  if step and step ~= '1' and redis.call('GET', chain) ~= tostring(tonumber(step) - 1) then return {} end
  -- the items, as parallel lists (a table per record would grow a hash part field by field)
  local rid, rfrom, rto, rfresh, rok = {}, {}, {}, {}, {}
  local at = 1
  while at <= #items do
    local i = #rid + 1
    rid[i], rfrom[i], rto[i] = items[at], at + 2, at + 1 + tonumber(items[at + 1])
    at = rto[i] + 1
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
  -- without unique fields a record claims no value: one shared empty list
  local none = {}
  for i, id in ipairs(rid) do
    local key = prefix .. id
    local held = claimed[id]
    local exists = held ~= nil or redis.call('EXISTS', key) == 1
    rfresh[i] = not exists
    local ok = true
    if exists and mode ~= 'replace' then
      if mode == 'error' then fail_item('CONFLICT', i, 'record ' .. id .. ' already exists') end
      ok = false
    end
    local new = none
    if ok and #uq > 0 then
      new = {}
      local kv = {}
      for k = rfrom[i], rto[i], 2 do kv[items[k]] = items[k + 1] end
      for j, u in ipairs(uq) do
        new[j] = kv[u[1]] or false
        local o = new[j] and holder(j, new[j])
        if o and o ~= id then
          if mode == 'skip' then ok = false break end
          fail_item('UNIQUE', i, u[1] .. ' ' .. new[j] .. ' is already taken by ' .. o, u[1])
        end
      end
    end
    rok[i] = ok
    if ok then
      if #uq > 0 then
        if held == nil then
          held = {}
          for j, u in ipairs(uq) do held[j] = exists and redis.call('HGET', key, u[1]) or false end
        end
        for j = 1, #uq do
          local old = held[j]
          if old ~= new[j] then
            if old and holder(j, old) == id then owner[j][old] = false end
            if new[j] then owner[j][new[j]] = id end
          end
        end
      end
      claimed[id] = new
    end
  end
  -- writes: new records gathered (bulk_new), the others one by one once the gathered are sent
  local b = bulk_batch(ix, uq)
  local at = bulk_targets(b, ix, uq)
  local fast = tonumber(ttl) == 0
  -- an expired record leaves its entries to a sweep: a new record of its id takes rec_write's path
  local bookkept = redis.call('EXISTS', exp[2]) == 1
  for i, id in ipairs(rid) do
    if not rok[i] then
      out[i] = ''
    elseif fast and rfresh[i] and not (bookkept and redis.call('HEXISTS', exp[2], id) == 1) then
      out[i] = bulk_new(b, at, prefix .. id, id, ch, items, rfrom[i], rto[i])
    else
      bulk_flush(b, ids, ix, uq)
      local s = st_indexed(st_new(prefix .. id), id, ix, uq, exp, ch)
      local kv = {}
      for k = rfrom[i], rto[i] do kv[#kv + 1] = items[k] end
      out[i] = rec_write(s, ids, id, kv, 'replace', ttl)
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
