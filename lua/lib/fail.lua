--- fail(code, message, path, rule): raises `RAPYER_<code> {json}`; the client maps code to an error class.
--- Nothing is written before a program's commit, so raising here leaves Redis unchanged.
local function fail(code, message, path, rule)
  error({ err = 'RAPYER_' .. code .. ' ' .. cjson.encode({ message = message, path = path, rule = rule }) })
end

--- fail_item(code, i, message, path): fail() for item i (1-based) of a bulk chunk; the JSON carries
--- its 0-based `index`, which the client maps to the caller's list.
local function fail_item(code, i, message, path)
  error({ err = 'RAPYER_' .. code .. ' ' .. cjson.encode({ message = message, path = path, index = i - 1 }) })
end
