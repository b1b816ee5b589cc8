--- Shard layouts of a sharded model (src/model/reshard.ts). Each shard's `#meta` hash may hold
--- `layout`: absent (never resharded), the shard count the last reshard left ("16"), or the move in
--- progress ("4>16").
--- shard_guard(meta, expected): raises RESHARDING (detail path = the stored layout) unless the
---   layout is absent or one of `expected` (layouts separated by `|`); every script of a sharded
---   model runs it first (reads only), so a script built for another layout never touches the shard.
--- shard_meta(meta, declared): the model-wide meta { shards, reshard } (nil where absent), recording
---   `declared` as the shard count of a model that has none yet.
--- shard_take(prefix, ids, ix, uq, exp, cursor, n): up to n ids after `cursor` (lex order of the id
---   set), each with its PTTL and whole hash: { next cursor or '', id, pttl, hash, id, pttl, hash, ... }.
--- shard_put(prefix, ids, ix, uq, exp, items): writes records verbatim (version included) with their
---   index entries and expiry; items: per record its id, pttl (<= 0: none), field count n, n entries.
---   Writing a record that is already there again (a resumed move) converges to the same state.
--- shard_drop(prefix, ids, ix, uq, exp, list): deletes the records of `list` with their entries.
--- @include "fail"
--- @include "state"
--- @include "index"
--- @include "expiry"
--- @include "record"
local function shard_guard(meta, expected)
  local v = redis.call('HGET', meta, 'layout')
  if v and not string.find('|' .. expected .. '|', '|' .. v .. '|', 1, true) then
    fail('RESHARDING', 'the shards of this model are laid out as ' .. v .. ', not ' .. expected, v)
  end
end

local function shard_meta(meta, declared)
  local got = redis.call('HMGET', meta, 'shards', 'reshard')
  -- written once: the read of a model that has its count writes nothing (it answers when Redis is full)
  if not got[1] then
    redis.call('HSETNX', meta, 'shards', declared)
    got[1] = declared
  end
  return got
end

local function shard_take(prefix, ids, ix, uq, exp, cursor, n)
  exp_sweep(prefix, ids, exp, ix, uq, nil, nil)
  local start = '-'
  if cursor ~= '' then start = '(' .. cursor end
  local chunk = redis.call('ZRANGEBYLEX', ids, start, '+', 'LIMIT', 0, tonumber(n))
  local out = { '' }
  if #chunk == tonumber(n) then out[1] = chunk[#chunk] end
  for _, id in ipairs(chunk) do
    local flat = redis.call('HGETALL', prefix .. id)
    if #flat > 0 then
      out[#out + 1] = id
      out[#out + 1] = redis.call('PTTL', prefix .. id)
      out[#out + 1] = flat
    end
  end
  return out
end

local function shard_put(prefix, ids, ix, uq, exp, items)
  local at = 1
  while at <= #items do
    local id, pttl, n = items[at], tonumber(items[at + 1]), tonumber(items[at + 2])
    local kv = {}
    for k = at + 3, at + 2 + n do kv[#kv + 1] = items[k] end
    at = at + 3 + n
    local s = st_indexed(st_new(prefix .. id), id, ix, uq, exp)
    local changes = ix_changes(s, kv)
    if redis.call('EXISTS', s.key) == 0 then
      for f in pairs(changes) do s.cache[f] = false end
    end
    ix_sync(s, changes)
    redis.call('DEL', s.key)
    for i = 1, #kv, 4000 do redis.call('HSET', s.key, unpack(kv, i, math.min(i + 3999, #kv))) end
    redis.call('ZADD', ids, '0', id)
    if pttl > 0 then
      redis.call('PEXPIRE', s.key, pttl)
      exp_track(s, pttl, changes)
    else
      exp_untrack(s)
    end
  end
  return #items
end

local function shard_drop(prefix, ids, ix, uq, exp, list)
  local n = 0
  for _, id in ipairs(list) do
    n = n + rec_delete(st_indexed(st_new(prefix .. id), id, ix, uq, exp), ids, id)
  end
  return n
end
