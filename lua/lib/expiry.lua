--- Expiring records. Redis drops an expired record hash by itself, but not its id and index
--- entries; these keys let a later script sweep them (no keyspace notifications needed):
---   <Model>#exp    ZSET id -> expiry time (ms)
---   <Model>#expv   HASH id -> JSON of the record's lexicographic index, word index and unique
---                  values (entries that embed the value; score-indexed entries go by id alone)
--- A record state carries s.exp = { exp_key, expv_key } (see st_indexed).
--- exp_track(s, ms) registers a record that expires in ms; exp_untrack(s) forgets it;
--- exp_refresh(s, changes) keeps the stored values of a registered record current;
--- exp_sweep(prefix, ids, exp, ix, uq, ch, limit) removes the ids and index entries of expired
--- records, at most `limit` per call: only write scripts of their own sweep (Model.sweepExpired),
--- never a read. Until then reads skip expired ids (their record is gone; exp_gone lists them for
--- counts the indexes alone answer) and writes take an expired owner as absent (uq_check, exp_reuse).
--- With a change stream (ch, s.ch) the stored values also hold the record's version `#v`, and a
--- sweep appends an 'expire' entry for each record it removes.
--- @include "index"
--- @include "changes"
local function exp_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- the lexicographic-index, word-index and unique values of s once `changes` apply
local function exp_values(s, changes)
  local vals = {}
  local function take(f)
    local v = changes[f]
    if v == nil then v = ix_old(s, f) end
    if v then vals[f] = v end
  end
  for _, x in ipairs(s.ix or {}) do
    if x[3] ~= 'n' then take(x[1]) end
  end
  for _, u in ipairs(s.uq or {}) do take(u[1]) end
  if s.ch then take('#v') end
  return vals
end

local function exp_track(s, ms, changes)
  if not s.exp then return end
  redis.call('ZADD', s.exp[1], exp_now() + ms, s.id)
  redis.call('HSET', s.exp[2], s.id, cjson.encode(exp_values(s, changes or {})))
end

local function exp_untrack(s)
  if not s.exp then return end
  redis.call('ZREM', s.exp[1], s.id)
  redis.call('HDEL', s.exp[2], s.id)
end

-- only the values exp_values keeps can go stale (the version, with a stream): a change to none
-- of them costs no read
local function exp_refresh(s, changes)
  if not s.exp then return end
  local touched = s.ch ~= nil and changes['#v'] ~= nil
  for _, x in ipairs(s.ix or {}) do
    if x[3] ~= 'n' and changes[x[1]] ~= nil then touched = true end
  end
  for _, u in ipairs(s.uq or {}) do
    if changes[u[1]] ~= nil then touched = true end
  end
  if touched and redis.call('HEXISTS', s.exp[2], s.id) == 1 then
    redis.call('HSET', s.exp[2], s.id, cjson.encode(exp_values(s, changes)))
  end
end

-- removes expired record `id`'s id and index entries (by the values kept for it) and its
-- bookkeeping, with its 'expire' entry when the model has a stream
local function exp_drop(id, ids, exp, ix, uq, ch)
  local vals = cjson.decode(redis.call('HGET', exp[2], id) or '{}')
  for _, x in ipairs(ix) do
    if x[3] == 'n' then redis.call('ZREM', x[2], id)
    elseif x[3] == 't' then tx_sync(x[2], id, vals[x[1]] or false, false)
    elseif vals[x[1]] then redis.call('ZREM', x[2], ix_member(vals[x[1]], id)) end
  end
  for _, u in ipairs(uq) do
    local v = vals[u[1]]
    if v and redis.call('HGET', u[2], v) == id then redis.call('HDEL', u[2], v) end
  end
  redis.call('ZREM', ids, id)
  redis.call('ZREM', exp[1], id)
  redis.call('HDEL', exp[2], id)
  if ch then ch_emit(ch, 'expire', id, vals['#v'] or '0', {}) end
end

-- the ids due in the expiry set (their time has come; at most `limit`, nil for all)
local function exp_due(exp, now, limit)
  if limit then return redis.call('ZRANGEBYSCORE', exp[1], '-inf', now, 'LIMIT', 0, limit) end
  return redis.call('ZRANGEBYSCORE', exp[1], '-inf', now)
end

-- Sweeps up to `limit` due ids (nil: all): an expired record is dropped (exp_drop); a record
-- that lives on (a sliding TTL re-armed it, PERSIST removed its TTL) is filed under its new time
-- or forgotten. Returns { due ids handled, records dropped }: fewer handled than `limit` means
-- nothing is left due.
local function exp_sweep(prefix, ids, exp, ix, uq, ch, limit)
  local now = exp_now()
  local due = exp_due(exp, now, limit)
  local dropped = 0
  for _, id in ipairs(due) do
    local pttl = redis.call('PTTL', prefix .. id)
    if pttl == -2 then
      exp_drop(id, ids, exp, ix, uq, ch)
      dropped = dropped + 1
    elseif pttl == -1 then
      redis.call('ZREM', exp[1], id)
      redis.call('HDEL', exp[2], id)
    else
      redis.call('ZADD', exp[1], now + pttl, id)
    end
  end
  return { #due, dropped }
end

-- The ids of expired records no sweep has dropped yet (a set): due in the expiry set, and their
-- record gone. Reads only; a read uses it to leave them out of what the indexes alone count.
local function exp_gone(prefix, exp)
  local gone = {}
  for _, id in ipairs(exp_due(exp, exp_now())) do
    if redis.call('EXISTS', prefix .. id) == 0 then gone[id] = true end
  end
  return gone
end

-- A write that makes record s (absent) anew: when an expired record of the same id left its
-- entries behind (no sweep reached it yet), they go first, with its 'expire' entry, so none of
-- them is taken for the new record's.
local function exp_reuse(s, ids)
  if s.exp and redis.call('HEXISTS', s.exp[2], s.id) == 1 then
    exp_drop(s.id, ids, s.exp, s.ix or {}, s.uq or {}, s.ch)
  end
end
