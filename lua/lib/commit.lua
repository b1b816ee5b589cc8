--- st_commit(s): sends the staged writes of one record in as few commands as possible and bumps
--- its version `#v`; a program with nothing staged writes nothing. With a change stream (s.ch) it
--- appends the record's 'update' entry, naming the fields the program wrote.
--- st_reply(s, seen): what the client needs to update its copy: the changed fields ('p', f1, v1, ...;
--- a nil value is a deleted field) when its copy was at the version the program started from
--- (`seen`), else the whole hash ('f', f1, v1, ...). An array whose materialized items changed in many
--- positions (arr_writeback) goes as one entry, `f[*]` and the list of its items, instead of a field
--- per position.
--- st_full(key): the whole hash as a full reply ('f', f1, v1, ...).
--- st_flush(key, q): writes a staged list q = { 'p', f1, v1, ... } (false: delete the field) as
--- st_commit does, sets before deletes; the straight-line code of src/compile/straight.ts builds q
--- (which is also its patch reply) and calls this only when q holds a deletion.
--- st_check_all(list): the checks the commits of every record of `list` need (unique values), run
--- before the first st_commit, so a violation on the second record cannot follow writes to the
--- first; the records are checked together (uq_release, uq_check), so two of them cannot take one
--- unique value, and one may take a value another lets go.
--- @include "state"
--- @include "array"
--- @include "index"
--- @include "expiry"
--- @include "changes"
local function st_check_all(list)
  local claims = {}
  for _, s in ipairs(list) do
    arr_writeback(s)
    if s.uq then uq_release(s, s.dirty, claims) end
  end
  for _, s in ipairs(list) do
    if s.uq then uq_check(s, s.dirty, claims) end
  end
end

-- the staged sets ({ f1, v1, ... }) then deletions ({ f1, ... }), 4,000 arguments a command
local function st_send(key, sets, dels)
  for i = 1, #sets, 4000 do redis.call('HSET', key, unpack(sets, i, math.min(i + 3999, #sets))) end
  for i = 1, #dels, 4000 do redis.call('HDEL', key, unpack(dels, i, math.min(i + 3999, #dels))) end
end

-- true when something was written
local function st_commit(s)
  arr_writeback(s)
  if #s.order == 0 then return false end
  local version = string.format('%d', tonumber(st_get(s, '#v') or '0') + 1)
  st_put(s, '#v', version)
  -- the expiry bookkeeping keeps index values, and the version when the record has a stream
  if s.ix or s.uq or s.ch then exp_refresh(s, s.dirty) end
  if s.ix or s.uq then ix_sync(s, s.dirty) end
  local sets, dels = {}, {}
  for _, f in ipairs(s.order) do
    local v = s.dirty[f]
    if v == false then dels[#dels + 1] = f else
      sets[#sets + 1] = f
      sets[#sets + 1] = v
    end
  end
  st_send(s.key, sets, dels)
  if s.ch then ch_emit(s.ch, 'update', s.id, version, ch_paths(s.ch, s.order)) end
  return true
end

local function st_full(key)
  local all = redis.call('HGETALL', key)
  table.insert(all, 1, 'f')
  return all
end

local function st_reply(s, seen)
  if seen ~= s.v0 then return st_full(s.key) end
  local out = { 'p' }
  local whole = s.rewritten or {}
  -- the positions a rewritten array staged (a run of s.order) go as one list after the others
  local skip = {}
  for _, r in ipairs(whole) do skip[r.from] = r.to end
  local i, n = 1, #s.order
  while i <= n do
    if skip[i] then i = skip[i] + 1 else
      local f = s.order[i]
      out[#out + 1] = f
      out[#out + 1] = s.dirty[f]
      i = i + 1
    end
  end
  for _, r in ipairs(whole) do
    out[#out + 1] = r.f .. '[*]'
    out[#out + 1] = r.items
  end
  return out
end

local function st_flush(key, q)
  local sets, dels = {}, {}
  for i = 2, #q, 2 do
    if q[i + 1] == false then dels[#dels + 1] = q[i] else
      sets[#sets + 1] = q[i]
      sets[#sets + 1] = q[i + 1]
    end
  end
  st_send(key, sets, dels)
end
