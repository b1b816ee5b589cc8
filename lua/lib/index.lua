--- Indexes, kept by the same script as every write. A record state may carry (see st_indexed):
---   s.id   the record's id
---   s.ix   { {field, key, type}, ... }: type 'n' = ZSET score value, member id;
---          type 's' = ZSET score 0, member value .. "\0" .. id (lex ranges serve =, in, prefix)
---   s.uq   { {field, key}, ... }: HASH value -> id, for unique fields
---   s.exp  the model's expiry bookkeeping keys (lua/lib/expiry.lua)
---   s.ch   the model's change stream (lua/lib/changes.lua), when it has one
--- uq_check(s, changes) only reads (it runs before any write); ix_sync(s, changes) moves entries.
--- `changes` maps a field to its new stored text, or false when the field goes away.
--- @include "state"
--- @include "fail"
-- empty tables become nil, so a model without indexes pays nothing for them at commit
local function st_indexed(s, id, ix, uq, exp, ch)
  if ix and #ix == 0 then ix = nil end
  if uq and #uq == 0 then uq = nil end
  s.id, s.ix, s.uq, s.exp, s.ch = id, ix, uq, exp, ch
  return s
end

-- the value stored before this program ran (staged writes are not seen)
local function ix_old(s, f)
  local v = s.cache[f]
  if v == nil then
    v = redis.call('HGET', s.key, f)
    s.cache[f] = v
  end
  return v
end

local function uq_check(s, changes)
  for _, u in ipairs(s.uq or {}) do
    local v = changes[u[1]]
    if v then
      local owner = redis.call('HGET', u[2], v)
      if owner and owner ~= s.id then
        fail('UNIQUE', u[1] .. ' ' .. v .. ' is already taken by ' .. owner, u[1], 'unique')
      end
    end
  end
end

local function ix_entry(t, v, id)
  if t == 'n' then return id end
  return v .. '\0' .. id
end

local function ix_sync(s, changes)
  for _, x in ipairs(s.ix or {}) do
    local f, key, t = x[1], x[2], x[3]
    local new = changes[f]
    if new ~= nil then
      local old = ix_old(s, f)
      if old ~= new then
        if old then redis.call('ZREM', key, ix_entry(t, old, s.id)) end
        if new then
          if t == 'n' then redis.call('ZADD', key, tonumber(new), s.id)
          else redis.call('ZADD', key, 0, ix_entry(t, new, s.id)) end
        end
      end
    end
  end
  for _, u in ipairs(s.uq or {}) do
    local new = changes[u[1]]
    if new ~= nil then
      local old = ix_old(s, u[1])
      if old ~= new then
        if old and redis.call('HGET', u[2], old) == s.id then redis.call('HDEL', u[2], old) end
        if new then redis.call('HSET', u[2], new, s.id) end
      end
    end
  end
end

-- every indexed or unique field of a whole-record write: its new text, or false when absent
local function ix_changes(s, kv)
  local all = {}
  for i = 1, #kv, 2 do all[kv[i]] = kv[i + 1] end
  local changes = {}
  for _, x in ipairs(s.ix or {}) do changes[x[1]] = all[x[1]] or false end
  for _, u in ipairs(s.uq or {}) do changes[u[1]] = all[u[1]] or false end
  return changes
end
