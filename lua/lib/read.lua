--- Reading values for conditions and computed values; each returns nil for an absent field.
--- rd_num(s, f), rd_str(s, f), rd_bool(s, f); dec_num(raw), dec_bool(raw); rec_read(s): the whole hash.
--- @include "state"
local function dec_num(v)
  if v == nil or v == false then return nil end
  return tonumber(v)
end

local function dec_bool(v)
  if v == nil or v == false then return nil end
  return v == 'true'
end

local function rd_num(s, f) return dec_num(st_get(s, f)) end
local function rd_str(s, f) return st_get(s, f) end
local function rd_bool(s, f) return dec_bool(st_get(s, f)) end

-- a value inside a decoded JSON object; JSON null reads as nil
local function jget(obj, ...)
  local v = obj
  for i = 1, select('#', ...) do
    if type(v) ~= 'table' then return nil end
    v = v[select(i, ...)]
  end
  if v == cjson.null then return nil end
  return v
end

local function rec_read(s)
  return redis.call('HGETALL', s.key)
end

local function rec_exists(s)
  return redis.call('EXISTS', s.key)
end

-- seconds left, -1 without a TTL, -2 when the record does not exist
local function rec_ttl(s)
  return redis.call('TTL', s.key)
end
