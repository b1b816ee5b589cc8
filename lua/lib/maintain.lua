--- Index maintenance (checkIndexes, building an index added to a model with records), in bounded
--- chunks so no script blocks Redis for long. Both functions return what they found:
--- ix_fill(prefix, ids, cursor, n, ix, uq, repair) -> { next cursor or '', scanned, missing }
---   walks n ids after `cursor` (lex order of the id set) and checks that each record's indexed and
---   unique values have their entries; adds the missing ones when repair is '1'; drops ids whose
---   record is gone.
--- ix_prune(prefix, key, kind, field, cursor, n, repair) -> { next cursor ('0' = done), stale }
---   scans one index (kind 'n', 's' or 'u' for a unique hash) and finds entries that no stored
---   record backs; removes them when repair is '1'.
--- @include "index"
local function ix_fill(prefix, ids, cursor, n, ix, uq, repair)
  local start = '-'
  if cursor ~= '' then start = '(' .. cursor end
  local chunk = redis.call('ZRANGEBYLEX', ids, start, '+', 'LIMIT', 0, tonumber(n))
  local missing = 0
  for _, id in ipairs(chunk) do
    local key = prefix .. id
    if redis.call('EXISTS', key) == 0 then
      missing = missing + 1
      if repair == '1' then redis.call('ZREM', ids, id) end
    else
      for _, x in ipairs(ix) do
        local v = redis.call('HGET', key, x[1])
        if v then
          local ok
          if x[3] == 'n' then ok = tonumber(redis.call('ZSCORE', x[2], id)) == tonumber(v)
          else ok = redis.call('ZSCORE', x[2], ix_member(v, id)) ~= false end
          if not ok then
            missing = missing + 1
            if repair == '1' then
              if x[3] == 'n' then redis.call('ZADD', x[2], tonumber(v), id)
              else redis.call('ZADD', x[2], 0, ix_member(v, id)) end
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

local function ix_prune(prefix, key, kind, field, cursor, n, repair)
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
