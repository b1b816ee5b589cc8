--- Record state: a staged view of one record hash.
--- Reads go to Redis once per field and are cached; writes are staged in `dirty` and only the
--- commit (commit.lua) sends them, so every check of a program runs before its first write.
--- st_new(key) -> state; st_get(s, field) -> string or nil; st_put(s, field, value or false)
--- st_prefetch(s, fields, absent): the fields a program will read, in one HMGET; `absent` are fields
--- known not to exist (null markers of fields that cannot be null), cached as absent without a read.
--- `lists` holds arrays materialized into Lua tables by array ops that are O(n) anyway.
local function st_new(key)
  return { key = key, cache = {}, dirty = {}, order = {}, lists = {} }
end

local function st_get(s, f)
  local v = s.dirty[f]
  if v == nil then
    v = s.cache[f]
    if v == nil then
      v = redis.call('HGET', s.key, f)
      s.cache[f] = v
    end
  end
  if v == false then return nil end
  return v
end

local function st_prefetch(s, fields, absent)
  local got = redis.call('HMGET', s.key, unpack(fields))
  for i = 1, #fields do s.cache[fields[i]] = got[i] end
  for i = 1, #absent do s.cache[absent[i]] = false end
end

-- value: a string to store, or false to delete the field
local function st_put(s, f, v)
  if s.dirty[f] == nil then s.order[#s.order + 1] = f end
  s.dirty[f] = v
end

-- the values of many fields, in order (nil where absent), with one HMGET for those not yet seen
local function st_mget(s, fields)
  local out, missing, where = {}, {}, {}
  for i = 1, #fields do
    local f = fields[i]
    local v = s.dirty[f]
    if v == nil then v = s.cache[f] end
    if v == nil then
      missing[#missing + 1] = f
      where[#missing] = i
    elseif v ~= false then
      out[i] = v
    end
  end
  for from = 1, #missing, 5000 do
    local to = math.min(from + 4999, #missing)
    local got = redis.call('HMGET', s.key, unpack(missing, from, to))
    for j = 1, to - from + 1 do
      local v = got[j]
      s.cache[missing[from + j - 1]] = v
      if v then out[where[from + j - 1]] = v end
    end
  end
  return out
end
