--- fmt_num(n): the shortest decimal text that reads back as exactly n (integers without exponent).
local function fmt_num(n)
  -- '%d' drops the sign of -0; keep it, as the client's encoding does (0 * -1 is -0 in JS)
  if n == 0 and 1 / n < 0 then return '-0' end
  if n == math.floor(n) and n > -1e16 and n < 1e16 then return string.format('%d', n) end
  -- the formats are literals: building them per call was a fifth of this function's cost; and
  -- `s + 0` reads the text back with one strtod, where tonumber takes two (Lua 5.1)
  local s = string.format('%.15g', n)
  if s + 0 == n then return s end
  s = string.format('%.16g', n)
  if s + 0 == n then return s end
  return string.format('%.17g', n)
end
