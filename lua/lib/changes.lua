--- Change streams (a model declared with `changes`): every write appends one entry per changed
--- record to its shard's stream, in the script that writes the record, after every check, so a
--- failed or aborted script appends nothing and no write goes without its entry.
--- A record state may carry s.ch = { stream_key, max_len, dicts } (see st_indexed), where dicts
--- lists the paths of the model's record (dict) fields: their entries' hash fields (`notes.<key>`)
--- name the dict's path.
--- An entry: op ('create' | 'update' | 'delete' | 'expire'), id, v (the record's version after the
--- write; the last version for delete and expire), f (the changed field paths, comma-separated).
--- ch_path(ch, field): the field path a hash field belongs to (`tags[3]` -> `tags`, `nick!` -> `nick`).
--- ch_paths(ch, fields): the distinct paths of hash fields, in order, without bookkeeping (`#v`).
--- ch_emit(ch, op, id, version, paths): appends an entry, trimming the stream to about max_len.
--- ch_written(ch, id, version, kv, old): the entry of a whole-record write: 'create' with every
--- field of kv, or 'update' with the fields that differ from the old hash (HGETALL list).
-- memoized per script (ch.memo): the records of a bulk write share their hash field names
local function ch_path(ch, f)
  local memo = ch.memo
  if not memo then
    memo = {}
    ch.memo = memo
  end
  local p = memo[f]
  if p then return p end
  for _, d in ipairs(ch[3]) do
    if string.sub(f, 1, #d + 1) == d .. '.' then p = d break end
  end
  if not p then
    local cut = string.find(f, '[!@%[]')
    p = cut and string.sub(f, 1, cut - 1) or f
  end
  memo[f] = p
  return p
end

local function ch_paths(ch, fields)
  local out, seen = {}, {}
  for _, f in ipairs(fields) do
    if string.byte(f, 1) ~= 35 then -- '#': bookkeeping, not a field
      local p = ch_path(ch, f)
      if not seen[p] then
        seen[p] = true
        out[#out + 1] = p
      end
    end
  end
  return out
end

local function ch_emit(ch, op, id, version, paths)
  redis.call('XADD', ch[1], 'MAXLEN', '~', ch[2], '*', 'op', op, 'id', id, 'v', version, 'f', table.concat(paths, ','))
end

local function ch_written(ch, id, version, kv, old)
  local changed = {}
  if not old then
    for i = 1, #kv, 2 do changed[#changed + 1] = kv[i] end
    ch_emit(ch, 'create', id, version, ch_paths(ch, changed))
    return
  end
  local before = {}
  for i = 1, #old, 2 do before[old[i]] = old[i + 1] end
  for i = 1, #kv, 2 do
    local f = kv[i]
    if before[f] ~= kv[i + 1] then changed[#changed + 1] = f end
    before[f] = nil
  end
  for i = 1, #old, 2 do
    if before[old[i]] ~= nil then changed[#changed + 1] = old[i] end
  end
  ch_emit(ch, 'update', id, version, ch_paths(ch, changed))
end
