--- Record locks: a lease on one key (`<Model>#lock:<id>`, passed in KEYS by the caller, so the
--- script stays cluster-legal), holding a random token unique to each acquisition.
--- lock_acquire(key, token, lease_ms): 1 when this caller got the lock (SET NX PX), else 0.
--- The lease expires on its own, so a holder that dies never blocks the record for longer.
local function lock_acquire(key, token, lease_ms)
  if redis.call('SET', key, token, 'NX', 'PX', lease_ms) then return 1 end
  return 0
end

--- lock_release(key, token): 1 when the lock was still ours and is now deleted, else 0.
--- Compare-and-delete: after our lease expired and someone else took the lock, the key holds
--- their token, and we leave it alone.
local function lock_release(key, token)
  if redis.call('GET', key) == token then return redis.call('DEL', key) end
  return 0
end
