--- Operations on scalar fields. Each computes the new value from the stored one, checks it
--- against the field's constraints `C`, stages it, and returns it (as stored text).
--- num_op(s, f, path, C, op, n)   op: incr decr mul div mod pow min max
--- str_op(s, f, path, C, op, arg) op: append prepend repeat
--- bytes_op(s, f, path, C, op, a, b) op: append setRange truncate
--- date_op(s, f, path, C, op, ms) op: add sub now
--- bool_toggle(s, f, path)
--- set_checked(s, f, path, C, kind, raw): a set whose value was computed on the server
--- @include "scalar"
--- @include "check"
--- @include "fmt-num"
-- checks a computed number against the field's constraints, stages it, returns its text
local function put_num(s, f, path, C, v)
  check_num(C, path, v)
  local text = fmt_num(v)
  sc_put(s, f, text)
  return text
end

local function num_op(s, f, path, C, op, arg)
  local cur, n = sc_num(s, f, path), tonumber(arg)
  local v
  if op == 'incr' then v = cur + n
  elseif op == 'decr' then v = cur - n
  elseif op == 'mul' then v = cur * n
  elseif op == 'div' or op == 'mod' then
    if n == 0 then fail('OPERATION', path .. ': division by zero', path) end
    if op == 'mod' then v = cur % n
    else
      v = cur / n
      if C.int then v = math.floor(v) end
    end
  elseif op == 'pow' then v = cur ^ n
  elseif op == 'min' then v = math.min(cur, n)
  elseif op == 'max' then v = math.max(cur, n)
  end
  return put_num(s, f, path, C, v)
end

local function str_op(s, f, path, C, op, arg)
  local cur, v = sc_raw(s, f, path), nil
  if op == 'append' or op == 'prepend' then check_size(C, path, #cur + #arg) end
  if op == 'append' then v = cur .. arg
  elseif op == 'prepend' then v = arg .. cur
  elseif op == 'repeat' then
    local n = tonumber(arg)
    if n < 0 or n ~= math.floor(n) then fail('OPERATION', path .. ': repeat count must be a non-negative integer', path) end
    check_size(C, path, #cur * n)
    if C.maxLen and #cur * n > 4 * C.maxLen then check_len(C, path, string.rep('x', C.maxLen + 1)) end
    v = string.rep(cur, n)
  end
  check_len(C, path, v)
  if C.enum then check_enum(C, path, v) end
  sc_put(s, f, v)
  return v
end

local function bytes_op(s, f, path, C, op, a, b)
  local cur, v = sc_raw(s, f, path), nil
  if op == 'append' then
    check_size(C, path, #cur + #a)
    v = cur .. a
  elseif op == 'setRange' then
    local offset = tonumber(a)
    if offset < 0 then fail('OPERATION', path .. ': negative offset', path) end
    check_size(C, path, math.max(#cur, offset + #b))
    if offset > #cur then cur = cur .. string.rep('\0', offset - #cur) end
    v = string.sub(cur, 1, offset) .. b .. string.sub(cur, offset + #b + 1)
  elseif op == 'truncate' then
    local n = tonumber(a)
    if n < 0 then fail('OPERATION', path .. ': negative length', path) end
    v = string.sub(cur, 1, n)
  end
  check_len(C, path, v)
  sc_put(s, f, v)
  return v
end

local function date_op(s, f, path, C, op, ms)
  local v
  if op == 'now' then
    local t = redis.call('TIME')
    v = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  else
    v = sc_num(s, f, path)
    if op == 'add' then v = v + tonumber(ms) else v = v - tonumber(ms) end
  end
  return put_num(s, f, path, C, v)
end

local function bool_toggle(s, f, path)
  local v = 'true'
  if sc_raw(s, f, path) == 'true' then v = 'false' end
  sc_put(s, f, v)
  return v
end

-- a set whose value the server computed (kind: n number, s string, b boolean)
local function set_checked(s, f, path, C, kind, v)
  if kind == 'n' then return put_num(s, f, path, C, v) end
  local text
  if kind == 'b' then
    if v then text = 'true' else text = 'false' end
  else
    text = tostring(v)
    if C.minLen or C.maxLen then check_len(C, path, text) end
    if C.enum then check_enum(C, path, text) end
  end
  sc_put(s, f, text)
  return text
end
