/**
 * How bulk work is cut: items grouped by the hash tag their records share (one group per model,
 * or per shard), each group cut into chunks of one script each, and the errors of a chunk mapped
 * back to the caller's positions. Used by src/model/bulk.ts.
 */
import type { TProperties } from 'typebox';
import { ConflictError, UniqueViolationError, UsageError, ValidationError } from '../errors.js';
import { Condition } from '../ops/condition.js';
import type { ModelCore, ShardKeys } from './contract.js';
import { recordOf } from './record.js';

/**
 * Records per chunk script by default, measured with `npx tsx bench/bulk-chunk.ts` (3 indexed
 * fields, a unique field, an array and a record field): insert is the costliest bulk script, about
 * 50-90 µs per record on a busy 2-core machine, so a chunk of 200 holds Redis for about 15 ms there
 * (less on an idle server); reads, updates and deletes of 200 cost less. See README.md, "Bulk operations".
 */
export const DEFAULT_CHUNK_SIZE = 200;

/**
 * Records per insertMany script by default, measured with `npx tsx bench/bulk-chunk.ts` (see
 * README.md, "Bulk operations"): a new record costs its script about 10-20 µs, so a chunk of 1,000
 * holds Redis for about 10-20 ms, and with two chunks in flight the server never waits for the client.
 */
export const INSERT_CHUNK_SIZE = 1_000;

/**
 * Records per updateMany / deleteMany-by-query script by default. Measured with
 * `bench/bulk-profile.ts` (50,000 records): a match costs its chunk about 12-17 µs of server time
 * at 1,000 per chunk against 16-18 µs at 200 (every id after the first chunk goes through the
 * cursor list and is re-checked, and per-chunk costs amortise), so a chunk holds Redis for about
 * 15 ms, like an insert chunk; client CPU per record falls from about 3 µs to about 1.3 µs.
 */
export const QUERY_CHUNK_SIZE = 1_000;

export interface Progress {
  readonly done: number;
  readonly total: number;
}

export interface ChunkOptions {
  /**
   * Records per script (default {@link DEFAULT_CHUNK_SIZE}; insertMany: {@link INSERT_CHUNK_SIZE};
   * updateMany / deleteMany by query: {@link QUERY_CHUNK_SIZE}).
   */
  chunkSize?: number;
  /** Called after each chunk's script with the items handled so far. */
  onProgress?: (progress: Progress) => void;
  /**
   * Stops before the next chunk: the call rejects with `signal.reason`; chunks already sent stay
   * written (each is all or nothing), later ones never run.
   */
  signal?: AbortSignal;
}

/**
 * The ids of a list of ids or records; anything else (a number, a condition, another model's
 * record) is a ValidationError naming its position, never coerced with String().
 */
export function idsOf(model: ModelCore<any>, items: readonly unknown[]): string[] {
  return items.map((item, i) => {
    if (typeof item === 'string') return item;
    const rec = recordOf(item);
    if (rec && rec.model.name === model.name) return rec.id;
    const what = rec ? `a ${rec.model.name} record` : item instanceof Condition ? 'a condition' : typeof item;
    throw new ValidationError(`ids[${i}]: expected an id (string) or a ${model.name} record, got ${what}`, String(i), 'id', i);
  });
}

export function chunkSizeOf(options: ChunkOptions, fallback = DEFAULT_CHUNK_SIZE): number {
  const size = options.chunkSize ?? fallback;
  if (!Number.isInteger(size) || size < 1) throw new UsageError('chunkSize must be a positive integer');
  return size;
}

/** A shard's keys (record keys are `prefix + id`) and its items, with their positions in the caller's list. */
export interface Group<T> extends ShardKeys {
  readonly items: T[];
  readonly positions: number[];
}

/** Items grouped by the hash tag their records live under: one group for the model, or one per shard. */
export function partition<S extends TProperties, T>(model: ModelCore<S>, items: T[], idOf: (item: T) => string): Group<T>[] {
  const groups = new Map<number, Group<T>>();
  items.forEach((item, i) => {
    const shard = model.keys.shardOf(idOf(item));
    let group = groups.get(shard);
    if (!group) groups.set(shard, (group = { ...model.shardKeys(shard), items: [], positions: [] }));
    group.items.push(item);
    group.positions.push(i);
  });
  return [...groups.values()];
}

/**
 * Runs `work` on each chunk of each group (groups in parallel, a group's chunks in order, up to
 * `depth` of them in flight), reporting progress after each; `positions` are the chunk items'
 * indexes in `items`.
 */
export async function perChunk<S extends TProperties, T>(
  model: ModelCore<S>, items: T[], idOf: (item: T) => string, options: ChunkOptions,
  work: (group: Group<T>, chunk: T[], positions: number[]) => Promise<void>, depth = 1,
): Promise<void> {
  const size = chunkSizeOf(options);
  let done = 0;
  let failed = false;
  await Promise.all(partition(model, items, idOf).map(async (group) => {
    const starts: number[] = [];
    for (let i = 0; i < group.items.length; i += size) starts.push(i);
    const run = async (i: number): Promise<void> => {
      const chunk = group.items.slice(i, i + size);
      await work(group, chunk, group.positions.slice(i, i + size));
      done += chunk.length;
      options.onProgress?.({ done, total: items.length });
    };
    try {
      await inFlight(starts, depth, run, () => failed, options.signal);
    } catch (err) {
      failed = true;
      throw err;
    }
  }));
}

/**
 * Runs `send` on each of a group's chunks in order with up to `depth` scripts in flight, so Redis
 * runs one while the next travels (and the client handles the replies of the last). Before each
 * send, `stop()` may end the loop (another group failed) and `signal` may abort it; when a chunk
 * fails, none is sent after it, and the ones already sent are awaited before the error is
 * rethrown (their scripts see the failure themselves: see bulk_insert's chain).
 */
export async function inFlight<C>(
  chunks: readonly C[], depth: number, send: (chunk: C, i: number) => Promise<void>, stop: () => boolean, signal?: AbortSignal,
): Promise<void> {
  // each outcome is caught at once: a later chunk may fail before an earlier one is awaited
  const running: Promise<{ err: unknown } | undefined>[] = [];
  let next = 0;
  let error: { err: unknown } | undefined;
  for (;;) {
    while (!error && next < chunks.length && running.length < depth && !stop()) {
      if (signal?.aborted) {
        error = { err: signal.reason };
        break;
      }
      running.push(send(chunks[next], next).then(() => undefined, (err: unknown) => ({ err })));
      next++;
    }
    const settled = running.shift();
    if (!settled) break;
    error ??= await settled;
  }
  if (error) throw error.err;
}

/** A chunk's CONFLICT/UNIQUE error carries the item's index in the chunk: map it to the caller's list. */
export function renumber(err: unknown, positions: readonly number[]): unknown {
  if (!(err instanceof ConflictError || err instanceof UniqueViolationError) || err.index === undefined) return err;
  const index = positions[err.index];
  const message = `item ${index}: ${err.message}`;
  return err instanceof ConflictError ? new ConflictError(message, index) : new UniqueViolationError(message, err.path, index);
}
