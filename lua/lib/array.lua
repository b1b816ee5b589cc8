--- Arrays in the record hash: `P` = length, `P@` = head position (absent: 0), `P[pos]` = item,
--- for positions head .. head+length-1. Both ends move in O(1); O(n) operations (insert in the
--- middle, remove, loops) first materialize the array into a Lua table (`s.lists`), which
--- arr_writeback turns back into the changed fields only, at commit.
--- A materialized array is a gap buffer: `items` holds the items before the gap, in order, and `R`
--- those after it, reversed (R[#R] is the item right after the gap). An insert or a removal moves
--- the gap to its index (a cost of the distance moved) and pushes or pops there, so a loop that
--- inserts or removes item after item, in order, moves the gap across the array once: O(n + k)
--- for k edits, not O(n * k). Operations that need the whole list close the gap (arr_flat).
--- @include "state"
--- @include "fail"
--- @include "check"
local function arr_key(f, pos)
  return f .. '[' .. string.format('%d', pos) .. ']'
end

-- the number of items of a materialized array
local function arr_n(m)
  return #m.items + #m.R
end

-- moves the gap of materialized array m to index i (0 .. n): the items before i end up in `items`
local function arr_gap(m, i)
  local L, R = m.items, m.R
  while #L > i do
    R[#R + 1] = L[#L]
    L[#L] = nil
  end
  while #L < i do
    L[#L + 1] = R[#R]
    R[#R] = nil
  end
end

-- closes the gap: m.items is then the whole array
local function arr_flat(m)
  arr_gap(m, arr_n(m))
  return m
end

-- item i (0-based) of a materialized array, and setting it
local function arr_get(m, i)
  local L, R = m.items, m.R
  if i < #L then return L[i + 1] end
  return R[#R - (i - #L)]
end

local function arr_put(m, i, v)
  local L, R = m.items, m.R
  if i < #L then L[i + 1] = v else R[#R - (i - #L)] = v end
end

-- the materialized array of f (nil when not materialized)
local function arr_live(s, f)
  return s.lists[f]
end

local function arr_meta(s, f)
  local m = s.lists[f]
  if m then return m.head, arr_n(m) end
  local n = st_get(s, f)
  if n == nil then return 0, 0 end
  return tonumber(st_get(s, f .. '@') or '0'), tonumber(n)
end

local function arr_put_meta(s, f, head, len)
  st_put(s, f, string.format('%d', len))
  local h = st_get(s, f .. '@')
  if head == 0 then
    if h ~= nil then st_put(s, f .. '@', false) end
  elseif tonumber(h) ~= head then
    st_put(s, f .. '@', string.format('%d', head))
  end
end

-- the materialized array of field f: { head, items, R (the gap buffer above; raw strings), orig,
-- len0, dirty }
local function arr_list(s, f)
  local m = arr_live(s, f)
  if m then return m end
  local head, len = arr_meta(s, f)
  local fields = {}
  for i = 1, len do fields[i] = arr_key(f, head + i - 1) end
  local items = st_mget(s, fields)
  local orig = {}
  for i = 1, len do orig[i] = items[i] end
  m = { head = head, items = items, R = {}, orig = orig, len0 = len, dirty = false }
  s.lists[f] = m
  return m
end

-- turns the materialized arrays of s back into staged hash writes (changed positions only)
local function arr_writeback(s)
  for f, m in pairs(s.lists) do
    if m.dirty then
      arr_flat(m)
      local items, orig, head, staged = m.items, m.orig, m.head, #s.order
      for i = 1, #items do
        if items[i] ~= orig[i] then st_put(s, arr_key(f, head + i - 1), items[i]) end
      end
      for i = #items + 1, m.len0 do st_put(s, arr_key(f, head + i - 1), false) end
      -- many positions changed: the reply sends the items as one list, not a field per position
      if #s.order - staged > 64 then
        s.rewritten = s.rewritten or {}
        s.rewritten[#s.rewritten + 1] = { f = f, items = items, from = staged + 1, to = #s.order }
      end
      s.lists[f] = nil
      arr_put_meta(s, f, head, #items)
    end
  end
end

-- Python-style index: negative counts from the end; OPERATION when outside [0, len)
local function arr_index(path, i, len)
  i = tonumber(i)
  if i < 0 then i = i + len end
  if i < 0 or i >= len or i ~= math.floor(i) then
    fail('OPERATION', path .. ': index ' .. i .. ' out of range for length ' .. len, path)
  end
  return i
end

local function arr_at(s, f, path, i)
  local m = arr_live(s, f)
  local head, len = arr_meta(s, f)
  i = arr_index(path, i, len)
  if m then return arr_get(m, i) end
  return st_get(s, arr_key(f, head + i))
end

local function arr_length(s, f)
  local _, len = arr_meta(s, f)
  return len
end

local function arr_append(s, f, path, C, items)
  local m = arr_live(s, f)
  local head, len = arr_meta(s, f)
  check_items(C, path, len + #items)
  if m then
    local L = arr_flat(m).items
    for i = 1, #items do L[len + i] = items[i] end
    m.dirty = true
  else
    for i = 1, #items do st_put(s, arr_key(f, head + len + i - 1), items[i]) end
    arr_put_meta(s, f, head, len + #items)
  end
  return len + #items
end

local function arr_prepend(s, f, path, C, items)
  local m = arr_live(s, f)
  local head, len = arr_meta(s, f)
  local n = #items
  check_items(C, path, len + n)
  if m then
    -- at the front of the gap buffer: a loop that prepends item after item moves it by one each
    arr_gap(m, 0)
    for i = 1, n do m.items[i] = items[i] end
    m.dirty = true
  else
    for i = 1, n do st_put(s, arr_key(f, head - n + i - 1), items[i]) end
    arr_put_meta(s, f, head - n, len + n)
  end
  return len + n
end

local function arr_set_at(s, f, path, i, item)
  local m = arr_live(s, f)
  local head, len = arr_meta(s, f)
  i = arr_index(path, i, len)
  if m then
    arr_put(m, i, item)
    m.dirty = true
  else
    st_put(s, arr_key(f, head + i), item)
  end
  return item
end

-- removes the item at index i (already normalized); both ends in O(1)
local function arr_remove_index(s, f, path, C, i)
  local m = arr_live(s, f)
  local head, len = arr_meta(s, f)
  check_items(C, path, len - 1)
  local item
  if m then
    arr_gap(m, i)
    item = m.R[#m.R]
    m.R[#m.R] = nil
    m.dirty = true
  elseif i == len - 1 then
    local key = arr_key(f, head + i)
    item = st_get(s, key)
    st_put(s, key, false)
    arr_put_meta(s, f, head, len - 1)
  elseif i == 0 then
    local key = arr_key(f, head)
    item = st_get(s, key)
    st_put(s, key, false)
    arr_put_meta(s, f, head + 1, len - 1)
  else
    m = arr_list(s, f)
    arr_gap(m, i)
    item = m.R[#m.R]
    m.R[#m.R] = nil
    m.dirty = true
  end
  return item
end

-- pop(i = -1): the removed item, or nil (undefined) when the array is empty
local function arr_pop(s, f, path, C, i)
  local _, len = arr_meta(s, f)
  if len == 0 then return false end
  return arr_remove_index(s, f, path, C, arr_index(path, i, len))
end

local function arr_remove_at(s, f, path, C, i)
  local _, len = arr_meta(s, f)
  return arr_remove_index(s, f, path, C, arr_index(path, i, len))
end

local function arr_insert(s, f, path, C, i, item)
  local _, len = arr_meta(s, f)
  i = tonumber(i)
  if i < 0 then i = math.max(0, i + len) end
  if i >= len then return arr_append(s, f, path, C, { item }) end
  if i == 0 then return arr_prepend(s, f, path, C, { item }) end
  check_items(C, path, len + 1)
  local m = arr_list(s, f)
  arr_gap(m, i)
  m.items[#m.items + 1] = item
  m.dirty = true
  return len + 1
end

-- equality of stored items: same text, or for numbers the same value, or for objects the same JSON value
local function deep_eq(a, b)
  if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end
  for k, v in pairs(a) do
    if not deep_eq(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- the index of the first item equal to `item`: same stored text first (a loop's own item is found
-- this way, by an interned-string comparison), then by value (numbers, or JSON objects decoded once)
local function arr_find(items, kind, item)
  for i = 1, #items do
    if items[i] == item then return i end
  end
  if kind == 's' then return nil end
  local want = item
  if kind == 'o' then want = cjson.decode(item) else want = tonumber(item) end
  for i = 1, #items do
    local have
    if kind == 'o' then have = cjson.decode(items[i]) else have = tonumber(items[i]) end
    if deep_eq(have, want) then return i end
  end
  return nil
end

-- remove(item): removes the first equal item; returns 'true' if one was removed
local function arr_remove(s, f, path, C, kind, item)
  local m = arr_list(s, f)
  local R, at = m.R, nil
  -- A loop removes items in order, so look from the gap (the last edit) on first: removing every
  -- other item of a 1,000-item array then moves the gap across it once. (Items of equal text are
  -- interchangeable, so which of two such items goes does not show.)
  for j = #R, 1, -1 do
    if R[j] == item then
      at = #m.items + #R - j
      break
    end
  end
  if at == nil then
    at = arr_find(arr_flat(m).items, kind, item)
    if at == nil then return 'false' end
    at = at - 1
  end
  check_items(C, path, arr_n(m) - 1)
  arr_gap(m, at)
  R[#R] = nil
  m.dirty = true
  return 'true'
end

local function arr_contains(s, f, kind, item)
  return arr_find(arr_flat(arr_list(s, f)).items, kind, item) ~= nil
end

-- the bounds of the Python slice [start:stop] of a length-len array, as 0-based [a, b); stop may
-- be nil (the end); negative bounds count from the end, and both are clamped
local function arr_slice(start, stop, len)
  local function clamp(i, dflt)
    if i == nil or i == '' then return dflt end
    i = tonumber(i)
    if i < 0 then i = i + len end
    return math.max(0, math.min(len, i))
  end
  return clamp(start, 0), clamp(stop, len)
end

-- Python slice deletion del a[start:stop]
local function arr_remove_range(s, f, path, C, start, stop)
  local _, len = arr_meta(s, f)
  local a, b = arr_slice(start, stop, len)
  if a >= b then return 0 end
  check_items(C, path, len - (b - a))
  if b == len and not arr_live(s, f) then
    for i = b - 1, a, -1 do arr_remove_index(s, f, path, {}, i) end
  elseif a == 0 and not arr_live(s, f) then
    for _ = 1, b do arr_remove_index(s, f, path, {}, 0) end
  else
    -- the gap after the range, then the range popped off the items before it
    local m = arr_list(s, f)
    arr_gap(m, b)
    local L = m.items
    for i = b, a + 1, -1 do L[i] = nil end
    m.dirty = true
  end
  return b - a
end

local function arr_clear(s, f, path, C)
  check_items(C, path, 0)
  local m = arr_list(s, f)
  m.items, m.R = {}, {}
  m.dirty = true
  return 0
end

local function arr_set(s, f, path, C, items)
  check_items(C, path, #items)
  local m = arr_list(s, f)
  m.items, m.R = items, {}
  m.dirty = true
  return #items
end

-- a copy of the items as they are now: loops iterate over it, so changing the array inside is safe
local function arr_snapshot(s, f)
  local m = arr_flat(arr_list(s, f))
  local copy = {}
  for i = 1, #m.items do copy[i] = m.items[i] end
  return copy
end
