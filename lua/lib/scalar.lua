--- Typed access to scalar fields of a record state.
--- sc_num(s, f, path): the stored number; OPERATION when the field holds no value.
--- sc_str(s, f, path): the stored string; same rule.
--- obj_present(s, marker, path): OPERATION unless the object `marker` (optional or nullable) is there.
--- @include "state"
--- @include "fail"
local function sc_raw(s, f, path)
  local v = st_get(s, f)
  if v == nil then fail('OPERATION', path .. ' holds no value', path) end
  return v
end

local function sc_num(s, f, path)
  return tonumber(sc_raw(s, f, path))
end

-- a write into an absent object would leave a partial one that breaks the schema
local function obj_present(s, marker, path)
  if st_get(s, marker) == nil then fail('OPERATION', path .. ': ' .. marker .. ' holds no object', path) end
end

-- writes a scalar and clears its null marker (`f!`) if the field was null
local function sc_put(s, f, v)
  st_put(s, f, v)
  if st_get(s, f .. '!') ~= nil then st_put(s, f .. '!', false) end
end

-- a set whose value the client already validated
local function sc_set(s, f, v)
  sc_put(s, f, v)
  return v
end

-- null: the field is absent and its marker `f!` says null
local function sc_null(s, f)
  if st_get(s, f) ~= nil then st_put(s, f, false) end
  st_put(s, f .. '!', 'null')
  return false
end
