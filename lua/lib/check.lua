--- Server-side schema checks for values computed in Lua. `C` is a constraint table the compiler
--- derives from the field's schema: int, min, max, xmin, xmax, mult, minLen, maxLen, enum, minItems, maxItems,
--- maxBytes (strings and bytes: the model's maxValueBytes).
--- Every check raises VALIDATION naming the path and rule; none writes.
--- @include "fail"
--- @include "fmt-num"
local function invalid(path, rule, message)
  fail('VALIDATION', path .. ': ' .. message, path, rule)
end

-- all a number with no constraint needs (the straight-line code calls it without a C table)
local function check_finite(path, v)
  if v ~= v or v == math.huge or v == -math.huge then invalid(path, 'type', 'the result is not a finite number') end
end

local function check_num(C, path, v)
  check_finite(path, v)
  if C.int then
    if v ~= math.floor(v) then invalid(path, 'integer', fmt_num(v) .. ' is not an integer') end
    if v > 9007199254740991 or v < -9007199254740991 then invalid(path, 'safeInteger', fmt_num(v) .. ' is beyond 2^53') end
  end
  if C.min and v < C.min then invalid(path, 'minimum', fmt_num(v) .. ' < minimum ' .. fmt_num(C.min)) end
  if C.max and v > C.max then invalid(path, 'maximum', fmt_num(v) .. ' > maximum ' .. fmt_num(C.max)) end
  if C.xmin and v <= C.xmin then invalid(path, 'exclusiveMinimum', fmt_num(v) .. ' <= exclusiveMinimum ' .. fmt_num(C.xmin)) end
  if C.xmax and v >= C.xmax then invalid(path, 'exclusiveMaximum', fmt_num(v) .. ' >= exclusiveMaximum ' .. fmt_num(C.xmax)) end
  if C.mult then
    local q = v / C.mult
    if math.abs(q - math.floor(q + 0.5)) >= 1e-9 then invalid(path, 'multipleOf', fmt_num(v) .. ' is not a multiple of ' .. fmt_num(C.mult)) end
  end
end

-- length in code points for UTF-8 text (C.bytes: in bytes)
local function check_len(C, path, s)
  local n = #s
  if not C.bytes then n = n - select(2, string.gsub(s, '[\128-\191]', '')) end
  if C.minLen and n < C.minLen then invalid(path, 'minLength', 'length ' .. n .. ' < minLength ' .. C.minLen) end
  if C.maxLen and n > C.maxLen then invalid(path, 'maxLength', 'length ' .. n .. ' > maxLength ' .. C.maxLen) end
end

-- a string or bytes result of n bytes, checked before it is built: C.maxBytes (the model's
-- maxValueBytes, 64 MiB by default) caps what a short call may make the server build and store
local function check_size(C, path, n)
  local cap = C.maxBytes or 67108864
  if n > cap then
    invalid(path, 'maxValueBytes', 'the result would hold ' .. string.format('%d', n) .. ' bytes > maxValueBytes ' .. string.format('%d', cap))
  end
end

local function check_enum(C, path, s)
  for i = 1, #C.enum do
    if C.enum[i] == s then return end
  end
  invalid(path, 'enum', s .. ' is not one of the allowed values')
end

local function check_items(C, path, n)
  if C.minItems and n < C.minItems then invalid(path, 'minItems', n .. ' items < minItems ' .. C.minItems) end
  if C.maxItems and n > C.maxItems then invalid(path, 'maxItems', n .. ' items > maxItems ' .. C.maxItems) end
end
