--- fail(code, message, path, rule): raises `RAPYER_<code> {json}`; the client maps code to an error class.
--- Nothing is written before a program's commit, so raising here leaves Redis unchanged.
local function fail(code, message, path, rule)
  error({ err = 'RAPYER_' .. code .. ' ' .. cjson.encode({ message = message, path = path, rule = rule }) })
end
