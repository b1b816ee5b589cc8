--- Query plans, run inside the query's script. A plan node is one of:
---   { op = 'range', key, t, min, max, minx, maxx }   an index range (t 'n' scores, 's' lex values);
---                                                    min/max nil = unbounded, minx/maxx = exclusive
---   { op = 'prefix', key, p }                        lex index values starting with p
---   { op = 'in', key, t, values }                    index equality to any of values
---   { op = 'words', key, mode, values }              a word index (key: its word list): ids holding
---                                                    all / any of values, or (mode 'prefix') a word
---                                                    starting with values[1]
---   { op = 'and', ... } / { op = 'or', ... }         children in the array part
---   { op = 'scan' }                                  cannot narrow: every id of the model
---   { op = 'ids', values }                           exactly these ids (bulk operations)
--- q_count(p) estimates a node's candidates (nil = unknown); q_ids(p) lists them. The planner
--- starts an `and` from its most selective child; the full condition is then checked on every
--- candidate's stored values, so the index only narrows and results stay exact.
--- q_run(q, filter, act) runs a whole query (see its header below); the compiler emits only the
--- query's table, its filter and its action.
--- @include "state"
--- @include "index"
--- @include "read"
--- @include "record"
--- @include "commit"
--- @include "expiry"
--- @include "cursor"
local function q_lex(v, exclusive, after)
  -- lex members are ix_member(value, id): "\0" sorts before and "\1" after every id of value v
  -- (an escaped longer value continues with "\1\1" or more, so it sorts after v .. "\1")
  local edge = '\0'
  if after then edge = '\1' end
  if exclusive then return '(' .. ix_lex(v) .. edge end
  return '[' .. ix_lex(v) .. edge end

-- the lex range of values starting with p (UTF-8 text never holds byte 255)
local function q_prefix(p)
  local e = ix_lex(p)
  return '[' .. e, '(' .. e .. '\255'
end

local function q_bounds(p)
  if p.t == 'n' then
    local min, max = '-inf', '+inf'
    if p.min then min = (p.minx and '(' or '') .. p.min end
    if p.max then max = (p.maxx and '(' or '') .. p.max end
    return min, max
  end
  local min, max = '-', '+'
  if p.min then
    if p.minx then min = q_lex(p.min, false, true) else min = q_lex(p.min, false, false) end
  end
  if p.max then
    if p.maxx then max = q_lex(p.max, true, false) else max = q_lex(p.max, true, true) end
  end
  return min, max
end

-- the id-set keys of a words node (a prefix lists its words from the word list), with their sizes
local function q_word_sets(p)
  local words = p.values
  if p.mode == 'prefix' then
    words = redis.call('ZRANGEBYLEX', p.key, '[' .. p.values[1], '(' .. p.values[1] .. '\255')
  end
  local sets = {}
  for i, w in ipairs(words) do
    local k = p.key .. ':' .. w
    sets[i] = { key = k, n = redis.call('SCARD', k) }
  end
  table.sort(sets, function(a, b) return a.n < b.n end)
  return sets
end

local function q_count(p)
  if p.op == 'ids' then return #p.values end
  if p.op == 'words' then
    local sets = q_word_sets(p)
    if p.mode == 'all' then return (sets[1] or { n = 0 }).n end
    local n = 0
    for _, s in ipairs(sets) do n = n + s.n end
    return n
  end
  if p.op == 'range' then
    local min, max = q_bounds(p)
    if p.t == 'n' then return redis.call('ZCOUNT', p.key, min, max) end
    return redis.call('ZLEXCOUNT', p.key, min, max)
  elseif p.op == 'prefix' then
    return redis.call('ZLEXCOUNT', p.key, q_prefix(p.p))
  elseif p.op == 'in' then
    local n = 0
    for _, v in ipairs(p.values) do n = n + q_count({ op = 'range', key = p.key, t = p.t, min = v, max = v }) end
    return n
  elseif p.op == 'and' then
    local best = nil
    for _, c in ipairs(p) do
      local n = q_count(c)
      if n and (best == nil or n < best) then best = n end
    end
    return best
  elseif p.op == 'or' then
    local n = 0
    for _, c in ipairs(p) do
      local m = q_count(c)
      if m == nil then return nil end
      n = n + m
    end
    return n
  end
  return nil
end

local function q_strip(members)
  for i = 1, #members do
    local _, id = ix_split(members[i])
    members[i] = id
  end
  return members
end

-- appends to `out` the ids not in `seen` yet, in order, marking them seen
local function q_union(seen, out, ids)
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
end

-- the candidate ids of a plan node, or nil when it cannot narrow (scan); and the index node they
-- came from, when one alone gave them (they all pass its probe, see q_probes)
local function q_ids(p)
  if p.op == 'ids' then return p.values end
  if p.op == 'words' then
    local sets = q_word_sets(p)
    if #sets == 0 then return {} end
    if p.mode == 'all' then
      -- from the smallest set: SINTER probes the others for each of its members
      local keys = {}
      for i, s in ipairs(sets) do keys[i] = s.key end
      if sets[1].n == 0 then return {} end
      return redis.call('SINTER', unpack(keys))
    end
    local seen, out = {}, {}
    for from = 1, #sets, 1000 do
      local keys = {}
      for i = from, math.min(from + 999, #sets) do keys[#keys + 1] = sets[i].key end
      q_union(seen, out, redis.call('SUNION', unpack(keys)))
    end
    return out
  end
  if p.op == 'range' then
    local min, max = q_bounds(p)
    if p.t == 'n' then return redis.call('ZRANGEBYSCORE', p.key, min, max), p end
    return q_strip(redis.call('ZRANGEBYLEX', p.key, min, max))
  elseif p.op == 'prefix' then
    return q_strip(redis.call('ZRANGEBYLEX', p.key, q_prefix(p.p)))
  elseif p.op == 'in' or p.op == 'or' then
    local children = p
    if p.op == 'in' then
      children = {}
      for i, v in ipairs(p.values) do children[i] = { op = 'range', key = p.key, t = p.t, min = v, max = v } end
    end
    local seen, out = {}, {}
    for _, c in ipairs(children) do
      local ids = q_ids(c)
      if ids == nil then return nil end
      q_union(seen, out, ids)
    end
    if p.op == 'in' then return out, p end
    return out
  elseif p.op == 'and' then
    local best, bestn = nil, nil
    for _, c in ipairs(p) do
      local n = q_count(c)
      if n and (bestn == nil or n < bestn) then best, bestn = c, n end
    end
    if best then return q_ids(best) end
  end
  return nil
end

-- The index conditions every match meets: the plan's ranges and lists that only `and` joins (an
-- `or` above one makes it no longer necessary), as probes: { key, node, n (its count), and
--   min, max, minx, maxx }      a score range, bounds made numbers once
--   set = { [score] = true }    a score list
--   lex = { value, ... }        a lexicographic equality or list: the members value "\0" id exist
-- Before any record of a page of candidates is read, one ZMSCORE per probe (and value) drops the
-- ids that fail it (an id with no score fails, as it is in no range). `cheap`: only the probes that
-- drop more than 1 id in 5 of the model's `total`; else every condition, or nil when one of them
-- is no probe (a lexicographic range or prefix, a text condition): then the probes alone do not
-- answer the plan.
local function q_probes(plan, total, cheap)
  local out, whole = {}, true
  local function visit(p)
    if p.op == 'and' then
      for _, c in ipairs(p) do visit(c) end
      return
    end
    local pr = { key = p.key, node = p, minx = p.minx, maxx = p.maxx }
    if p.op == 'in' and p.t == 'n' then
      pr.set = {}
      for _, v in ipairs(p.values) do
        local n = tonumber(v)
        if n then pr.set[n] = true end
      end
    elseif p.op == 'range' and p.t == 'n' then
      pr.min, pr.max = -math.huge, math.huge
      if p.min then pr.min = tonumber(p.min) end
      if p.max then pr.max = tonumber(p.max) end
      if not (pr.min and pr.max) then pr = nil end
    elseif p.op == 'in' and p.t == 's' and #p.values <= 8 then
      pr.lex = {}
      for i, v in ipairs(p.values) do pr.lex[i] = ix_lex(v) .. '\0' end
    elseif p.op == 'range' and p.t == 's' and p.min and p.min == p.max and not p.minx and not p.maxx then
      pr.lex = { ix_lex(p.min) .. '\0' }
    else
      pr = nil
    end
    if pr == nil then
      whole = false
      return
    end
    pr.n = q_count(p)
    if not cheap or pr.n <= 0.8 * total then out[#out + 1] = pr end
  end
  visit(plan)
  if not cheap and not whole then return nil end
  table.sort(out, function(a, b) return a.n < b.n end)
  return out
end

-- whether a stored score (ZMSCORE's reply for one id: its text, or false) meets a score probe
local function q_meets(pr, score)
  if not score then return false end
  local v = tonumber(score)
  if pr.set then return pr.set[v] == true end
  if pr.minx then
    if v <= pr.min then return false end
  elseif v < pr.min then return false end
  if pr.maxx then return v < pr.max end
  return v <= pr.max
end

-- the ids of `live` (a list) that meet probe pr, as a list
local function q_probe_ids(pr, live)
  local kept = {}
  if pr.lex then
    local hit = {}
    for _, head in ipairs(pr.lex) do
      local members = {}
      for i = 1, #live do members[i] = head .. live[i] end
      local scores = redis.call('ZMSCORE', pr.key, unpack(members))
      for i = 1, #live do
        if scores[i] then hit[i] = true end
      end
    end
    for i = 1, #live do
      if hit[i] then kept[#kept + 1] = live[i] end
    end
    return kept
  end
  local scores = redis.call('ZMSCORE', pr.key, unpack(live))
  for i = 1, #live do
    if q_meets(pr, scores[i]) then kept[#kept + 1] = live[i] end
  end
  return kept
end

-- The ids of a page (a list) that meet every probe but `skip`'s (the node they came from), as a
-- list in page order; nil when there is no probe to run (every id goes on).
local function q_sift(probes, ids, skip)
  local live, probed = ids, false
  for _, pr in ipairs(probes) do
    if pr.node ~= skip and #live > 0 then
      live, probed = q_probe_ids(pr, live), true
    end
  end
  if not probed then return nil end
  return live
end

-- A guess of how many ids match a plan, taking its conditions as independent (nil: unknown).
local function q_guess(p, total)
  if p.op == 'and' then
    local f, any = 1, false
    for _, c in ipairs(p) do
      local n = q_guess(c, total)
      if n then f, any = f * n / math.max(total, 1), true end
    end
    if any then return f * total end
    return nil
  elseif p.op == 'or' then
    local n = 0
    for _, c in ipairs(p) do
      local m = q_guess(c, total)
      if m == nil then return nil end
      n = n + m
    end
    return math.min(n, total)
  end
  return q_count(p)
end

-- Leaves of a plan, summed: what selecting an exact plan from the index sets would materialize.
local function q_leaf_total(p)
  if p.op == 'and' or p.op == 'or' then
    local n = 0
    for _, c in ipairs(p) do n = n + q_leaf_total(c) end
    return n
  end
  return q_count(p) or math.huge
end

-- The ids of an exact plan (one the indexes alone answer), each once, without reading any record:
-- `and` keeps its smallest child's ids that every other child holds, `or` unites them. Only the
-- children an `and` looks ids up in become sets: a one-range plan costs its ZRANGEBYSCORE and
-- nothing more. nil when selecting would cost more than reading the candidates (a set is ~10
-- times cheaper per id than a read).
local function q_exact(p)
  if q_leaf_total(p) > 10 * (q_count(p) or 0) + 1000 then return nil end
  local function as_set(ids)
    local set = {}
    for _, id in ipairs(ids) do set[id] = true end
    return set
  end
  local function select(node)
    if node.op ~= 'and' and node.op ~= 'or' then
      -- only a lexicographic range or prefix can list an id twice (a field with several values)
      local ids = q_ids(node)
      if node.op ~= 'prefix' and (node.op ~= 'range' or node.t == 'n') then return ids end
      local out = {}
      q_union({}, out, ids)
      return out
    end
    local parts = {}
    for _, c in ipairs(node) do parts[#parts + 1] = select(c) end
    local out = {}
    if node.op == 'or' then
      local seen = {}
      for _, ids in ipairs(parts) do q_union(seen, out, ids) end
      return out
    end
    table.sort(parts, function(a, b) return #a < #b end)
    local sets = {}
    for j = 2, #parts do sets[j - 1] = as_set(parts[j]) end
    for _, id in ipairs(parts[1]) do
      local keep = true
      for j = 1, #sets do
        if not sets[j][id] then keep = false break end
      end
      if keep then out[#out + 1] = id end
    end
    return out
  end
  return select(p)
end

-- A candidate's state for the filter and the sort, with the fields they read fetched by one HMGET
-- (other reads, such as an array's items, go through st_get as usual). Matches that a query then
-- writes become indexed states.
local function q_probe(prefix, id, fields)
  local s = st_new(prefix .. id)
  s.id = id
  if #fields > 0 then
    local values = redis.call('HMGET', s.key, unpack(fields))
    for i = 1, #fields do s.cache[fields[i]] = values[i] end
  end
  return s
end

-- every id of the model (a scan), read from its id set in bounded chunks
local function q_all(ids_key)
  local out, from = {}, 0
  repeat
    local chunk = redis.call('ZRANGE', ids_key, from, from + 4999)
    for i = 1, #chunk do out[#out + 1] = chunk[i] end
    from = from + 5000
  until #chunk < 5000
  return out
end

-- The sort keys of a query: { {field, numeric, desc}, ... } (empty: by id). Each match carries
-- its sort values in s.sv (false where absent); q_before orders two matches: by each key (absent
-- values last in both directions), then by id in the direction of the last key.
local function q_sort_values(s, keys)
  if s.sv then return s.sv end
  local sv = {}
  for i, k in ipairs(keys) do
    local v = st_get(s, k.field)
    if v ~= nil and k.numeric then v = tonumber(v) end
    if v == nil then v = false end
    sv[i] = v
  end
  s.sv = sv
  return sv
end

local function q_before(a, b, keys)
  for i, k in ipairs(keys) do
    local x, y = a.sv[i], b.sv[i]
    if x ~= y then
      if x == false then return false end
      if y == false then return true end
      if k.desc then return x > y end
      return x < y
    end
  end
  local last = keys[#keys]
  if last and last.desc then return a.id > b.id end
  return a.id < b.id
end

-- sorts matched states by the sort keys
local function q_sort(matches, keys)
  for _, s in ipairs(matches) do q_sort_values(s, keys) end
  table.sort(matches, function(a, b) return q_before(a, b, keys) end)
end

-- A stream's cursor (the last row it returned): { id, sv, first } from a parameter list holding,
-- per sort key, a presence flag ('1' or '0') and the stored value, then the id (`first`: the first
-- key's stored text, for index bounds); nil for an empty list.
local function q_cursor(list, keys)
  if #list == 0 then return nil end
  local sv = {}
  for i, k in ipairs(keys) do
    local v = false
    if list[2 * i - 1] == '1' then
      v = list[2 * i]
      if k.numeric then v = tonumber(v) end
    end
    sv[i] = v
  end
  return { id = list[2 * #keys + 1], sv = sv, first = list[2] }
end

-- Walks an index in query order, keeping the ids for which candidate(id) gives a state, until
-- `need` are kept and, with several sort keys, the first key's value changed (its ties are then
-- sorted by every key). The index is the score index of the first sort key, or with no sort key
-- the model's id set (its members in id order). From the cursor's place when there is one; by
-- rank, in pages that double from 128 ids, each sifted by the probes (sift(ids): the ids worth
-- reading, in order, nil for all) before any of its records is read. Returns the matches in query
-- order and true, or false when the index ran out first (records without the first key's value
-- are not in a score index: the caller then collects every match instead).
local function q_walk(key, keys, after, need, candidate, sift)
  local desc = keys[1] and keys[1].desc
  local start = 0
  if after then
    if #keys == 0 then start = redis.call('ZLEXCOUNT', key, '-', '[' .. after.id)
    elseif after.sv[1] == false then return {}, false
    elseif desc then start = redis.call('ZCOUNT', key, '(' .. after.first, '+inf')
    else start = redis.call('ZCOUNT', key, '-inf', '(' .. after.first) end
  end
  -- with several keys, the walk stops only where the first key's value changes: it needs the scores
  local scored = #keys > 1
  local range = desc and 'ZREVRANGE' or 'ZRANGE'
  local M, edge, size = {}, nil, 128
  while true do
    local got, page
    if scored then
      got = redis.call(range, key, start, start + size - 1, 'WITHSCORES')
      page = {}
      for i = 1, #got, 2 do page[#page + 1] = got[i] end
    else
      page = redis.call(range, key, start, start + size - 1)
    end
    local live = sift(page)
    if not scored then
      -- one key or none: the walk stops at the need-th match, so only the sifted ids are read
      for _, id in ipairs(live or page) do
        local s = candidate(id)
        if s then
          M[#M + 1] = s
          if #M >= need then return M, true end
        end
      end
    else
      local pass = nil
      if live then
        pass = {}
        for _, id in ipairs(live) do pass[id] = true end
      end
      for i, id in ipairs(page) do
        local score = tonumber(got[2 * i])
        if edge ~= nil and score ~= edge then
          q_sort(M, keys)
          return M, true
        end
        if pass == nil or pass[id] then
          local s = candidate(id)
          if s then
            M[#M + 1] = s
            if #M >= need then edge = score end
          end
        end
      end
    end
    if #page < size then
      if edge ~= nil then
        q_sort(M, keys)
        return M, true
      end
      -- the id set holds every id: its walk is complete
      return M, #keys == 0
    end
    start = start + size
    size = math.min(size * 2, 1024)
  end
end

-- sorts a query's matches (unless a walk of the sort index found them in order) and returns the
-- range first .. last of the page that q.offset and q.limit ('' for none) select
local function q_page(q, M, sorted)
  if not sorted then q_sort(M, q.sort) end
  local first, last = tonumber(q.offset) + 1, #M
  if q.limit ~= '' then last = math.min(last, first + tonumber(q.limit) - 1) end
  return first, last
end

-- actions: what a query does with its matches M; each returns the script's reply

-- one command per 4,000 arguments of `list` (Lua's C stack limits an unpack)
local function q_each(cmd, key, list)
  for i = 1, #list, 4000 do redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list))) end
end
local function q_act_ids(q, M, sorted)
  local first, last = q_page(q, M, sorted)
  local out = {}
  for i = first, last do out[#out + 1] = M[i].id end
  return out
end

-- the page as id and each sort key's stored value (false where absent), per match: what a
-- fan-out merges before it reads the records of the merged page only (src/query/execute.ts)
local function q_act_rows(q, M, sorted)
  local first, last = q_page(q, M, sorted)
  local out = {}
  for i = first, last do
    out[#out + 1] = M[i].id
    for _, k in ipairs(q.sort) do out[#out + 1] = st_get(M[i], k.field) or false end
  end
  return out
end

-- the page as id, hash, id, hash, ...
local function q_act_records(q, M, sorted)
  local first, last = q_page(q, M, sorted)
  local out = {}
  for i = first, last do
    out[#out + 1] = M[i].id
    out[#out + 1] = rec_read(M[i])
    if q.slide then rec_slide(M[i], q.slide) end
  end
  return out
end

-- Deletes the matches M (every one exists: its candidate check read its version) with their
-- entries, as rec_delete would one by one, but with one command per key for the whole chunk:
-- one HMGET per record for the values its entries embed (lexicographic and word indexes, unique
-- values), then one ZREM per index, id set and expiry set, one HDEL per unique hash and expiry
-- hash, one DEL for the records, and the 'delete' entries in order. How many were deleted.
local function q_act_delete(q, M)
  if #M == 0 then return 0 end
  local want = {}
  for _, x in ipairs(q.ix) do
    if x[3] ~= 'n' then want[#want + 1] = x[1] end
  end
  for _, u in ipairs(q.uq) do want[#want + 1] = u[1] end
  local at = q.at
  local ids, keys = {}, {}
  for i, m in ipairs(M) do
    local id = m.id
    if at then id = m[q.idslot] end
    ids[i], keys[i] = id, q.prefix .. id
    -- a light match read every field in want with the candidate's (q.pre)
    if not at then
      local missing = {}
      for _, f in ipairs(want) do
        if m.cache[f] == nil then missing[#missing + 1] = f end
      end
      if #missing > 0 then
        local got = redis.call('HMGET', m.key, unpack(missing))
        for k = 1, #missing do m.cache[missing[k]] = got[k] end
      end
    end
  end
  local function val(m, f)
    if at then return m[at[f]] end
    return m.cache[f]
  end
  for _, x in ipairs(q.ix) do
    if x[3] == 'n' then q_each('ZREM', x[2], ids)
    elseif x[3] == 't' then
      for i, m in ipairs(M) do tx_sync(x[2], ids[i], val(m, x[1]) or false, false) end
    else
      local members, heads = {}, {}
      for i, m in ipairs(M) do
        local v = val(m, x[1])
        if v then members[#members + 1] = ix_member_in(heads, v, ids[i]) end
      end
      q_each('ZREM', x[2], members)
    end
  end
  for _, u in ipairs(q.uq) do
    local values, holders = {}, {}
    for i, m in ipairs(M) do
      local v = val(m, u[1])
      if v then
        values[#values + 1] = v
        holders[#holders + 1] = ids[i]
      end
    end
    -- a value is let go only by the record holding it
    local owned = {}
    for i = 1, #values, 4000 do
      local owners = redis.call('HMGET', u[2], unpack(values, i, math.min(i + 3999, #values)))
      for k = 1, #owners do
        if owners[k] == holders[i + k - 1] then owned[#owned + 1] = values[i + k - 1] end
      end
    end
    q_each('HDEL', u[2], owned)
  end
  -- most models hold no expiring record: one EXISTS spares two commands with every id
  if redis.call('EXISTS', q.exp[1], q.exp[2]) > 0 then
    q_each('ZREM', q.exp[1], ids)
    q_each('HDEL', q.exp[2], ids)
  end
  q_each('ZREM', q.ids, ids)
  for i = 1, #keys, 4000 do redis.call('DEL', unpack(keys, i, math.min(i + 3999, #keys))) end
  if q.ch then
    for i, m in ipairs(M) do ch_emit(q.ch, 'delete', ids[i], val(m, '#v'), {}) end
  end
  return #M
end

-- runs each(S) (a pipeline body on S[1]) on every match, then checks all and commits all:
-- how many records changed. A match's state is the candidate's, whose cache already holds the
-- fields the body and the commit read (q.pre: the update's read set, fetched with the filter's;
-- the null markers in q.pre.absent are known not to exist).
local function q_act_update(q, M, each)
  local changed, W = 0, {}
  for _, p in ipairs(M) do
    local m = st_indexed(p, p.id, q.ix, q.uq, q.exp, q.ch)
    for _, f in ipairs(q.pre and q.pre.absent or {}) do
      if m.cache[f] == nil then m.cache[f] = false end
    end
    m.v0 = st_get(m, '#v')
    -- an index entry can outlive its record (expired, deleted by hand): only records that exist
    -- are written, never a partial one made from the program's fields
    if m.v0 then
      W[#W + 1] = m
      each({ m })
    end
  end
  st_check_all(W)
  for _, s in ipairs(W) do if st_commit(s) then changed = changed + 1 end end
  if q.slide then
    for _, s in ipairs(W) do rec_slide(s, q.slide) end
  end
  return changed
end

-- The count of an exact plan whose every condition is a probe (an `and` of score ranges and lists,
-- lexicographic equalities and lists): the candidates of its most selective condition that meet
-- every other probe, read from no record and kept in no set; expired ids no sweep dropped yet are
-- left out. nil when some condition is no probe (q_exact then selects from the index sets).
local function q_probe_count(q, total, due)
  local probes = q_probes(q.plan, total, false)
  if probes == nil then return nil end
  local list, from_node = q_ids(q.plan)
  local gone = {}
  if due > 0 then gone = exp_gone(q.prefix, q.exp) end
  local n = 0
  for from = 1, #list, 1000 do
    local page = { unpack(list, from, math.min(from + 999, #list)) }
    for _, id in ipairs(q_sift(probes, page, from_node) or page) do
      if not gone[id] then n = n + 1 end
    end
  end
  return n
end

--- q_run(q, filter, act): a query's whole script. q holds
---   prefix   record keys are prefix .. id          ids      the model's id set (a KEYS slot)
---   offset   the page's first match (text)         limit    the page's size ('' for none)
---   ix, uq, exp   the model's index, unique and expiry tables (as st_indexed takes them)
---   ch            the model's change stream, when it has one (lua/lib/changes.lua)
---   plan     a plan node (above)                   exact    true when the plan alone answers the filter
---   sort     the sort keys { {field, numeric, desc}, ... } (empty: by id)
---   walk     the score index of the first sort key, when a limited page may walk it (or nil)
---   after    a stream's cursor (a parameter list, see q_cursor; empty for none): only matches
---            after it in query order count
---   fields   the fields the filter and the sort read, fetched with one HMGET per candidate
---   lean     true when the filter reads that HMGET reply itself: filter(V), V[i] the value of
---            fields[i] (false where absent); else filter(S) reads the candidate's state S[1]
---   light    with lean, for an update or delete (never a page, a stream or a slice): the action
---            reads each match's HMGET reply itself, so a match is that reply V, with its id in
---            V[q.idslot], after the values (q.at maps a field to its slot), and no state is made
---   generic  true in the reference script the specialised one is tested against: no probes
---   slice    { from, size }: a scan in slices (the client runs them in turn): this script reads
---            the `size` ids after `from` ('' from the first) and replies { next, reply }, `next`
---            the id to go on after ('' when no id is left or a page is complete)
---   count    true when only the count is needed; page: true when the action returns a page
---            (ids or records: offset and limit apply; count, update and delete take every match)
---   reads    the fields an aggregate reads of each match (nil: the sort fields)
---   slide    a sliding TTL (ms) that records returned or updated get re-armed to, or nil
---   pre      an update's read set { fields, absent } (src/compile/read-set.ts), or the values a
---            delete's entries embed: its fields are read with each candidate's (`fields` holds
---            them too), its absent null markers not at all
---   cursor   { key, first, size }: one chunk of an update or delete by query (q_chunk, cursor.lua):
---            only the first chunk selects the candidates; it replies { due, { count, left, handled } }
--- filter tells whether a candidate matches (the query's condition, compiled); act(q, M,
--- sorted) acts on the matches M and returns the reply (q_act_* above; `sorted` when already in order).
--- q_run replies { due, reply }: `due` is 1 when the model's expiry set holds ids whose time has come
--- (the client then runs a sweep, a write script of its own); a read never writes for bookkeeping.
--- Ids whose record is gone (expired, not swept yet) are never candidates, and a count the index
--- sets alone answer leaves out the expired ids they still hold (exp_gone).
--- A limited page walks the first sort key's index (with no sort key, the id set) and stops after
--- offset+limit matches (and their ties) when that reads fewer ids than collecting (q_guess);
--- else the exact ids of the index sets (when the plan alone answers the filter and they are
--- few), or every candidate of the plan (or of the slice), checked, sorted; an unsorted slice
--- stops after offset+limit matches. Every page of candidates is probed (q_probes) before any of
--- its records is read.
local function q_run(q, filter, act)
  -- reads only (no sweep): expired ids are skipped below; `due` tells the client a sweep has work
  local due = #exp_due(q.exp, exp_now(), 1)
  local keys = q.sort
  local after = q_cursor(q.after, keys)
  local need = nil
  if q.page and q.limit ~= '' then need = tonumber(q.offset) + tonumber(q.limit) end
  local total = redis.call('ZCARD', q.ids)
  if q.count and q.exact and not after and due == 0 and (q.plan.op == 'range' or q.plan.op == 'prefix') then
    -- one index range (one entry per id) answers the count itself, with no expired id waiting
    -- for a sweep in it: ZCOUNT, rather than a set of every id
    return { due, q_count(q.plan) }
  end
  if q.count and q.exact and not after and not q.generic then
    local n = q_probe_count(q, total, due)
    if n then return { due, n } end
  end
  -- walking the sort index reads about need * (its size) / matches ids (each sifted by the probes
  -- first), collecting reads every candidate of the plan and sorts the matches
  -- (with no sort key a page walks the id set, in id order; a scan's slices are walked by the client)
  local walk_key = q.walk
  if need and #keys == 0 and not q.slice then walk_key = q.ids end
  local walk = false
  if need and walk_key then
    local best, m = q_count(q.plan), q_guess(q.plan, total)
    walk = best == nil or m == nil or need * redis.call('ZCARD', walk_key) < (best + 5 * m) * m
  end
  -- an exact plan decides from the index sets alone (nil when building them would cost more than
  -- reading the candidates); candidates are then read only for the sort
  local ex = nil
  local later = q.cursor and not q.cursor.first -- its candidates come from the cursor
  if q.exact and not walk and not later then ex = q_exact(q.plan) end
  if q.count and ex and not after then
    -- the index sets still hold expired records no sweep dropped yet: leave those out
    local n = #ex
    if due > 0 then
      local gone = exp_gone(q.prefix, q.exp)
      for _, id in ipairs(ex) do
        if gone[id] then n = n - 1 end
      end
    end
    return { due, n }
  end
  if q.light then
    q.at = {}
    for i, f in ipairs(q.fields) do q.at[f] = i end
    -- the id goes after the values, in the array part (a key such as V.id would make each reply
    -- table grow a hash part)
    q.idslot = #q.fields + 1
  end
  -- a candidate's version tells whether its record exists (an expired one no sweep reached does not)
  local ex_fields = { '#v' }
  for _, k in ipairs(keys) do ex_fields[#ex_fields + 1] = k.field end
  for _, f in ipairs(q.reads or {}) do ex_fields[#ex_fields + 1] = f end
  for _, f in ipairs(q.pre and q.pre.fields or {}) do ex_fields[#ex_fields + 1] = f end
  -- the state of a candidate id when it matches (and follows the cursor), else nil
  local function candidate(id)
    local s
    if q.light then
      -- the action reads the HMGET reply itself: no state, V[i] the value of fields[i], V[q.idslot] the id
      local V = redis.call('HMGET', q.prefix .. id, unpack(q.fields))
      if not V[1] or not (ex or filter(V)) then return nil end
      V[q.idslot] = id
      return V
    end
    if ex then
      s = q_probe(q.prefix, id, ex_fields)
      if not s.cache['#v'] then return nil end
    elseif q.lean then
      -- a lean filter reads the HMGET reply itself: a state is made only for a match
      local V = redis.call('HMGET', q.prefix .. id, unpack(q.fields))
      if not (V[1] and filter(V)) then return nil end
      s = st_new(q.prefix .. id)
      s.id = id
      for i = 1, #q.fields do s.cache[q.fields[i]] = V[i] end
    else
      s = q_probe(q.prefix, id, q.fields)
      if not (s.cache['#v'] and filter({ s })) then return nil end
    end
    if after then
      q_sort_values(s, keys)
      if not q_before(after, s, keys) then return nil end
    end
    return s
  end
  if q.cursor then
    local list = nil
    if not later then list = ex or q_ids(q.plan) or q_all(q.ids) end
    return { due, q_chunk(q.cursor, list, candidate, function(M) return act(q, M, false) end) }
  end
  local function reply(next, ...)
    if q.slice then return { due, { next, act(q, ...) } } end
    return { due, act(q, ...) }
  end
  -- the plan's score conditions, checked on a page of candidates before their records are read
  -- (an exact plan's candidates already meet them all)
  local probes = {}
  if not ex and not q.generic then probes = q_probes(q.plan, total, true) end
  local function sift(ids, skip)
    if #probes == 0 then return nil end
    return q_sift(probes, ids, skip)
  end
  -- the candidates of a list that match, appended to M in order (sifted a page at a time; `skip`:
  -- the plan node the list came from); stops once M holds `stop` matches (if given) and tells
  -- whether it did
  local function gather(M, list, skip, stop)
    local size = #list
    if #probes > 0 then size = 500 end
    for from = 1, #list, math.max(size, 1) do
      local page = list
      if size < #list then page = { unpack(list, from, math.min(from + size - 1, #list)) } end
      for _, id in ipairs(sift(page, skip) or page) do
        local s = candidate(id)
        if s then
          M[#M + 1] = s
          if stop and #M >= stop then return true end
        end
      end
    end
    return false
  end
  if walk then
    local M, sorted = q_walk(walk_key, keys, after, need, candidate, sift)
    if sorted then return reply('', M, true) end
  end
  local list, from_node = nil, nil
  if ex then list = ex else list, from_node = q_ids(q.plan) end
  if list == nil and q.slice then
    -- one slice of a scan; an unsorted page stops at `need` matches (ids come in query order)
    local first = '-'
    if q.slice.from ~= '' then first = '(' .. q.slice.from end
    local chunk = redis.call('ZRANGEBYLEX', q.ids, first, '+', 'LIMIT', 0, q.slice.size)
    local M, next = {}, ''
    if #chunk == q.slice.size then next = chunk[#chunk] end
    local stop = nil
    if need and #keys == 0 then stop = need end
    if gather(M, chunk, nil, stop) then return reply('', M, false) end
    return reply(next, M, false)
  end
  local M = {}
  gather(M, list or q_all(q.ids), from_node)
  return reply('', M, false)
end
