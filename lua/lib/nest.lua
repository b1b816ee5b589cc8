--- Nested collections: arrays and records inside an element of an array or record, stored as the
--- JSON text of that element. An operation on an inner collection reads the outer element through
--- the record state (arr_at / dict_get), walks its steps (`steps` = { by, at, by, at... }: 'i'
--- an array index, 'k' a record key, 'f' an object field), changes the target and writes the
--- element back (arr_set_at / dict_set), so the commit stays all or nothing.
---
--- JSON is never decoded into Lua values and encoded again (cjson would turn `[]` into `{}` and
--- print numbers with 14 digits): a container is split into the raw texts of its items, items are
--- kept as the text they were stored or sent as, and only numbers the server computes are printed,
--- as JavaScript prints them (nj_num). Records keep their keys in the order JSON.stringify gives the
--- client's sorted keys (nj_key_lt), so equal values keep equal text.
---
--- nest_get(s, f, top, steps, path) -> JSON text or nil; nest_length, nest_contains, nest_items,
--- nest_entries read; nest_edit(s, f, top, steps, path, fn) runs fn(text) -> result, new text (nil:
--- unchanged). na_* (arrays) and nd_* (records) are the operations fn calls: (s, text, path, T, ...)
--- where T is the target's schema table (see nv_check), checked before anything changes.
--- @include "state"
--- @include "fail"
--- @include "check"
--- @include "array"
--- @include "dict"
local function nj_ws(t, i)
  local _, e = string.find(t, '^[ \t\r\n]*', i)
  return e + 1
end

-- the position of the last character of the JSON value that starts at i
local function nj_end(t, i)
  local c = string.sub(t, i, i)
  if c == '"' then
    local j = i + 1
    while true do
      local a = string.find(t, '["\\]', j)
      if string.sub(t, a, a) == '"' then return a end
      j = a + 2
    end
  elseif c == '[' or c == '{' then
    local depth, j = 0, i
    while true do
      local a = string.find(t, '[%[%]{}"]', j)
      local ch = string.sub(t, a, a)
      if ch == '"' then
        j = nj_end(t, a) + 1
      else
        if ch == '[' or ch == '{' then depth = depth + 1 else depth = depth - 1 end
        if depth == 0 then return a end
        j = a + 1
      end
    end
  end
  local a = string.find(t, '[,%]} \t\r\n]', i)
  return (a or #t + 1) - 1
end

local function nj_not(path, what)
  fail('OPERATION', path .. ': the stored value is not ' .. what, path)
end

-- the items of a compact array of strings without escapes (`strings`: split on `","`, each item
-- quoted with no quote inside) or of numbers and booleans (split on `,`); nil when an item turns
-- out not to look so, and the caller reads the array the long way
local function nj_split(t, strings)
  local sep, keep = ',', 0
  if strings then sep, keep = '","', 1 end
  local items, i, last = {}, 2, #t - 1
  while true do
    local j = string.find(t, sep, i, true)
    local e = last
    if j then e = j - 1 + keep end
    local v = string.sub(t, i, e)
    if v == '' or (strings and (string.sub(v, 1, 1) ~= '"' or string.find(v, '"', 2, true) ~= #v)) then return nil end
    items[#items + 1] = v
    if j == nil then return items end
    i = j + #sep - keep
  end
end

-- the raw texts of the items of a JSON array
local function nj_array(t, path)
  if string.sub(t, 1, 1) ~= '[' then nj_not(path, 'an array') end
  local items = {}
  if t == '[]' then return items end
  -- the common arrays split with plain finds (Lua's character classes cost ~50 ns a byte): strings
  -- without escapes, and numbers or booleans
  local plain = not string.find(t, '[', 2, true) and not string.find(t, '{', 2, true)
  if plain and not string.find(t, '\\', 2, true) then
    local split
    if string.sub(t, 2, 2) == '"' then
      split = nj_split(t, true)
    elseif not string.find(t, '"', 2, true) and not string.find(t, ' ', 2, true) then
      split = nj_split(t, false)
    end
    if split then return split end
  end
  local i = nj_ws(t, 2)
  if string.sub(t, i, i) == ']' then return items end
  while true do
    local e = nj_end(t, i)
    items[#items + 1] = string.sub(t, i, e)
    i = nj_ws(t, e + 1)
    if string.sub(t, i, i) == ']' then return items end
    i = nj_ws(t, i + 1)
  end
end

-- a JSON string's text, decoded
local function nj_unstr(raw)
  if raw == nil then return nil end
  if not string.find(raw, '\\', 1, true) then return string.sub(raw, 2, -2) end
  return cjson.decode(raw)
end

-- a string as JSON.stringify writes it
local function nj_str(s)
  local short = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
  local body = string.gsub(s, '[%z\1-\31"\\]', function(c) return short[c] or string.format('\\u%04x', string.byte(c)) end)
  return '"' .. body .. '"'
end

-- a JSON object as { keys (decoded), raws (key texts), vals (value texts) }, in stored order
local function nj_object(t, path)
  if string.sub(t, 1, 1) ~= '{' then nj_not(path, 'an object') end
  local o = { keys = {}, raws = {}, vals = {} }
  local i = nj_ws(t, 2)
  if string.sub(t, i, i) == '}' then return o end
  while true do
    local e = nj_end(t, i)
    local n = #o.keys + 1
    o.raws[n] = string.sub(t, i, e)
    o.keys[n] = nj_unstr(o.raws[n])
    i = nj_ws(t, nj_ws(t, e + 1) + 1)
    e = nj_end(t, i)
    o.vals[n] = string.sub(t, i, e)
    i = nj_ws(t, e + 1)
    if string.sub(t, i, i) == '}' then return o end
    i = nj_ws(t, i + 1)
  end
end

local function nj_join_array(items)
  return '[' .. table.concat(items, ',') .. ']'
end

local function nj_join_object(o)
  local parts = {}
  for i = 1, #o.keys do parts[i] = o.raws[i] .. ':' .. o.vals[i] end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- the parse of JSON text t (an array's item texts, or an object's entries), kept for the script in
-- s.json by text (interned: a lookup compares pointers), so operations in a row on one inner
-- collection (a loop's removals) split its text once; each caller gets its own copy to change
local function nj_memo(s)
  if s.json == nil then s.json = {} end
  return s.json
end

local function nj_parse(s, t, path, object)
  local memo = nj_memo(s)
  local v = memo[t]
  if v == nil then
    if object then v = nj_object(t, path) else v = nj_array(t, path) end
    memo[t] = v
  end
  if object then
    if v.keys == nil then nj_not(path, 'an object') end
    local o = { keys = {}, raws = {}, vals = {} }
    for i = 1, #v.keys do o.keys[i], o.raws[i], o.vals[i] = v.keys[i], v.raws[i], v.vals[i] end
    return o
  end
  if v.keys ~= nil then nj_not(path, 'an array') end
  local a = {}
  for i = 1, #v do a[i] = v[i] end
  return a
end

local function nj_list(s, t, path)
  return nj_parse(s, t, path, false)
end

local function nj_dict(s, t, path)
  return nj_parse(s, t, path, true)
end

-- the text of a changed array or object, its parse kept for the next operation (see nj_parse)
local function nj_text(s, v)
  local t
  if v.keys then t = nj_join_object(v) else t = nj_join_array(v) end
  nj_memo(s)[t] = v
  return t
end

local function nj_find(o, k)
  for i = 1, #o.keys do
    if o.keys[i] == k then return i end
  end
  return nil
end

-- a key JavaScript treats as an array index (those come first in an object, in numeric order)
local function nj_index_key(k)
  if k == '0' then return 0 end
  if #k <= 10 and string.find(k, '^[1-9]%d*$') then
    local n = tonumber(k)
    if n < 4294967295 then return n end
  end
  return nil
end

-- JSON.stringify's key order for the client's sorted keys: index keys by number, then the rest in
-- UTF-16 order, which is UTF-8 byte order except that characters past U+FFFF (lead bytes F0-F4)
-- come before U+E000..U+FFFF (lead bytes EE, EF)
local function nj_key_lt(a, b)
  local x, y = nj_index_key(a), nj_index_key(b)
  if x and y then return x < y end
  if x or y then return x ~= nil end
  if string.find(a, '[\238-\244]') and string.find(b, '[\238-\244]') then
    local up = { ['\238'] = '\254', ['\239'] = '\255' }
    a, b = string.gsub(a, '[\238\239]', up), string.gsub(b, '[\238\239]', up)
  end
  return a < b
end

-- sets key k to v (a JSON text), a new key at its place in key order
local function nj_put(o, k, v)
  local i = nj_find(o, k)
  if i then
    o.vals[i] = v
    return
  end
  local at = #o.keys + 1
  for j = 1, #o.keys do
    if nj_key_lt(k, o.keys[j]) then
      at = j
      break
    end
  end
  table.insert(o.keys, at, k)
  table.insert(o.raws, at, nj_str(k))
  table.insert(o.vals, at, v)
end

local function nj_drop(o, i)
  local v = o.vals[i]
  table.remove(o.keys, i)
  table.remove(o.raws, i)
  table.remove(o.vals, i)
  return v
end

-- a number as JavaScript prints it (JSON.stringify): the shortest digits that read back as n
local function nj_num(n)
  if n == 0 then return '0' end
  if n == math.floor(n) and n > -9007199254740992 and n < 9007199254740992 then return string.format('%d', n) end
  local s
  for p = 0, 16 do
    s = string.format('%.' .. p .. 'e', n)
    if tonumber(s) == n then break end
  end
  local sign, d1, rest, e = string.match(s, '^(-?)(%d)%.?(%d*)e([-+]%d+)$')
  local digits = string.gsub(d1 .. rest, '0+$', '')
  if digits == '' then digits = '0' end
  local k, x = #digits, tonumber(e) + 1
  if k <= x and x <= 21 then return sign .. digits .. string.rep('0', x - k) end
  if 0 < x and x <= 21 then return sign .. string.sub(digits, 1, x) .. '.' .. string.sub(digits, x + 1) end
  if -6 < x and x <= 0 then return sign .. '0.' .. string.rep('0', -x) .. digits end
  local exp = x - 1
  local es = (exp < 0 and '-' or '+') .. string.format('%d', math.abs(exp))
  if k == 1 then return sign .. digits .. 'e' .. es end
  return sign .. string.sub(digits, 1, 1) .. '.' .. string.sub(digits, 2) .. 'e' .. es
end

-- whether a decoded JSON table is an array (an empty table is either)
local function nv_list(v)
  local n = 0
  for k in pairs(v) do
    if type(k) ~= 'number' then return false end
    n = n + 1
  end
  return n == #v
end

-- checks a decoded JSON value against schema table T: t (kind), the constraints of check.lua,
-- i (items of an array, values of a record), f (an object's fields), q (its required names), z (nullable)
local function nv_check(T, path, v)
  local t, ty = T.t, type(v)
  if t == 'j' then return end
  if v == cjson.null then
    if T.z then return end
    invalid(path, 'type', 'null is not allowed')
  end
  if t == 'i' or t == 'n' or t == 'd' then
    if ty ~= 'number' then invalid(path, 'type', 'expected a number, got a ' .. ty) end
    check_num(T, path, v)
  elseif t == 's' or t == 'y' then
    if ty ~= 'string' then invalid(path, 'type', 'expected a string, got a ' .. ty) end
    if t == 's' then check_len(T, path, v) end
  elseif t == 'e' then
    if ty ~= 'string' and ty ~= 'number' then invalid(path, 'type', 'expected one of the allowed values') end
    if ty == 'number' then check_enum(T, path, nj_num(v)) else check_enum(T, path, v) end
  elseif t == 'b' then
    if ty ~= 'boolean' then invalid(path, 'type', 'expected a boolean, got a ' .. ty) end
  else
    if ty ~= 'table' then invalid(path, 'type', 'expected a collection, got a ' .. ty) end
    if t == 'a' then
      if not nv_list(v) then invalid(path, 'type', 'expected an array') end
      check_items(T, path, #v)
      for i = 1, #v do nv_check(T.i, path .. '.' .. (i - 1), v[i]) end
    elseif next(v) ~= nil and nv_list(v) then
      invalid(path, 'type', 'expected an object')
    elseif t == 'r' then
      for k, x in pairs(v) do nv_check(T.i, path .. '.' .. k, x) end
    else
      for k, x in pairs(v) do
        if not T.f[k] then invalid(path, 'additionalProperties', 'unknown field ' .. k) end
        nv_check(T.f[k], path .. '.' .. k, x)
      end
      for _, k in ipairs(T.q) do
        if v[k] == nil then invalid(path .. '.' .. k, 'required', 'is required') end
      end
    end
  end
end

-- checks item texts against the item schema of T
local function nv_items(T, path, items)
  for i = 1, #items do nv_check(T.i, path, cjson.decode(items[i])) end
end

-- the element the steps name: its JSON text (nil when a key or field on the way is absent), and
-- the containers passed through, outermost first, each with the position of the next one
local function nest_walk(s, f, top, steps, path)
  local raw
  if top == 'array' then raw = arr_at(s, f, path, steps[2]) else raw = dict_get(s, f, steps[2]) end
  local chain = {}
  for j = 3, #steps, 2 do
    if raw == nil then return nil, chain end
    local by, at = steps[j], steps[j + 1]
    if by == 'i' then
      local c = nj_list(s, raw, path)
      local i = arr_index(path, at, #c) + 1
      chain[#chain + 1] = { c, i, raw }
      raw = c[i]
    else
      local c = nj_dict(s, raw, path)
      local i = nj_find(c, at)
      chain[#chain + 1] = { c, i, raw }
      raw = i and c.vals[i]
      if raw == 'null' then raw = nil end
    end
  end
  return raw, chain
end

local function nest_get(s, f, top, steps, path)
  return (nest_walk(s, f, top, steps, path))
end

local function nest_need(s, f, top, steps, path)
  local raw, chain = nest_walk(s, f, top, steps, path)
  if raw == nil then fail('OPERATION', path .. ': absent (a key or field on the way to it is not there)', path) end
  return raw, chain
end

-- the number of items of an inner array, or of entries of an inner record
-- reads: a collection that is absent (a key on the way is not there) has no length (nil, so every
-- comparison with it is false, as with an absent flat field), contains nothing and loops over nothing
local function nest_length(s, f, top, steps, path)
  local raw = nest_get(s, f, top, steps, path)
  return raw and nj_count(raw)
end

local function nest_contains(s, f, top, steps, path, kind, item)
  local raw = nest_get(s, f, top, steps, path)
  return raw ~= nil and arr_find(nj_list(s, raw, path), kind, item) ~= nil
end

-- loops: the item texts of an inner array, or the { key, value text } entries of an inner record
local function nest_items(s, f, top, steps, path)
  local raw = nest_get(s, f, top, steps, path)
  if raw == nil then return {} end
  return nj_list(s, raw, path)
end

local function nest_entries(s, f, top, steps, path)
  local raw = nest_get(s, f, top, steps, path)
  local out = {}
  if raw == nil then return out end
  local o = nj_dict(s, raw, path)
  for i = 1, #o.keys do out[i] = { o.keys[i], o.vals[i] } end
  return out
end

local function nest_edit(s, f, top, steps, path, fn)
  local raw, chain = nest_need(s, f, top, steps, path)
  local result, new = fn(raw)
  if new == nil then return result end
  -- the texts replaced here are stale: their parses go (a text equal elsewhere is parsed again)
  local memo = nj_memo(s)
  memo[raw] = nil
  for j = #chain, 1, -1 do
    local c, i = chain[j][1], chain[j][2]
    memo[chain[j][3]] = nil
    if c.vals then c.vals[i] = new else c[i] = new end
    new = nj_text(s, c)
  end
  if top == 'array' then arr_set_at(s, f, path, steps[2], new) else dict_set(s, f, steps[2], new) end
  return result
end

-- the number of items of an inner array or entries of an inner record, counted by cjson (which
-- runs in C, where splitting the text in Lua costs about a microsecond an item)
local function nj_count(t)
  local n = 0
  for _ in pairs(cjson.decode(t)) do n = n + 1 end
  return n
end

-- inner arrays: T is the array's schema (minItems, maxItems, i = the items' schema). append and
-- prepend splice the new items into the text: the stored items are not split, only counted when
-- the schema bounds the length.
local function na_splice(s, t, path, T, items, front)
  if T.minItems or T.maxItems then check_items(T, path, nj_count(t) + #items) end
  nv_items(T, path, items)
  if string.sub(t, 1, 1) ~= '[' then nj_not(path, 'an array') end
  if #items == 0 then return false end
  local added = table.concat(items, ',')
  if string.find(t, '^%[%s*%]$') then return false, '[' .. added .. ']' end
  if front then return false, '[' .. added .. ',' .. string.sub(t, 2) end
  return false, string.sub(t, 1, -2) .. ',' .. added .. ']'
end

local function na_append(s, t, path, T, items)
  return na_splice(s, t, path, T, items, false)
end

local function na_prepend(s, t, path, T, items)
  return na_splice(s, t, path, T, items, true)
end

local function na_insert(s, t, path, T, i, item)
  local a = nj_list(s, t, path)
  check_items(T, path, #a + 1)
  nv_items(T, path, { item })
  i = tonumber(i)
  if i < 0 then i = math.max(0, i + #a) end
  table.insert(a, math.min(i, #a) + 1, item)
  return #a, nj_text(s, a)
end

local function na_set_at(s, t, path, T, i, item)
  local a = nj_list(s, t, path)
  nv_items(T, path, { item })
  a[arr_index(path, i, #a) + 1] = item
  return item, nj_text(s, a)
end

-- the first or last item of a compact array of plain strings (no escapes) or of numbers and
-- booleans, and the text without it, matched at the text's end instead of splitting it; nil when
-- the array is not such an array (the caller splits it)
local function nj_end_item(t, first)
  if string.find(t, '[', 2, true) or string.find(t, '{', 2, true) or string.find(t, '\\', 2, true) then return nil end
  local single, head, tail
  if string.sub(t, 2, 2) == '"' then
    single, head, tail = '^%[("[^"]*")%]$', '^%[("[^"]*"),(".*)$', '^(%[.*"),("[^"]*")%]$'
  elseif not string.find(t, '"', 2, true) and not string.find(t, ' ', 2, true) then
    single, head, tail = '^%[([^,]+)%]$', '^%[([^,]+),(.+)$', '^(%[.+),([^,]+)%]$'
  else
    return nil
  end
  local item = string.match(t, single)
  if item then return item, '[]' end
  if first then
    local rest
    item, rest = string.match(t, head)
    if item then return item, '[' .. rest end
    return nil
  end
  local before
  before, item = string.match(t, tail)
  if item then return item, before .. ']' end
  return nil
end

local function na_remove_at(s, t, path, T, i)
  if i == '-1' or i == '0' then
    local item, new = nj_end_item(t, i == '0')
    if item then
      if T.minItems then check_items(T, path, nj_count(t) - 1) end
      return item, new
    end
  end
  local a = nj_list(s, t, path)
  i = arr_index(path, i, #a) + 1
  check_items(T, path, #a - 1)
  local item = table.remove(a, i)
  return item, nj_text(s, a)
end

local function na_pop(s, t, path, T, i)
  if string.find(t, '^%[%s*%]$') then return false end
  return na_remove_at(s, t, path, T, i)
end

local function na_remove(s, t, path, T, kind, item)
  local a = nj_list(s, t, path)
  local i = arr_find(a, kind, item)
  if i == nil then return 'false' end
  check_items(T, path, #a - 1)
  table.remove(a, i)
  return 'true', nj_text(s, a)
end

-- Python slice deletion del a[start:stop]
local function na_remove_range(s, t, path, T, start, stop)
  local a = nj_list(s, t, path)
  local len = #a
  local from, to = arr_slice(start, stop, len)
  if from >= to then return 0 end
  check_items(T, path, len - (to - from))
  local kept = {}
  for i = 1, len do
    if i <= from or i > to then kept[#kept + 1] = a[i] end
  end
  return to - from, nj_text(s, kept)
end

local function na_set(s, t, path, T, items)
  check_items(T, path, #items)
  nv_items(T, path, items)
  return #items, nj_join_array(items)
end

local function na_clear(s, t, path, T)
  return na_set(s, t, path, T, {})
end

-- inner records: keys arrive as plain text, values as JSON text; T is the record's schema (i = the values' schema)
local function nd_update(s, t, path, T, kv)
  local o = nj_dict(s, t, path)
  for i = 1, #kv, 2 do
    nv_check(T.i, path .. '.' .. kv[i], cjson.decode(kv[i + 1]))
    nj_put(o, kv[i], kv[i + 1])
  end
  return #o.keys, nj_text(s, o)
end

local function nd_set_item(s, t, path, T, k, v)
  local _, new = nd_update(s, t, path, T, { k, v })
  return v, new
end

local function nd_set(s, t, path, T, kv)
  return nd_update(s, '{}', path, T, kv)
end

local function nd_clear(s, t, path, T)
  return 0, '{}'
end

local function nd_delete(s, t, path, T, k)
  local o = nj_dict(s, t, path)
  local i = nj_find(o, k)
  if i == nil then return nil end
  local old = nj_drop(o, i)
  return old, nj_text(s, o)
end

-- pop(k, default?): has_default is '1' when a default was given
local function nd_pop(s, t, path, T, k, has_default, default)
  local old, new = nd_delete(s, t, path, T, k)
  if old ~= nil then return old, new end
  if has_default == '1' then return default end
  fail('OPERATION', path .. ': no key ' .. k, path)
end

-- popItem(): removes the last entry in key order; returns { key, value }
local function nd_pop_item(s, t, path, T)
  local o = nj_dict(s, t, path)
  local n = #o.keys
  if n == 0 then fail('OPERATION', path .. ': popItem on an empty record', path) end
  local k = o.keys[n]
  local v = nj_drop(o, n)
  return { k, v }, nj_text(s, o)
end

-- incr(k, n) for numeric values: a missing key counts as 0
local function nd_incr(s, t, path, T, k, n)
  local o = nj_dict(s, t, path)
  local i = nj_find(o, k)
  local v = tonumber(i and o.vals[i] or '0') + tonumber(n)
  if T.i.t ~= 'i' and T.i.t ~= 'n' then invalid(path, 'type', 'incr needs numeric values') end
  check_num(T.i, path .. '.' .. k, v)
  local text = nj_num(v)
  nj_put(o, k, text)
  return text, nj_text(s, o)
end
