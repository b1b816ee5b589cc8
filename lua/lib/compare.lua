--- Comparisons for conditions. An absent value (nil) is only ever equal to nil: it is neither
--- greater nor less than anything, so a condition on a missing field is false rather than an error.
local function c_gt(a, b) return a ~= nil and b ~= nil and a > b end
local function c_gte(a, b) return a ~= nil and b ~= nil and a >= b end
local function c_lt(a, b) return a ~= nil and b ~= nil and a < b end
local function c_lte(a, b) return a ~= nil and b ~= nil and a <= b end

-- value in list (list holds stored text; as: 'num' compares numerically)
local function c_in(v, list, as)
  if v == nil then return false end
  for i = 1, #list do
    local x = list[i]
    if as == 'num' then x = tonumber(x) elseif as == 'bool' then x = (x == 'true') end
    if x == v then return true end
  end
  return false
end

local function c_prefix(s, prefix)
  return s ~= nil and prefix ~= nil and string.sub(s, 1, #prefix) == prefix
end
