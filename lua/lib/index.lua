--- Indexes, kept by the same script as every write. A record state may carry (see st_indexed):
---   s.id   the record's id
---   s.ix   { {field, key, type}, ... }: type 'n' = ZSET score value, member id;
---          type 's' = ZSET score 0, member ix_member(value, id) (lex ranges serve =, in, prefix);
---          type 't' = a word index (search): key is the field's word list (ZSET score 0, member
---          word: the words some record holds, for prefixes), key .. ':' .. word the SET of ids
---          holding word; words as lua/lib/words.lua finds them
---   s.uq   { {field, key}, ... }: HASH value -> id, for unique fields
---   s.exp  the model's expiry bookkeeping keys (lua/lib/expiry.lua)
---   s.ch   the model's change stream (lua/lib/changes.lua), when it has one
--- uq_check(s, changes) only reads (it runs before any write); ix_sync(s, changes) moves entries.
--- `changes` maps a field to its new stored text, or false when the field goes away.
--- @include "state"
--- @include "fail"
--- @include "words"
-- empty tables become nil, so a model without indexes pays nothing for them at commit
local function st_indexed(s, id, ix, uq, exp, ch)
  if ix and #ix == 0 then ix = nil end
  if uq and #uq == 0 then uq = nil end
  s.id, s.ix, s.uq, s.exp, s.ch = id, ix, uq, exp, ch
  return s
end

-- the value stored before this program ran (staged writes are not seen)
local function ix_old(s, f)
  local v = s.cache[f]
  if v == nil then
    v = redis.call('HGET', s.key, f)
    s.cache[f] = v
  end
  return v
end

-- whether record `id` of s's model (and shard: record keys are a prefix then the id) exists;
-- an expired record no sweep reached yet does not, so its unique values are free
local function uq_live(s, id)
  return redis.call('EXISTS', string.sub(s.key, 1, #s.key - #s.id) .. id) == 1
end

-- Unique checks of the records one script writes share `claims`: uq key -> value -> the id of the
-- record that takes it, or false when one of them lets it go. uq_release(s, changes, claims) notes
-- the values s lets go (run for every record first, so a value one record leaves is free for
-- another); uq_check(s, changes, claims) then checks s's new values against those claims and the
-- stored owners, so two records of one script cannot take one value. claims is optional.
local function uq_claims(claims, key)
  local c = claims[key]
  if not c then
    c = {}
    claims[key] = c
  end
  return c
end

local function uq_release(s, changes, claims)
  for _, u in ipairs(s.uq or {}) do
    local v = changes[u[1]]
    if v ~= nil then
      local old = ix_old(s, u[1])
      if old and old ~= v and redis.call('HGET', u[2], old) == s.id then uq_claims(claims, u[2])[old] = false end
    end
  end
end

local function uq_check(s, changes, claims)
  claims = claims or {}
  for _, u in ipairs(s.uq or {}) do
    local v = changes[u[1]]
    if v and v ~= ix_old(s, u[1]) then
      local c = uq_claims(claims, u[2])
      local owner = c[v]
      if owner == nil then
        owner = redis.call('HGET', u[2], v)
        if owner and owner ~= s.id and not uq_live(s, owner) then owner = false end
      end
      if owner and owner ~= s.id then
        fail('UNIQUE', u[1] .. ' ' .. v .. ' is already taken by ' .. owner, u[1], 'unique')
      end
      c[v] = s.id
    end
  end
end

-- The one format of lexicographic index entries: ix_lex(value) .. "\0" .. id, where ix_lex
-- escapes "\0" as "\1\1" and "\1" as "\1\2". No escaped value holds "\0", so the first "\0"
-- always ends the value; each byte keeps its rank (0 < 1 < 2...) and the separator sorts before
-- every byte of a longer value, so entries sort exactly as their values, then ids.
local function ix_lex(v)
  -- most values hold neither byte: one scan, no copy
  if not string.find(v, '[%z\1]') then return v end
  local e = string.gsub(v, '\1', '\1\2')   -- "\1" first: the "\0" escape below holds "\1"
  e = string.gsub(e, '%z', '\1\1')
  return e
end

local function ix_member(v, id)
  return ix_lex(v) .. '\0' .. id
end

-- ix_member for the many records of a chunk, which share few values: `heads` (the caller's table)
-- keeps each value's escaped head, made once
local function ix_member_in(heads, v, id)
  local head = heads[v]
  if not head then
    head = ix_lex(v) .. '\0'
    heads[v] = head
  end
  return head .. id
end

-- value, id of a lexicographic entry (gsub's left-to-right scan meets escapes at their first byte)
local function ix_split(member)
  local cut = string.find(member, '\0', 1, true)
  local v = string.gsub(string.sub(member, 1, cut - 1), '\1([\1\2])', function(c)
    if c == '\1' then return '\0' end
    return '\1'
  end)
  return v, string.sub(member, cut + 1)
end

local function ix_entry(t, v, id)
  if t == 'n' then return id end
  return ix_member(v, id)
end

-- moves id's word entries from the words of text `old` to those of `new` (either may be false);
-- a word no record holds any more leaves the word list
local function tx_sync(key, id, old, new)
  local added, gone, listed = {}, {}, {}
  local now = tx_words(new)
  for _, w in ipairs(now) do added[w] = true end
  for _, w in ipairs(tx_words(old)) do
    if added[w] then added[w] = nil else
      local wk = key .. ':' .. w
      redis.call('SREM', wk, id)
      if redis.call('EXISTS', wk) == 0 then gone[#gone + 1] = w end
    end
  end
  for _, w in ipairs(now) do
    if added[w] then
      redis.call('SADD', key .. ':' .. w, id)
      listed[#listed + 1] = '0'
      listed[#listed + 1] = w
    end
  end
  -- the word list in one command per 4,000 words
  for i = 1, #gone, 4000 do redis.call('ZREM', key, unpack(gone, i, math.min(i + 3999, #gone))) end
  for i = 1, #listed, 4000 do redis.call('ZADD', key, unpack(listed, i, math.min(i + 3999, #listed))) end
end

local function ix_sync(s, changes)
  for _, x in ipairs(s.ix or {}) do
    local f, key, t = x[1], x[2], x[3]
    local new = changes[f]
    if new ~= nil then
      local old = ix_old(s, f)
      if old ~= new and t == 't' then tx_sync(key, s.id, old, new)
      elseif old ~= new and t == 'n' then
        -- the member is the id: ZADD moves its score, only a removal needs ZREM
        if new then redis.call('ZADD', key, tonumber(new), s.id) else redis.call('ZREM', key, s.id) end
      elseif old ~= new then
        if old then redis.call('ZREM', key, ix_entry(t, old, s.id)) end
        if new then redis.call('ZADD', key, '0', ix_entry(t, new, s.id)) end
      end
    end
  end
  for _, u in ipairs(s.uq or {}) do
    local new = changes[u[1]]
    if new ~= nil then
      local old = ix_old(s, u[1])
      if old ~= new then
        if old and redis.call('HGET', u[2], old) == s.id then redis.call('HDEL', u[2], old) end
        if new then redis.call('HSET', u[2], new, s.id) end
      end
    end
  end
end

-- every indexed or unique field of a whole-record write: its new text, or false when absent
local function ix_changes(s, kv)
  local all = {}
  for i = 1, #kv, 2 do all[kv[i]] = kv[i + 1] end
  local changes = {}
  for _, x in ipairs(s.ix or {}) do changes[x[1]] = all[x[1]] or false end
  for _, u in ipairs(s.uq or {}) do changes[u[1]] = all[u[1]] or false end
  return changes
end
