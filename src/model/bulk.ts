/**
 * Bulk operations: `insertMany`, `getMany`, `updateMany`, `deleteMany`. Work is cut into chunks
 * and each chunk is one script (one round trip, all or nothing); chunks run one after another, so
 * when a chunk fails the earlier ones stay written and the later ones never run.
 *
 * Work is first grouped by the hash tag its records share ({@link partition}): one group per
 * model, or per shard on a sharded model (`shards: N` on a cluster); each group is chunked on its
 * own. Groups run in parallel, chunks of one group one after another; when a chunk fails, the
 * other groups start no further chunk (the ones already sent complete).
 */
import { randomBytes } from 'node:crypto';
import type { TProperties } from 'typebox';
import {
  call, changesArg, expiryArg, indexesArg, keyArg, make, param, paramList, word, type ProgramNode, type ShardGuard, type Stmt,
} from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { indexesBeforeWrite } from '../index/maintenance.js';
import {
  NotFoundError, QueryError, UsageError, ValidationError,
} from '../errors.js';
import { Condition, EVERY } from '../ops/condition.js';
import { Recorder } from '../ops/recorder.js';
import { Query } from '../query/query.js';
import type { Raw } from '../schema/codec.js';
import type { ModelCore, ShardKeys } from './contract.js';
import {
  chunkSizeOf, idsOf, inFlight, INSERT_CHUNK_SIZE, perChunk, renumber, type ChunkOptions,
} from './chunks.js';
import { readRecord } from './layout.js';
import { idOfRecord } from './record.js';
import { actByQuery } from './by-query.js';
import { guardOf } from './reshard.js';
import { crossUnique, refuseUniqueWrites } from './unique-fields.js';
import { heldValues, insertClaimed, release } from './unique.js';
import type { CreateInput, Handles, PipelineFn, Rec, RecordMethods } from './types.js';

export { DEFAULT_CHUNK_SIZE, INSERT_CHUNK_SIZE, type ChunkOptions, type Progress } from './chunks.js';

export interface InsertManyOptions extends ChunkOptions {
  /**
   * An item whose id exists, or whose unique value is taken (by a stored record or an earlier item):
   * 'error' (default) raises ConflictError / UniqueViolationError and its chunk writes nothing;
   * 'skip' leaves it out (and out of the result); 'replace' overwrites a record with the same id
   * like `save()` (a unique value held by another record still raises).
   */
  onConflict?: 'error' | 'skip' | 'replace';
}

export interface GetManyOptions extends ChunkOptions {
  /** An id with no record: 'error' (default) raises NotFoundError, 'skip' leaves it out, 'null' gives null. */
  missing?: 'error' | 'skip' | 'null';
}

/** An id, or a record of the model (its id is used). */
export type IdOrRecord<S extends TProperties> = string | RecordMethods<S>;

/** The targets of updateMany/deleteMany: ids or records, or a condition as `find` takes it. */
export type BulkTarget<S extends TProperties> =
  | readonly IdOrRecord<S>[] | Condition | ((fields: Handles<S, 'pipe'>) => Condition);

/** The chunks of one shard's items: each one script's argument list, and its items' positions in the caller's list. */
interface InsertGroup {
  readonly keys: ShardKeys;
  readonly chunks: { readonly list: Raw[]; readonly positions: number[] }[];
}

/**
 * Validates every item (defaults filled) before anything is written, errors naming the item, in
 * one pass that writes each item's id, field count and fields into its chunk's argument list
 * (the checks need the stored form anyway: maxValueBytes). On an unsharded model they go straight
 * there; a sharded model's items go through a list of their own until their id names the shard.
 */
function prepareAll<S extends TProperties>(
  model: ModelCore<S>, inputs: readonly unknown[], size: number,
): { ids: string[]; datas: Record<string, unknown>[]; groups: InsertGroup[] } {
  const ids: string[] = new Array(inputs.length);
  const datas: Record<string, unknown>[] = new Array(inputs.length);
  const groups = new Map<number, InsertGroup>();
  const groupOf = (shard: number): InsertGroup => {
    let group = groups.get(shard);
    if (!group) groups.set(shard, (group = { keys: model.shardKeys(shard), chunks: [] }));
    return group;
  };
  const chunkOf = (group: InsertGroup): InsertGroup['chunks'][number] => {
    let chunk = group.chunks.at(-1);
    if (!chunk || chunk.positions.length >= size) group.chunks.push((chunk = { list: [], positions: [] }));
    return chunk;
  };
  const single = model.keys.shards === 1 ? groupOf(0) : undefined;
  // a record (of this model or another) keeps its id, unless the model takes ids from a key field
  const keyed = model.options.key !== undefined;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    try {
      const chunk = single && chunkOf(single);
      const into: Raw[] = chunk ? chunk.list : [];
      const at = into.length;
      if (chunk) into.push('', ''); // the id and the field count, once known
      const { data } = model.prepare(input, into);
      const id = (keyed ? undefined : idOfRecord(input)) ?? model.idOf(data);
      ids[i] = id;
      datas[i] = data;
      if (chunk) {
        into[at] = id;
        into[at + 1] = String(into.length - at - 2);
        chunk.positions.push(i);
      } else {
        const target = chunkOf(groupOf(model.keys.shardOf(id)));
        target.list.push(id, String(into.length));
        for (const f of into) target.list.push(f);
        target.positions.push(i);
      }
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new ValidationError(`item ${i}: ${err.message}`, err.path ? `${i}.${err.path}` : String(i), err.rule, i);
      }
      throw err;
    }
  }
  return { ids, datas, groups: [...groups.values()] };
}

/** Insert scripts in flight per shard: one runs while the next travels and the last reply is handled. */
const INSERT_DEPTH = 2;

/**
 * Validates every item, then writes them a chunk per script (records, id set, indexes, unique
 * values, the model's ttl), several chunks in flight per shard: a chunk runs only when the one
 * before it completed (bulk_insert's chain), so after a failed chunk none of the call's later chunks
 * writes. Resolves to the records written, in input order (skipped ones left out).
 *
 * `await User.insertMany([{ name: 'Ada', age: 36 }, ...], { onConflict: 'skip', onProgress: ({ done, total }) => ... })`
 */
export async function insertMany<S extends TProperties>(
  model: ModelCore<S>, inputs: readonly CreateInput<S>[], options: InsertManyOptions = {},
): Promise<Rec<S>[]> {
  const onConflict = options.onConflict ?? 'error';
  if (!['error', 'skip', 'replace'].includes(onConflict)) throw new UsageError(`onConflict must be 'error', 'skip' or 'replace'`);
  const size = chunkSizeOf(options, INSERT_CHUNK_SIZE);
  const { ids, datas, groups } = prepareAll(model, inputs, size);
  const ttlMs = String(model.ttlSpec.ms);
  const token = randomBytes(8).toString('hex');
  const out: (Rec<S> | undefined)[] = new Array(inputs.length);
  let done = 0;
  let failed = false;
  const cross = crossUnique(model);
  await indexesBeforeWrite(model, groups.map(({ keys }) => keys.shard));
  await Promise.all(groups.map(async ({ keys, chunks }) => {
    const chain = model.keys.chain(token, keys.shard);
    const steps = chunks.length > 1 ? String(chunks.length) : null;
    let completed = 0;
    /** Per chunk, settled when its send has (written, refused or failed). */
    const finished: Promise<unknown>[] = [];
    const send = (chunk: InsertGroup['chunks'][number], i: number): Promise<void> => {
      const sent = sendChunk(chunk, i);
      finished[i] = sent.catch(() => undefined);
      return sent;
    };
    const sendChunk = async ({ list, positions }: InsertGroup['chunks'][number], i: number): Promise<void> => {
      /** The chunk's script over `items`; `deadline`: the lease of their unique claims across shards, checked first. */
      const run = async (items: readonly Raw[], deadline?: string): Promise<string[]> => {
        const insert = call('bulk_insert', keyArg(keys.idsKey), indexesArg(keys.ix, keys.uq), expiryArg(keys.exp), changesArg(keys.ch),
          keyArg(chain), param(steps && String(i + 1)), param(steps), param(keys.prefix), word(onConflict), param(ttlMs), paramList(Object.freeze(items)));
        const lease = deadline === undefined ? [] : [call('uq_lease', keyArg(keys.idsKey), param(deadline), paramList([]))];
        const program: ProgramNode = make('Program', {
          mode: 'write', binary: model.binary, records: [], guards: guardsOf(model, keys), body: [...lease, insert],
        });
        return deadline === undefined ? runProgram(model, program, decode.versions)
          : (await runProgram(model, program, decode.leased(decode.versions))).result;
      };
      // unique values across shards are claimed first (src/model/unique.ts)
      const attempt = () => (cross.length === 0 ? run(list) : insertClaimed(model, cross, list, onConflict === 'skip', (deadline, kept) => run(kept, deadline)));
      let versions: string[];
      try {
        versions = await attempt();
        if (versions.length === 0 && !failed) {
          // refused by the chain, yet nothing before it failed: it reached Redis before the chunk
          // before it (a redirect or a reconnect may reorder sends); it wrote nothing, so run it
          // again once that chunk is done
          await finished[i - 1];
          if (!failed) versions = await attempt();
        }
      } catch (err) {
        failed = true;
        throw renumber(err, positions);
      }
      if (versions.length === 0) return; // an earlier chunk failed: this one wrote nothing
      positions.forEach((at, k) => {
        const version = versions[k];
        if (version) out[at] = model.wrap(ids[at], datas[at], { version, heads: new Map() });
      });
      completed++;
      done += positions.length;
      options.onProgress?.({ done, total: inputs.length });
    };
    try {
      await inFlight(chunks, INSERT_DEPTH, send, () => failed, options.signal);
    } finally {
      // a call that stopped early leaves the chain of its last completed chunk: drop it now
      if (steps && completed < chunks.length) {
        const unchain: ProgramNode = make('Program', { mode: 'write', binary: false, records: [], body: [call('bulk_unchain', keyArg(chain))] });
        await runProgram(model.db, unchain, decode.count).catch(() => undefined); // else it expires within 10 minutes
      }
    }
  }));
  return out.filter((r): r is Rec<S> => r !== undefined);
}

/**
 * getMany's chunks in flight per shard: Redis reads the next while the client decodes the last
 * (reads can overlap; writes keep their order).
 */
const READ_DEPTH = 2;

/**
 * The records of `ids`, in input order, one read-only script per chunk.
 * `await User.getMany(ids, { missing: 'null' })`
 */
export async function getMany<S extends TProperties>(
  model: ModelCore<S>, ids: readonly IdOrRecord<S>[], options: GetManyOptions = {},
): Promise<(Rec<S> | null)[]> {
  const missing = options.missing ?? 'error';
  if (!['error', 'skip', 'null'].includes(missing)) throw new UsageError(`missing must be 'error', 'skip' or 'null'`);
  const list = idsOf(model, ids);
  if ((await model.shardState()).moving) return getEach(model, list, missing);
  const found: (Rec<S> | null)[] = new Array(ids.length).fill(null);
  await perChunk(model, list, (id) => id, options, async (group, chunk, positions) => {
    const program: ProgramNode = make('Program', {
      mode: 'read', binary: model.binary, records: [], guards: guardsOf(model, group),
      body: [call('bulk_read', keyArg(group.idsKey), param(group.prefix), paramList(chunk), param(model.slideMs ?? null))],
    });
    const hashes = await runProgram(model, program, decode.hashes);
    const absent: string[] = [];
    chunk.forEach((id, i) => {
      const flat = hashes[i];
      if (!flat) {
        absent.push(id);
        return;
      }
      const { data, meta } = readRecord(model.spec, flat, id);
      found[positions[i]] = model.wrap(id, data, meta);
    });
    if (absent.length > 0 && missing === 'error') {
      const shown = absent.slice(0, 10).join(', ') + (absent.length > 10 ? `, ... (${absent.length})` : '');
      throw new NotFoundError(`${model.name} not found: ${shown}`);
    }
  }, READ_DEPTH);
  return missing === 'skip' ? found.filter((r) => r !== null) : found;
}

/** The layout check of a group's shard (see src/model/reshard.ts). */
function guardsOf<S extends TProperties>(model: ModelCore<S>, group: ShardKeys): ShardGuard[] {
  const guard = guardOf(model.keys, group.shard, String(model.keys.shards));
  return guard ? [guard] : [];
}

/** getMany during a reshard: each record read where it may be (old shard, then new), in parallel. */
async function getEach<S extends TProperties>(model: ModelCore<S>, ids: readonly string[], missing: string): Promise<(Rec<S> | null)[]> {
  const found = await Promise.all(ids.map((id) => model.getOrNull(String(id))));
  const absent = ids.filter((_, i) => found[i] === null);
  if (absent.length > 0 && missing === 'error') throw new NotFoundError(`${model.name} not found: ${absent.slice(0, 10).join(', ')}`);
  return missing === 'skip' ? found.filter((r) => r !== null) : found;
}

/** The targets of updateMany/deleteMany: every id given, once, or a condition. */
function targetOf<S extends TProperties>(model: ModelCore<S>, target: BulkTarget<S>): { ids: string[] } | { where: Condition } {
  if (Array.isArray(target)) return { ids: [...new Set(idsOf(model, target))] };
  if (typeof target !== 'function' && !(target instanceof Condition)) {
    throw new QueryError('updateMany/deleteMany need an array of ids or a condition, e.g. (u) => u.age.gt(18)');
  }
  const where = target instanceof Condition ? target : target(model.fields);
  if (!(where instanceof Condition)) throw new QueryError('updateMany/deleteMany need a condition, e.g. (u) => u.age.gt(18)');
  return { where };
}

/**
 * Runs the pipeline program `fn` on the server on each target, one chunk per script (all or
 * nothing per chunk); ids with no record are skipped, never created. A condition is run chunk by
 * chunk on the server (src/model/by-query.ts): its candidates are selected once, by the first
 * chunk, and each is checked again when its chunk runs, so a record that stopped matching in
 * between is left alone. Resolves to how many records changed.
 * `await User.updateMany((u) => u.age.gt(17), (p) => p.status.set('adult'))`
 */
export async function updateMany<S extends TProperties>(
  model: ModelCore<S>, target: BulkTarget<S>, fn: PipelineFn<S>, options: ChunkOptions = {},
): Promise<number> {
  chunkSizeOf(options);
  options.signal?.throwIfAborted();
  const targets = targetOf(model, target);
  if ('where' in targets) {
    const recorder = new Recorder(); // async: a refused callback rejects rather than throws
    model.record(fn, recorder, () => ({}));
    refuseUniqueWrites(recorder.body as Stmt[], () => ({ model: model.name, fields: crossUnique(model) }));
    return actByQuery(model, targets.where, 'update', recorder.body, options);
  }
  let changed = 0;
  await perChunk(model, targets.ids, (id) => id, options, async (_group, chunk) => {
    const n = await new Query(model, EVERY).within(chunk).update(fn); // groups run in parallel: add after the await
    changed += n;
  });
  return changed;
}

/** Deletes each target with its index entries, one chunk per script; resolves to how many were deleted. */
export async function deleteMany<S extends TProperties>(
  model: ModelCore<S>, target: BulkTarget<S>, options: ChunkOptions = {},
): Promise<number> {
  chunkSizeOf(options);
  options.signal?.throwIfAborted();
  const targets = targetOf(model, target);
  // the unique values across shards the targets hold, let go after the deletes (src/model/unique.ts;
  // a release is verified, so a target the delete left alone keeps its values)
  const cross = crossUnique(model);
  const before = cross.length === 0 ? []
    : await ('where' in targets ? new Query(model, targets.where).toArray() : model.getMany(targets.ids, { missing: 'skip' }));
  const held = heldValues(model, cross, before);
  if ('where' in targets) {
    const n = await actByQuery(model, targets.where, 'delete', [], options);
    await release(model, held);
    return n;
  }
  let deleted = 0;
  await perChunk(model, targets.ids, (id) => id, options, async (_group, chunk) => {
    const n = await new Query(model, EVERY).within(chunk).delete();
    deleted += n;
  });
  await release(model, held);
  return deleted;
}
