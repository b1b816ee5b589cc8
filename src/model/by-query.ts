/**
 * updateMany / deleteMany by query, chunk by chunk on the server (lua/lib/cursor.lua): on each
 * target shard (in parallel) the first script selects the query's candidates with its plan, acts
 * on the first `chunkSize` of them that match and leaves the others in a cursor list on the
 * server; each next script acts on the next `chunkSize` from that list. So ids never travel to the
 * client, the plan is probed once, and every chunk is one script (all or nothing).
 *
 * What a call covers: the records the plan selects when the first chunk runs. Each is checked
 * against the whole condition when its chunk runs, and acted on then if it matches, exactly once;
 * a record that starts matching after the first chunk is not included.
 */
import { randomBytes } from 'node:crypto';
import type { TProperties } from 'typebox';
import { call, freezeDeep, keyArg, make, param, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { Condition } from '../ops/condition.js';
import { QueryRun } from '../query/execute.js';
import { chunkSizeOf, QUERY_CHUNK_SIZE, type ChunkOptions } from './chunks.js';
import type { ModelCore } from './contract.js';
import { sweepSoon } from './sweep.js';

/**
 * Runs `action` (with the pipeline program `body` for an update) on every match of `where`, one
 * chunk per script, one script in flight per shard (a chunk reads the cursor the previous one
 * left); when a chunk fails, no shard starts another. Resolves to how many records changed.
 */
export async function actByQuery<S extends TProperties>(
  model: ModelCore<S>, where: Condition, action: 'update' | 'delete', body: readonly Stmt[], options: ChunkOptions,
): Promise<number> {
  const size = String(chunkSizeOf(options, QUERY_CHUNK_SIZE));
  await ensureIndexes(model);
  const run = new QueryRun(model, where, { offset: 0, sort: [] });
  const token = randomBytes(8).toString('hex');
  const left = new Map<number, number>();
  let handled = 0;
  let changed = 0;
  let failed = false;
  await Promise.all(run.targetShards().map(async (shard) => {
    const key = model.keys.cursor(token, shard);
    let first = true;
    try {
      while (first || left.get(shard)! > 0) {
        if (failed) return;
        options.signal?.throwIfAborted();
        const node: QueryNode = freezeDeep({ ...run.node(action, body, undefined, shard), cursor: { key, first: param(first ? '1' : ''), size: param(size) } });
        const { due, value } = await runProgram(model, node, decode.queried(decode.chunkCount)).catch((err: unknown) => {
          failed = true;
          throw err;
        });
        if (due) sweepSoon(model, shard);
        handled += value.handled;
        changed += value.count;
        left.set(shard, value.left);
        first = false;
        options.onProgress?.({ done: handled, total: handled + [...left.values()].reduce((a, b) => a + b, 0) });
      }
    } finally {
      // a call that stopped early (a failed chunk, an abort) drops its cursor now (else it expires within 10 minutes)
      if ((left.get(shard) ?? 0) > 0) {
        const drop = make('Program', { mode: 'write', binary: false, records: [], body: [call('bulk_unchain', keyArg(key))] });
        await runProgram(model.db, drop, decode.count).catch(() => undefined);
      }
    }
  }));
  return changed;
}
