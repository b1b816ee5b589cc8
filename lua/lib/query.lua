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
local function q_lex(v, exclusive, after)
  -- lex members are value .. "\0" .. id: "\0" sorts before and "\1" after every id of value v
  local edge = '\0'
  if after then edge = '\1' end
  if exclusive then return '(' .. v .. edge end
  return '[' .. v .. edge end

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
    return redis.call('ZLEXCOUNT', p.key, '[' .. p.p, '(' .. p.p .. '\255')
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
    local m = members[i]
    members[i] = string.sub(m, string.find(m, '\0', 1, true) + 1)
  end
  return members
end

-- the candidate ids of a plan node, or nil when it cannot narrow (scan)
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
      for _, id in ipairs(redis.call('SUNION', unpack(keys))) do
        if not seen[id] then
          seen[id] = true
          out[#out + 1] = id
        end
      end
    end
    return out
  end
  if p.op == 'range' then
    local min, max = q_bounds(p)
    if p.t == 'n' then return redis.call('ZRANGEBYSCORE', p.key, min, max) end
    return q_strip(redis.call('ZRANGEBYLEX', p.key, min, max))
  elseif p.op == 'prefix' then
    return q_strip(redis.call('ZRANGEBYLEX', p.key, '[' .. p.p, '(' .. p.p .. '\255'))
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
      for _, id in ipairs(ids) do
        if not seen[id] then
          seen[id] = true
          out[#out + 1] = id
        end
      end
    end
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

-- Leaves of a plan, summed: what selecting an exact plan from the index sets would materialize.
local function q_leaf_total(p)
  if p.op == 'and' or p.op == 'or' then
    local n = 0
    for _, c in ipairs(p) do n = n + q_leaf_total(c) end
    return n
  end
  return q_count(p) or math.huge
end

-- The ids of an exact plan (one the indexes alone answer), as a set and a list, without reading
-- any record: `and` intersects its children's sets, `or` unites them. nil when building the sets
-- would cost more than reading the candidates (sets are ~10 times cheaper per id than a read).
local function q_exact(p)
  if q_leaf_total(p) > 10 * (q_count(p) or 0) + 1000 then return nil end
  local function select(node)
    local out = { set = {}, ids = {} }
    if node.op == 'and' or node.op == 'or' then
      local parts = {}
      for _, c in ipairs(node) do parts[#parts + 1] = select(c) end
      table.sort(parts, function(a, b) return #a.ids < #b.ids end)
      local from, last = parts, #parts
      if node.op == 'and' then from, last = { parts[1] }, 1 end
      for k = 1, last do
        for _, id in ipairs(from[k].ids) do
          local keep = not out.set[id]
          if node.op == 'and' then
            for j = 2, #parts do
              if not parts[j].set[id] then keep = false break end
            end
          end
          if keep then
            out.set[id] = true
            out.ids[#out.ids + 1] = id
          end
        end
      end
      return out
    end
    for _, id in ipairs(q_ids(node)) do
      if not out.set[id] then
        out.set[id] = true
        out.ids[#out.ids + 1] = id
      end
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

-- sorts matched states by a field (nil last); ties, and unsorted queries, by id in the same direction
local function q_sort(matches, field, numeric, desc)
  local key = {}
  for _, s in ipairs(matches) do
    local v = false
    if field then
      v = st_get(s, field)
      if v ~= nil and numeric then v = tonumber(v) end
      if v == nil then v = false end
    end
    key[s] = v
  end
  table.sort(matches, function(a, b)
    local x, y = key[a], key[b]
    if x ~= y then
      if x == false then return false end
      if y == false then return true end
      if desc then return x > y end
      return x < y
    end
    if desc then return a.id > b.id end
    return a.id < b.id
  end)
end

-- walks a score index in sort order (ties by id, as ZRANGE orders them), keeping the records for
-- which match(S) holds, until `need` matched; true when it found that many
local function q_walk(key, desc, need, probe, match)
  local M, from = {}, 0
  while true do
    local ids
    if desc then ids = redis.call('ZREVRANGE', key, from, from + 499)
    else ids = redis.call('ZRANGE', key, from, from + 499) end
    for _, id in ipairs(ids) do
      local S = { probe(id) }
      if match(S) then
        M[#M + 1] = S[1]
        if #M >= need then return M, true end
      end
    end
    if #ids < 500 then return M, false end
    from = from + 500
  end
end

-- sorts a query's matches (unless a walk of the sort index found them in order) and returns the
-- range first .. last of the page that q.offset and q.limit ('' for none) select
local function q_page(q, M, sorted)
  if not sorted then
    if q.sort then q_sort(M, q.sort.field, q.sort.numeric, q.sort.desc) else q_sort(M, nil, false, false) end
  end
  local first, last = tonumber(q.offset) + 1, #M
  if q.limit ~= '' then last = math.min(last, first + tonumber(q.limit) - 1) end
  return first, last
end

-- actions: what a query does with its matches M; each returns the script's reply
local function q_act_ids(q, M, sorted)
  local first, last = q_page(q, M, sorted)
  local out = {}
  for i = first, last do out[#out + 1] = M[i].id end
  return out
end

-- the page as id, hash, id, hash, ...
local function q_act_records(q, M, sorted)
  local first, last = q_page(q, M, sorted)
  local out = {}
  for i = first, last do
    out[#out + 1] = M[i].id
    out[#out + 1] = rec_read(M[i])
  end
  return out
end

local function q_act_delete(q, M)
  local n = 0
  for _, m in ipairs(M) do n = n + rec_delete(st_indexed(st_new(m.key), m.id, q.ix, q.uq, q.exp, q.ch), q.ids, m.id) end
  return n
end

-- runs each(S) (a pipeline body on S[1]) on every match, then checks all and commits all:
-- how many records changed
local function q_act_update(q, M, each)
  local changed = 0
  for i, p in ipairs(M) do
    local m = st_indexed(st_new(p.key), p.id, q.ix, q.uq, q.exp, q.ch)
    M[i] = m
    m.v0 = st_get(m, '#v')
    each({ m })
  end
  for _, s in ipairs(M) do st_check(s) end
  for _, s in ipairs(M) do if st_commit(s) then changed = changed + 1 end end
  return changed
end

--- q_run(q, filter, act): a query's whole script. q holds
---   prefix   record keys are prefix .. id          ids      the model's id set (a KEYS slot)
---   offset   the page's first match (text)         limit    the page's size ('' for none)
---   ix, uq, exp   the model's index, unique and expiry tables (as st_indexed takes them)
---   ch            the model's change stream, when it has one (lua/lib/changes.lua)
---   plan     a plan node (above)                   exact    true when the plan alone answers the filter
---   walk     a score index in sort order, when a limited page may walk it instead of sorting (or nil)
---   fields   the fields the filter and the sort read, fetched with one HMGET per candidate
---   sort     { field, numeric, desc } or nil       count    true when only the count is needed
--- filter(S) tells whether the candidate S[1] matches (the query's condition, compiled); act(q, M,
--- sorted) acts on the matches M and returns the reply (q_act_* above; `sorted` when already in order).
local function q_run(q, filter, act)
  exp_sweep(q.prefix, q.ids, q.exp, q.ix, q.uq, q.ch)
  -- an exact plan decides from the index sets alone; probes then read only the sort field
  -- (a limited page that can walk the sort index probes fewer records than the sets hold)
  local ex = nil
  if q.exact and (q.walk == nil or q.limit == '') then ex = q_exact(q.plan) end
  if q.count and ex then return #ex.ids end
  local sort_fields = {}
  if q.sort then sort_fields = { q.sort.field } end
  local function probe(id)
    if ex then return q_probe(q.prefix, id, sort_fields) end
    return q_probe(q.prefix, id, q.fields)
  end
  local function match(S)
    if ex then return ex.set[S[1].id] == true end
    return S[1].cache['#v'] and filter(S)
  end
  local M, sorted = {}, false
  if q.walk and q.limit ~= '' then
    local est = q_count(q.plan)
    if est == nil or est > 1000 then
      M, sorted = q_walk(q.walk, q.sort.desc, tonumber(q.offset) + tonumber(q.limit), probe, match)
    end
  end
  if not sorted then
    M = {}
    for _, id in ipairs((ex and ex.ids) or q_ids(q.plan) or q_all(q.ids)) do
      local S = { probe(id) }
      if match(S) then M[#M + 1] = S[1] end
    end
  end
  return act(q, M, sorted)
end

