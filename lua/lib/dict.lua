--- Records (dicts) in the record hash: `P` = entry count, `P.<key>` = value; keys may hold any bytes.
--- Item get/set/delete are O(1); whole-dict operations (keys, clear, loops) scan the record's fields.
--- @include "state"
--- @include "fail"
--- @include "check"
--- @include "fmt-num"
local function dict_count(s, f)
  return tonumber(st_get(s, f) or '0')
end

local function dict_get(s, f, k)
  return st_get(s, f .. '.' .. k)
end

local function dict_set(s, f, k, v)
  local field = f .. '.' .. k
  if st_get(s, field) == nil then st_put(s, f, string.format('%d', dict_count(s, f) + 1))
  elseif st_get(s, f) == nil then st_put(s, f, '1') end
  st_put(s, field, v)
  return v
end

local function dict_delete(s, f, k)
  local field = f .. '.' .. k
  local old = st_get(s, field)
  if old ~= nil then
    st_put(s, field, false)
    st_put(s, f, string.format('%d', dict_count(s, f) - 1))
  end
  return old
end

-- the keys stored now (staged writes included), sorted so that loops and popItem are deterministic
local function dict_keys(s, f)
  local prefix = f .. '.'
  local n = #prefix
  local seen, keys = {}, {}
  for _, field in ipairs(redis.call('HKEYS', s.key)) do
    if string.sub(field, 1, n) == prefix then seen[field] = true end
  end
  for field, v in pairs(s.dirty) do
    if string.sub(field, 1, n) == prefix then seen[field] = (v ~= false) end
  end
  for field, present in pairs(seen) do
    if present then keys[#keys + 1] = string.sub(field, n + 1) end
  end
  table.sort(keys)
  return keys
end

-- update(pairs): pairs is a flat list k1, v1, k2, v2...
local function dict_update(s, f, kv)
  for i = 1, #kv, 2 do dict_set(s, f, kv[i], kv[i + 1]) end
  return dict_count(s, f)
end

local function dict_clear(s, f)
  for _, k in ipairs(dict_keys(s, f)) do st_put(s, f .. '.' .. k, false) end
  st_put(s, f, '0')
  return 0
end

local function dict_replace(s, f, kv)
  dict_clear(s, f)
  return dict_update(s, f, kv)
end

-- pop(k, default?): has_default is '1' when a default was given
local function dict_pop(s, f, path, k, has_default, default)
  local old = dict_delete(s, f, k)
  if old ~= nil then return old end
  if has_default == '1' then return default end
  fail('OPERATION', path .. ': no key ' .. k, path)
end

-- popItem(): removes the entry with the greatest key; returns { key, value }
local function dict_pop_item(s, f, path)
  local keys = dict_keys(s, f)
  if #keys == 0 then fail('OPERATION', path .. ': popItem on an empty record', path) end
  local k = keys[#keys]
  return { k, dict_delete(s, f, k) }
end

-- incr(k, n) for numeric values: a missing key counts as 0
local function dict_incr(s, f, path, C, k, n)
  local v = tonumber(dict_get(s, f, k) or '0') + tonumber(n)
  check_num(C, path .. '.' .. k, v)
  return dict_set(s, f, k, fmt_num(v))
end
