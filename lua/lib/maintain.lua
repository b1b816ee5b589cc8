--- Index maintenance (checkIndexes, building an index added to a model with records), in bounded
--- chunks so no script blocks Redis for long. Both functions return what they found:
--- ix_fill(prefix, ids, cursor, n, ix, uq, repair) -> { next cursor or '', scanned, missing }
---   walks n ids after `cursor` (lex order of the id set) and checks that each record's indexed and
---   unique values have their entries (for a word index: each word's id set and word list entry);
---   adds the missing ones when repair is '1'; drops ids whose record is gone.
--- ix_prune(prefix, key, kind, field, cursor, n, repair) -> { next cursor ('0' = done), stale }
---   scans one index (kind 'n', 's', 't' or 'u' for a unique hash) and finds entries that no stored
---   record backs; removes them when repair is '1'. A word index is scanned by its word list: n
---   words per call, each with its whole id set (a word's ids are checked against the words of
---   each record's stored text; a word that no id holds any more is stale in the list).
--- @include "index"
-- whether `id` is an expired record no sweep has dropped yet (its record gone, its expiry kept)
local function ix_expired(prefix, exp, id)
  return redis.call('ZSCORE', exp[1], id) ~= false and redis.call('EXISTS', prefix .. id) == 0
end

-- the missing entries of a record's words in word index x (added when repairing)
local function tx_fill(x, id, text, repair)
  local missing = 0
  for _, w in ipairs(tx_words(text)) do
    local wk = x[2] .. ':' .. w
    local held = redis.call('SISMEMBER', wk, id) == 1
    local listed = redis.call('ZSCORE', x[2], w) ~= false
    if not held or not listed then
      missing = missing + 1
      if repair == '1' then
        redis.call('SADD', wk, id)
        redis.call('ZADD', x[2], '0', w)
      end
    end
  end
  return missing
end

-- stale entries of n words of word index `key` after `cursor`: ids whose stored text lacks the
-- word, and words no id holds
local function tx_prune(prefix, key, field, cursor, n, repair, exp)
  local page = redis.call('ZSCAN', key, cursor, 'COUNT', tonumber(n))
  local items, stale, held = page[2], 0, {}
  for i = 1, #items, 2 do
    local w = items[i]
    local wk = key .. ':' .. w
    for _, id in ipairs(redis.call('SMEMBERS', wk)) do
      if held[id] == nil then
        -- an expired record's words are the sweep's (false: none of them is stale)
        held[id] = not ix_expired(prefix, exp, id) and {}
        if held[id] then
          for _, v in ipairs(tx_words(redis.call('HGET', prefix .. id, field))) do held[id][v] = true end
        end
      end
      if held[id] and not held[id][w] then
        stale = stale + 1
        if repair == '1' then redis.call('SREM', wk, id) end
      end
    end
    if redis.call('EXISTS', wk) == 0 then
      stale = stale + 1
      if repair == '1' then redis.call('ZREM', key, w) end
    end
  end
  return { page[1], stale }
end

local function ix_fill(prefix, ids, cursor, n, ix, uq, repair, exp)
  local start = '-'
  if cursor ~= '' then start = '(' .. cursor end
  local chunk = redis.call('ZRANGEBYLEX', ids, start, '+', 'LIMIT', 0, tonumber(n))
  local missing = 0
  for _, id in ipairs(chunk) do
    local key = prefix .. id
    if redis.call('EXISTS', key) == 0 then
      -- an expired record's id stays for the sweep (which also drops its entries)
      if redis.call('ZSCORE', exp[1], id) == false then
        missing = missing + 1
        if repair == '1' then redis.call('ZREM', ids, id) end
      end
    else
      for _, x in ipairs(ix) do
        local v = redis.call('HGET', key, x[1])
        if v and x[3] == 't' then missing = missing + tx_fill(x, id, v, repair)
        elseif v then
          local ok
          if x[3] == 'n' then ok = tonumber(redis.call('ZSCORE', x[2], id)) == tonumber(v)
          else ok = redis.call('ZSCORE', x[2], ix_member(v, id)) ~= false end
          if not ok then
            missing = missing + 1
            if repair == '1' then
              if x[3] == 'n' then redis.call('ZADD', x[2], tonumber(v), id)
              else redis.call('ZADD', x[2], '0', ix_member(v, id)) end
            end
          end
        end
      end
      for _, u in ipairs(uq) do
        local v = redis.call('HGET', key, u[1])
        if v and redis.call('HGET', u[2], v) ~= id then
          missing = missing + 1
          if repair == '1' and not redis.call('HGET', u[2], v) then redis.call('HSET', u[2], v, id) end
        end
      end
    end
  end
  local last = ''
  if #chunk == tonumber(n) then last = chunk[#chunk] end
  return { last, #chunk, missing }
end

local function ix_prune(prefix, key, kind, field, cursor, n, repair, exp)
  if kind == 't' then return tx_prune(prefix, key, field, cursor, n, repair, exp) end
  local cmd = 'ZSCAN'
  if kind == 'u' then cmd = 'HSCAN' end
  local page = redis.call(cmd, key, cursor, 'COUNT', tonumber(n))
  local items, stale = page[2], 0
  for i = 1, #items, 2 do
    local member, id, value = items[i], nil, nil
    if kind == 'n' then id = member
    elseif kind == 's' then value, id = ix_split(member)
    else value, id = member, items[i + 1] end
    local stored = redis.call('HGET', prefix .. id, field)
    local ok
    if kind == 'n' then ok = stored and tonumber(stored) == tonumber(items[i + 1]) else ok = stored == value end
    if not ok and not stored and ix_expired(prefix, exp, id) then ok = true end
    if not ok then
      stale = stale + 1
      if repair == '1' then
        if kind == 'u' then redis.call('HDEL', key, member) else redis.call('ZREM', key, member) end
      end
    end
  end
  return { page[1], stale }
end

--- meta_get(key, field) / meta_set(key, field, value): the model's bookkeeping hash
--- (`<Model>#meta`), e.g. which indexes have been built over its existing records.
local function meta_get(key, field)
  return redis.call('HGET', key, field)
end

local function meta_set(key, field, value)
  return redis.call('HSET', key, field, value)
end
