--- Nested objects replaced whole. An object at path `f` owns the hash fields `f` (its marker),
--- `f!` (null) and every `f.<...>` (its fields, their arrays and records, recursively).
--- obj_set(s, f, kv): stages the deletion of every field the object holds (stored or staged) and
--- the writes of `kv` (the flat field/value list of the new object); arrays under `f` that an
--- earlier operation materialized are dropped, since their items are replaced too.
--- @include "state"
local function obj_set(s, f, kv)
  local prefix = f .. '.'
  local n = #prefix
  local function under(field)
    return field == f or field == f .. '!' or string.sub(field, 1, n) == prefix
  end
  for list in pairs(s.lists) do
    if under(list) then s.lists[list] = nil end
  end
  for _, field in ipairs(redis.call('HKEYS', s.key)) do
    if under(field) then st_put(s, field, false) end
  end
  for field, v in pairs(s.dirty) do
    if v ~= false and under(field) then st_put(s, field, false) end
  end
  for i = 1, #kv, 2 do st_put(s, kv[i], kv[i + 1]) end
  return false
end
