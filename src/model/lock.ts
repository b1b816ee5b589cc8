/**
 * Record locks: `u.lock(fn, { leaseMs, waitMs })` / `Model.lock(id, fn, opts)`.
 *
 * A lock is a lease on the key `<Model>#lock:<id>` (same prefix and hash tag as the record) that
 * holds a random token per acquisition. Acquiring is one script (`SET key token NX PX leaseMs`),
 * retried with a jittered backoff until `waitMs` has passed (then `LockTimeoutError`); releasing
 * is one script that deletes the key only while it still holds our token, so a holder whose lease
 * ran out can never release the lock someone else took since.
 */
import { randomUUID } from 'node:crypto';
import type { TProperties } from 'typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, keyArg, make, param, type ProgramNode } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { LockTimeoutError, UsageError } from '../errors.js';
import type { ModelCore } from './contract.js';
import type { LockOptions, Rec } from './types.js';

const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 50;

/**
 * The script that takes lock `key` for `leaseMs` if it is free; replies `[1]` when taken, `[0]` if not.
 *
 * ```lua
 * R[1] = lock_acquire(KEYS[1], P[1], P[2])   -- SET KEYS[1] token NX PX leaseMs
 * ```
 */
export function acquireProgram(key: string, token: string, leaseMs: number): ProgramNode {
  return make('Program', {
    mode: 'write', records: [],
    body: [call('lock_acquire', keyArg(key), param(token, 'str'), param(String(leaseMs)))],
  });
}

/**
 * The script that deletes lock `key` only while it holds `token`; replies `[1]` when released, `[0]` if not.
 *
 * ```lua
 * R[1] = lock_release(KEYS[1], P[1])   -- if GET == token then DEL
 * ```
 */
export function releaseProgram(key: string, token: string): ProgramNode {
  return make('Program', {
    mode: 'write', records: [],
    body: [call('lock_release', keyArg(key), param(token, 'str'))],
  });
}

const nonNegativeInteger = (name: string, value: number): number => {
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${name} must be a non-negative integer, got ${value}`);
  return value;
};

/**
 * Runs `fn` holding the lock of record `id`, with the record freshly loaded; returns what `fn` returns.
 *
 * @example
 * await User.lock(id, async (u) => { u.credits -= 1; await u.save(); }, { leaseMs: 2_000 });
 */
export async function withLock<S extends TProperties, T>(
  model: ModelCore<S>,
  id: string,
  fn: (locked: Rec<S>) => Promise<T> | T,
  options: LockOptions = {},
): Promise<T> {
  const leaseMs = nonNegativeInteger('leaseMs', options.leaseMs ?? 10_000);
  const waitMs = nonNegativeInteger('waitMs', options.waitMs ?? 5_000);
  if (leaseMs === 0) throw new UsageError('leaseMs must be positive');
  const key = model.keys.lock(id);
  const token = randomUUID();
  const db = model.db;
  const deadline = Date.now() + waitMs;
  const { signal } = options;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    signal?.throwIfAborted();
    if (await runProgram(db, acquireProgram(key, token, leaseMs), decode.flag)) break;
    const left = deadline - Date.now();
    if (left <= 0) throw new LockTimeoutError(`${model.name} ${id}: lock still held after ${waitMs} ms`);
    // Full delay at most, half of it at least: waiters that collided once drift apart.
    await sleep(Math.min(left, delay / 2 + Math.random() * (delay / 2)), undefined, { signal }).catch((err: unknown) => {
      signal?.throwIfAborted();   // the caller's reason, as every rapyer call rejects on abort
      throw err;
    });
  }
  try {
    return await fn(await model.get(id));
  } finally {
    await runProgram(db, releaseProgram(key, token), decode.flag);
  }
}
