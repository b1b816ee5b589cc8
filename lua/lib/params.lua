--- read_params(argv, shape): ARGV as a table of parameters. `shape` has one letter per parameter:
--- 's' a single value, 'l' a list (a count, then that many values). Lists keep the script text
--- independent of how many items a call passes, so the same program shape has one SHA1.
local function read_params(argv, shape)
  local p, c = {}, 1
  for i = 1, #shape do
    if string.sub(shape, i, i) == 'l' then
      local n, list = tonumber(argv[c]), {}
      for j = 1, n do list[j] = argv[c + j] end
      p[i] = list
      c = c + n + 1
    else
      p[i] = argv[c]
      c = c + 1
    end
  end
  return p
end
