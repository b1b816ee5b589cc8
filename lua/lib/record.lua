--- Whole-record operations. Every record hash holds `#v`, its version, bumped by each write;
--- its presence means the record exists.
--- rec_require(s): the version; NOT_FOUND when the record is absent.
--- @include "state"
--- @include "fail"
--- @include "index"
--- @include "expiry"
--- @include "changes"
local function rec_require(s)
  local v = st_get(s, '#v')
  if v == nil then fail('NOT_FOUND', 'record ' .. tostring(s.id) .. ' not found') end
  s.v0 = v
  return v
end

--- rec_write(s, ids, id, kv, mode, ttl_ms, seen): writes a whole record. mode 'create' raises
--- CONFLICT when the id exists; 'replace' overwrites it, keeping its TTL unless the model sets one;
--- 'save' replaces too, but only while the stored version is still `seen` (the version the writer
--- read), so a stale copy never overwrites newer data nor brings a deleted record back.
--- kv is the flat field/value list of the record. Returns the new version. With a change stream
--- (s.ch) it appends 'create', or 'update' naming the fields that differ from the replaced record.
local function rec_write(s, ids, id, kv, mode, ttl, seen)
  local v0 = redis.call('HGET', s.key, '#v')
  if v0 and mode == 'create' then fail('CONFLICT', 'record ' .. id .. ' already exists') end
  if mode == 'save' and v0 ~= seen then
    local what = 'was deleted'
    if v0 then what = 'changed (version ' .. seen .. ', now ' .. v0 .. ')' end
    fail('CONFLICT', 'record ' .. id .. ' ' .. what .. ' since it was read: reload() it, or save({ force: true }) to overwrite')
  end
  local changes = ix_changes(s, kv)
  if not v0 then
    for f in pairs(changes) do s.cache[f] = false end
  end
  uq_check(s, changes)
  if not v0 then exp_reuse(s, ids) end
  local version = string.format('%d', tonumber(v0 or '0') + 1)
  if s.ch then changes['#v'] = version end -- kept by exp_track for the 'expire' entry
  local pttl = -1
  ttl = tonumber(ttl)
  if v0 then pttl = redis.call('PTTL', s.key) end
  if ttl > 0 then pttl = ttl end
  if pttl > 0 then exp_track(s, pttl, changes) elseif v0 then exp_untrack(s) end
  ix_sync(s, changes)
  local old = s.ch and v0 and redis.call('HGETALL', s.key) or nil
  if v0 then redis.call('DEL', s.key) end
  -- the version rides with the first fields: one HSET for an ordinary record
  local head = math.min(#kv, 3998)
  redis.call('HSET', s.key, '#v', version, unpack(kv, 1, head))
  for i = head + 1, #kv, 4000 do redis.call('HSET', s.key, unpack(kv, i, math.min(i + 3999, #kv))) end
  redis.call('ZADD', ids, '0', id)
  if pttl > 0 then redis.call('PEXPIRE', s.key, pttl) end
  if s.ch then ch_written(s.ch, id, version, kv, old) end
  return version
end

--- rec_delete(s, ids, id): 1 if the record existed (then its 'delete' entry, with a change stream)
local function rec_delete(s, ids, id)
  local v = redis.call('HGET', s.key, '#v')
  if v then ix_sync(s, ix_changes(s, {})) end
  exp_untrack(s)
  redis.call('ZREM', ids, id)
  if not v then return 0 end
  redis.call('DEL', s.key)
  if s.ch then ch_emit(s.ch, 'delete', id, v, {}) end
  return 1
end

--- rec_slide(s, ms): re-arms a sliding TTL after a read or write of the record (a no-op when it
--- is gone). The model's expiry set keeps the older time: a sweep that reaches it finds the record
--- alive, and files it again under its new expiry (exp_sweep), so a read costs one PEXPIRE (reads
--- that see the old time check the record itself: exp_gone).
local function rec_slide(s, ms)
  redis.call('PEXPIRE', s.key, ms)
end

--- rec_expire(s, ms): sets the record's TTL; 0 when the record does not exist
local function rec_expire(s, ms)
  local done = redis.call('PEXPIRE', s.key, ms)
  if done == 1 then exp_track(s, tonumber(ms)) end
  return done
end
