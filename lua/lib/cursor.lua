--- Update and delete by query, chunk by chunk: the query's candidates are selected once, by the
--- first chunk's script, and every later chunk takes the next ones from a list the previous chunk
--- left on the server, so no id travels to the client and no plan is probed or sorted again.
--- q_chunk(c, list, candidate, act) runs one chunk. c = { key, first, size }: `key` the cursor
--- list (in the model's hash tag), `first` true for the first chunk, whose candidates are `list`
--- (nil for later ones, which read theirs from the cursor), `size` the candidates per chunk.
--- candidate(id) gives a candidate's state when it matches now (nil otherwise); act(M) acts on
--- the matches and returns how many it changed. The cursor is written after act's checks and
--- writes (a failed chunk writes nothing, so the next run of the call starts where it stood):
--- the first chunk stores the candidates it did not reach (with a 10-minute TTL, in case the
--- client goes away), the later ones trim what they handled (Redis deletes the list once empty).
--- Replies { count, candidates left, candidates handled }.
local function q_chunk(c, list, candidate, act)
  local size = c.size
  if not c.first then list = redis.call('LRANGE', c.key, 0, size - 1) end
  local M, handled = {}, math.min(size, #list)
  for i = 1, handled do
    local s = candidate(list[i])
    if s then M[#M + 1] = s end
  end
  local n = act(M)
  local left
  if c.first then
    left = math.max(0, #list - size)
    for i = size + 1, #list, 4000 do redis.call('RPUSH', c.key, unpack(list, i, math.min(i + 3999, #list))) end
    if left > 0 then redis.call('PEXPIRE', c.key, 600000) end
  else
    redis.call('LTRIM', c.key, size, -1)
    left = redis.call('LLEN', c.key)
  end
  return { n, left, handled }
end
