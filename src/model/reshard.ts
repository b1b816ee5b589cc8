/**
 * Shard layouts: which shard count a sharded model's data is laid out with, and `Model.reshard`,
 * which moves it to another count.
 *
 * The model-wide meta hash (`{User}#meta`, one key whatever the count) holds `shards`, the count
 * the data is written with (recorded the first time the model is used on a cluster), and while a
 * reshard runs, `reshard` (`{"from":4,"to":16}`) and one checkpoint per source shard
 * (`reshard:<i>`: `>` and the last id of the shard's id set handled, `done` once the shard is done).
 *
 * Each shard's own meta hash holds `layout` (see lua/lib/shard.lua): every script of a sharded
 * model checks it first, so a process that still believes in the old layout (another process
 * started the reshard, or finished it) gets `ReshardingError` from the script and looks again.
 *
 * A move, per source shard and chunk: read a chunk of records (take), write those whose shard
 * changes into their new shard with their index entries and TTL (put), delete them from the old
 * shard (drop), then save the checkpoint. A crash anywhere leaves either the old copy or both
 * copies (identical: writes are refused during the move); resuming redoes the chunk after the
 * last checkpoint, and putting a record again converges to the same state.
 */
import type { TProperties } from 'typebox';
import {
  call, expiryArg, indexesArg, keyArg, make, param, paramList, word, type ProgramNode, type ShardGuard, type Stmt,
} from '../ast/nodes.js';
import type { Connection } from '../client/connection.js';
import * as decode from '../client/decode.js';
import type { Reply } from '../client/executor.js';
import { runCompiled, runProgram } from '../client/run.js';
import type { Compiled } from '../compile/compiler.js';
import { ReshardingError, SchemaError, UsageError } from '../errors.js';
import type { Raw } from '../schema/codec.js';
import type { ModelCore, ShardKeys, ShardState } from './contract.js';
import type { KeySpace } from './keys.js';
import { readProgram } from './prepared-read.js';


/** What this module needs of a model. */
export interface ShardedModel {
  readonly name: string;
  readonly db: Connection;
  readonly keys: KeySpace;
  readonly options: { readonly unique?: readonly string[]; readonly key?: string };
  shardKeys(shard: number, keys?: KeySpace): ShardKeys;
}

export interface ReshardOptions {
  /** Records read per chunk (one take, put and drop script each): default 500. */
  chunkSize?: number;
  /** Called after each chunk: records moved and records looked at so far (this run). */
  onProgress?: (progress: { moved: number; scanned: number }) => void;
  /** Stops between two chunks (the call rejects with the signal's reason); `reshard` again resumes. */
  signal?: AbortSignal;
}

export interface ReshardResult {
  from: number;
  to: number;
  /** Records moved to another shard by this call. */
  moved: number;
}

const DONE = 'done';

/** The text a shard's `layout` field holds for a state: `16`, or `4>16` during a move. */
export const layoutText = (state: ShardState): string =>
  state.moving ? `${state.moving.from}>${state.moving.to}` : String(state.count);

/**
 * The layouts a read may run on: during a move also the move's end (`4>16|16`), since reading the
 * old shard then the new one stays right once every record is in its new shard (the last step of
 * a move sets each shard's layout to the new count before the model-wide meta says it is done).
 */
export const readLayouts = (state: ShardState): string =>
  state.moving ? `${layoutText(state)}|${state.moving.to}` : layoutText(state);

/** The guard of one shard of `keys` for a script built for `layout`; none on a single node. */
export function guardOf(keys: KeySpace, shard: number, layout: string): ShardGuard | undefined {
  return keys.cluster ? { meta: keys.meta(shard), layout } : undefined;
}

/** Runs maintenance statements on the connection (no layout check: they maintain the layouts). */
function runOne<T>(db: Connection, stmts: Stmt[], as: decode.Decoder<T>, mode: ProgramNode['mode'] = 'write'): Promise<T> {
  return runProgram(db, make('Program', { mode, records: [], body: stmts }), as);
}

const setMeta = (key: string, field: string, value: string): Stmt => call('meta_set', keyArg(key), word(field), param(value, 'str'));

interface Stored {
  shards: number;
  move?: { from: number; to: number };
}

/** The model-wide meta, recording the declared count when none is stored yet. */
async function readStored(model: ShardedModel): Promise<Stored> {
  const { shards, move } = await runOne(model.db, [
    call('shard_meta', keyArg(model.keys.modelMeta()), param(String(model.keys.shards))),
  ], decode.shardMeta);
  return { shards, move: move === '' ? undefined : (JSON.parse(move) as Stored['move']) };
}

/** Layouts by connection and `name/declared count`; a move is looked at again after MOVING_TTL_MS. */
const cache = new WeakMap<Connection, Map<string, { state: Promise<ShardState>; until: number }>>();
const ONE_SHARD: ShardState = { count: 1 };
const SINGLE: Promise<ShardState> = Promise.resolve(ONE_SHARD);
const MOVING_TTL_MS = 1_000;

async function resolveState(model: ShardedModel): Promise<ShardState> {
  const declared = model.keys.shards;
  const stored = await readStored(model);
  if (stored.move) {
    const { from, to } = stored.move;
    if (declared !== from && declared !== to) {
      throw new SchemaError(
        `${model.name} is declared with shards: ${declared}, but its data is being resharded from ${from} to ${to} shards`,
      );
    }
    return { count: declared, moving: { from, to } };
  }
  if (stored.shards !== declared) {
    throw new SchemaError(
      `${model.name} is declared with shards: ${declared}, but its data was written with ${stored.shards} shards ` +
        `(declare shards: ${stored.shards}, or move the data with ${model.name}.reshard(${declared}))`,
    );
  }
  return { count: declared };
}

/**
 * The layout of `model` on its connection, read once per process (then cached); SchemaError when
 * the declared count is not the one the data is laid out with (nor the target of a move).
 */
export function shardState(model: ShardedModel): Promise<ShardState> {
  if (!model.db.cluster) return SINGLE;
  let byModel = cache.get(model.db);
  if (!byModel) cache.set(model.db, (byModel = new Map()));
  const key = `${model.name}/${model.keys.shards}`;
  let entry = byModel.get(key);
  if (!entry || entry.until < Date.now()) {
    const state = resolveState(model);
    const fresh = { state, until: Infinity };
    byModel.set(key, (entry = fresh));
    // during a move, reads cost two scripts: look again soon, to stop once the move has ended
    state.then(
      (s) => { if (s.moving) fresh.until = Date.now() + MOVING_TTL_MS; },
      () => { if (byModel.get(key) === fresh) byModel.delete(key); },
    );
  }
  return entry.state;
}

/**
 * Runs a script of `model`: after the layout check (once per process), and when the script finds
 * its shard laid out otherwise, with the layout read again: SchemaError when the data now has
 * another count than the declared one, ReshardingError while a move runs.
 */
export function runChecked(model: ShardedModel, script: Compiled): Promise<Reply> {
  const run = (): Promise<Reply> => model.db.run(script).then(undefined, (err: unknown) => layoutFailure(model, err));
  // one node has one layout: nothing to wait for (and no async frame on the hot path)
  return model.db.cluster ? shardState(model).then(run) : run();
}

/** A script's failure; when it found its shard laid out otherwise, the layout read again says why. */
async function layoutFailure(model: ShardedModel, err: unknown): Promise<never> {
  if (!(err instanceof ReshardingError)) throw err;
  const now = await refreshShardState(model);
  if (!now.moving) throw err;
  throw new ReshardingError(
    `${model.name} is being resharded from ${now.moving.from} to ${now.moving.to} shards: writes wait until it ends`,
    layoutText(now),
  );
}

/** Forgets the cached layout (a script said it changed) and reads it again. */
export function refreshShardState(model: ShardedModel): Promise<ShardState> {
  cache.get(model.db)?.delete(`${model.name}/${model.keys.shards}`);
  return shardState(model);
}

/** The shard metas of both layouts (tags that both have appear once). */
function metasOf(from: KeySpace, to: KeySpace): string[] {
  const all = [...Array.from({ length: from.shards }, (_, i) => from.meta(i)), ...Array.from({ length: to.shards }, (_, i) => to.meta(i))];
  return [...new Set(all)];
}

/** Moves one source shard's records whose shard changes, chunk by chunk from its checkpoint. */
async function moveShard(
  model: ShardedModel, from: KeySpace, to: KeySpace, shard: number, options: ReshardOptions, progress: { moved: number; scanned: number },
): Promise<void> {
  const db = model.db;
  const meta = model.keys.modelMeta();
  const saved = await runOne(db, [call('meta_get', keyArg(meta), word(`reshard:${shard}`))], decode.str, 'read');
  let done = saved === DONE;
  let cursor = saved.startsWith('>') ? saved.slice(1) : '';
  const src = model.shardKeys(shard, from);
  const chunkKeys = (k: ShardKeys) => [param(k.prefix), keyArg(k.idsKey), indexesArg(k.ix, k.uq), expiryArg(k.exp)] as const;
  while (!done) {
    options.signal?.throwIfAborted();
    const taken = await runOne(db, [call('shard_take', ...chunkKeys(src), param(cursor), param(String(options.chunkSize ?? 500)))], decode.shardChunk);
    const groups = new Map<number, { ids: string[]; items: Raw[] }>();
    for (const { id, pttl, flat } of taken.records) {
      const target = to.shardOf(id);
      if (to.recordPrefix(target) === src.prefix) continue;
      let group = groups.get(target);
      if (!group) groups.set(target, (group = { ids: [], items: [] }));
      group.ids.push(id);
      group.items.push(id, pttl, String(flat.length), ...flat);
    }
    await Promise.all([...groups].map(([target, g]) =>
      runOne(db, [call('shard_put', ...chunkKeys(model.shardKeys(target, to)), paramList(g.items))], decode.none)));
    const moved = [...groups.values()].flatMap((g) => g.ids);
    if (moved.length > 0) await runOne(db, [call('shard_drop', ...chunkKeys(src), paramList(moved))], decode.none);
    cursor = taken.cursor;
    done = cursor === '';
    await runOne(db, [setMeta(meta, `reshard:${shard}`, done ? DONE : `>${cursor}`)], decode.none);
    progress.moved += moved.length;
    progress.scanned += taken.records.length;
    options.onProgress?.({ ...progress });
  }
}

/**
 * Moves `model`'s records and index entries to `count` shards (see the module comment); resumes
 * the move a crash or an abort interrupted. Reads keep working throughout; writes are refused
 * with ReshardingError until the move ends. On a single node (always one shard) nothing moves.
 */
export async function reshard(model: ShardedModel, count: number, options: ReshardOptions = {}): Promise<ReshardResult> {
  if (!Number.isInteger(count) || count < 1 || count > 1024) throw new UsageError('reshard: the shard count must be an integer from 1 to 1024');
  if (options.chunkSize !== undefined && !(Number.isInteger(options.chunkSize) && options.chunkSize > 0)) {
    throw new UsageError('reshard: chunkSize must be a positive integer');
  }
  if (!model.db.cluster) return { from: 1, to: 1, moved: 0 };
  // one shard keeps unique values in its own hash, several in owners (src/model/unique.ts): no move between the two yet
  const owned = (model.options.unique ?? []).some((field) => field !== model.options.key);
  if (owned && (model.keys.shards === 1) !== (count === 1)) {
    throw new UsageError(`reshard: ${model.name} has unique fields other than its key; moving it between 1 and ${Math.max(count, model.keys.shards)} shards is not supported`);
  }
  const meta = model.keys.modelMeta();
  const stored = await readStored(model);
  let from = stored.shards;
  if (stored.move) {
    if (stored.move.to !== count) {
      throw new ReshardingError(
        `${model.name} is being resharded from ${stored.move.from} to ${stored.move.to} shards: resume it with reshard(${stored.move.to})`,
        `${stored.move.from}>${stored.move.to}`,
      );
    }
    from = stored.move.from;
  } else {
    if (from === count) return { from, to: count, moved: 0 };
    // fresh checkpoints first, then the move itself: a crash in between leaves no move to resume
    await runOne(model.db, Array.from({ length: from }, (_, i) => setMeta(meta, `reshard:${i}`, '')), decode.none);
    await runOne(model.db, [setMeta(meta, 'reshard', JSON.stringify({ from, to: count }))], decode.none);
  }
  const src = model.keys.withShards(from);
  const dst = model.keys.withShards(count);
  const layout = `${from}>${count}`;
  // every shard refuses writes from here on (scripts that ran before are complete: scripts are atomic)
  await Promise.all(metasOf(src, dst).map((key) => runOne(model.db, [setMeta(key, 'layout', layout)], decode.none)));
  // new shards hold the index entries of every record moved into them: their indexes count as built
  const fresh = Array.from({ length: count }, (_, i) => model.shardKeys(i, dst)).filter((k) => !metasOf(src, src).includes(k.meta));
  await Promise.all(fresh.map((k) => runOne(model.db, [
    setMeta(k.meta, 'indexes', JSON.stringify([...k.ix.map((x) => x.key), ...k.uq.map((u) => u.key)])),
  ], decode.none)));
  refreshShardState(model).catch(() => undefined);
  const progress = { moved: 0, scanned: 0 };
  await Promise.all(Array.from({ length: from }, (_, i) => moveShard(model, src, dst, i, options, progress)));
  // shards first: readers that still see the move accept the new count (see readLayouts)
  await Promise.all(metasOf(src, dst).map((key) => runOne(model.db, [setMeta(key, 'layout', String(count))], decode.none)));
  await runOne(model.db, [setMeta(meta, 'shards', String(count)), setMeta(meta, 'reshard', '')], decode.none);
  refreshShardState(model).catch(() => undefined);
  return { from, to: count, moved: progress.moved };
}

/**
 * A read of one record (one statement): during a reshard in its old shard first, then in its new
 * one (a move writes the new copy before it deletes the old, so one of the two reads finds it).
 */
export function readOne<S extends TProperties, T>(model: ModelCore<S> & ShardedModel, id: string, body: Stmt, as: decode.Decoder<T>, found: (value: T) => boolean): Promise<T> {
  // a single node has one shard that never moves: one read, without an async frame (a hot call)
  if (!model.db.cluster) return readIn(model, id, body, as, model.keys, ONE_LAYOUT);
  return readSharded(model, id, body, as, found);
}

const ONE_LAYOUT = readLayouts(ONE_SHARD);

function readIn<S extends TProperties, T>(model: ModelCore<S>, id: string, body: Stmt, as: decode.Decoder<T>, keys: KeySpace, layout: string): Promise<T> {
  let read: ReturnType<typeof readProgram>;
  try {
    read = readProgram(model, id, body, keys, layout);
  } catch (err) {
    return Promise.reject(err);
  }
  return read.script ? runCompiled(model, read.program, read.script, as) : runProgram(model, read.program, as);
}

async function readSharded<S extends TProperties, T>(model: ModelCore<S> & ShardedModel, id: string, body: Stmt, as: decode.Decoder<T>, found: (value: T) => boolean): Promise<T> {
  for (let retry = 0; ; retry++) {
    const state = await shardState(model);
    const spaces = state.moving ? [model.keys.withShards(state.moving.from), model.keys.withShards(state.moving.to)] : [model.keys];
    try {
      let value!: T;
      for (const keys of spaces) {
        value = await readIn(model, id, body, as, keys, readLayouts(state));
        if (found(value)) break;
      }
      return value;
    } catch (err) {
      // this process's layout was stale: run() has read it again
      if (!(err instanceof ReshardingError) || retry > 0) throw err;
    }
  }
}
