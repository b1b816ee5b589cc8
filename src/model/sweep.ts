/**
 * Sweeping expired records. Redis drops an expired record's hash by itself; its id, index entries
 * and unique values stay until a sweep removes them (lua/lib/expiry.lua). Nothing depends on the
 * sweep being done: reads skip expired ids and writes take an expired owner as absent. A sweep is a
 * write script of its own, never part of a read, handling at most `chunkSize` due ids per script so
 * none holds Redis for long; it appends the 'expire' change events.
 *
 * Sweeps run when a query saw due ids (its reply says so, see q_run): `sweepSoon` starts one in the
 * background, at most one per shard and connection at a time. `Model.sweepExpired()` sweeps
 * everything due now and resolves to how many records it dropped.
 */
import { node, param, type ProgramNode } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { UsageError } from '../errors.js';
import type { ModelCore } from './contract.js';
import { guardOf } from './reshard.js';

export interface SweepOptions {
  /** Due ids per script (default 500). */
  chunkSize?: number;
}

const CHUNK = 500;

/** What a sweep needs of a model. */
type Swept = Pick<ModelCore, 'db' | 'keys' | 'shardKeys' | 'run'>;

/** Sweeps one shard until nothing is due: how many expired records were dropped. */
async function sweepShard(model: Swept, shard: number, chunkSize: number): Promise<number> {
  const keys = model.shardKeys(shard);
  const guard = guardOf(model.keys, shard, String(model.keys.shards));
  let dropped = 0;
  for (;;) {
    const program: ProgramNode = {
      kind: 'Program', mode: 'write', records: [], guards: guard ? [guard] : [],
      body: [node({
        kind: 'SweepExpired', prefix: param(keys.prefix), idsKey: keys.idsKey, ix: keys.ix, uq: keys.uq, exp: keys.exp,
        ...(keys.ch && { ch: keys.ch }), count: param(String(chunkSize)),
      })],
    };
    const chunk = await runProgram(model, program, decode.sweepChunk);
    dropped += chunk.dropped;
    if (chunk.handled < chunkSize) return dropped;
  }
}

/** Sweeps every shard of the model: how many expired records were dropped. */
export async function sweepExpired(model: Swept, options: SweepOptions = {}): Promise<number> {
  const chunkSize = options.chunkSize ?? CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new UsageError('chunkSize must be a positive integer');
  const shards = Array.from({ length: model.keys.shards }, (_, i) => i);
  return (await Promise.all(shards.map((shard) => sweepShard(model, shard, chunkSize)))).reduce((a, b) => a + b, 0);
}

/** The sweeps running in the background, by connection and shard prefix. */
const running = new WeakMap<object, Set<string>>();

/**
 * Starts a background sweep of one shard, unless one is running there. Its failure (a lost
 * connection, a reshard in progress, a full memory) is dropped: nothing depends on it, and the
 * next query that sees due ids starts another.
 */
export function sweepSoon(model: Swept, shard: number): void {
  const busy = running.get(model.db) ?? new Set<string>();
  running.set(model.db, busy);
  const prefix = model.shardKeys(shard).prefix;
  if (busy.has(prefix)) return;
  busy.add(prefix);
  sweepShard(model, shard, CHUNK).catch(() => undefined).finally(() => busy.delete(prefix));
}
