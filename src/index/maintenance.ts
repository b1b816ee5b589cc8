/**
 * Index maintenance: `Model.checkIndexes({ repair })` compares every index with the stored records
 * and mends what is wrong (expired records no sweep reached yet are the sweep's: neither missing
 * nor stale); `ensureIndexes` builds indexes declared after records existed, once,
 * before the first query relies on them. Both work in chunks (one short script each), shard by
 * shard on a sharded model (each shard has its own ids, indexes and meta).
 */
import {
  call, expiryArg, indexesArg, keyArg, make, param, word, type IndexRef, type ProgramNode, type Stmt, type UniqueRef,
} from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import type { ScriptRunner } from '../client/executor.js';
import { runProgram } from '../client/run.js';
import type { KeySpace } from '../model/keys.js';

export interface CheckOptions {
  /** Add missing entries and remove stale ones (default: only report). */
  repair?: boolean;
  /** Records or index entries per script (default 1,000). */
  chunkSize?: number;
  onProgress?: (p: { phase: 'records' | 'entries'; done: number }) => void;
}

export interface IndexReport {
  /** Records walked. */
  records: number;
  /** Index entries (or ids) a record needs and the index lacked. */
  missing: number;
  /** Index entries no stored record backs. */
  stale: number;
  repaired: boolean;
}

export interface IndexedModel {
  readonly db: ScriptRunner;
  readonly keys: KeySpace;
  /** One shard's keys (0 … keys.shards-1). */
  shardKeys(shard: number): { prefix: string; idsKey: string; ix: readonly IndexRef[]; uq: readonly UniqueRef[]; exp: readonly [string, string]; meta: string };
}

type Shard = ReturnType<IndexedModel['shardKeys']>;
const shardsOf = (model: IndexedModel): Shard[] => Array.from({ length: model.keys.shards }, (_, i) => model.shardKeys(i));

/** Runs one maintenance statement; resolves to its decoded result. */
function runOne<T>(db: ScriptRunner, stmt: Stmt, as: decode.Decoder<T>): Promise<T> {
  const program: ProgramNode = make('Program', { mode: 'write', records: [], body: [stmt] });
  return runProgram(db, program, as);
}

/** Walks the ids: every record's entries present (added when repairing). */
async function fill(model: IndexedModel, shard: Shard, ix: readonly IndexRef[], uq: readonly UniqueRef[], o: CheckOptions, report: IndexReport): Promise<void> {
  let cursor = '';
  do {
    const chunk = await runOne(model.db, call('ix_fill', param(shard.prefix), keyArg(shard.idsKey), param(cursor),
      param(String(o.chunkSize ?? 1000)), indexesArg(ix, uq), param(o.repair ? '1' : '0'), expiryArg(shard.exp)), decode.fillChunk);
    cursor = chunk.cursor;
    report.records += chunk.scanned;
    report.missing += chunk.missing;
    o.onProgress?.({ phase: 'records', done: report.records });
  } while (cursor !== '');
}

/** Walks each index's entries: every entry backed by a record (removed when repairing). */
async function prune(model: IndexedModel, shard: Shard, ix: readonly IndexRef[], uq: readonly UniqueRef[], o: CheckOptions, report: IndexReport): Promise<void> {
  const targets = [
    ...ix.map((x) => ({ key: x.key, type: x.type, field: x.field })),
    ...uq.map((u) => ({ key: u.key, type: 'u' as const, field: u.field })),
  ];
  let done = 0;
  for (const t of targets) {
    let cursor = '0';
    do {
      const chunk = await runOne(model.db, call('ix_prune', param(shard.prefix), keyArg(t.key), word(t.type), word(t.field),
        param(cursor), param(String(o.chunkSize ?? 1000)), param(o.repair ? '1' : '0'), expiryArg(shard.exp)), decode.pruneChunk);
      cursor = chunk.cursor;
      report.stale += chunk.stale;
      o.onProgress?.({ phase: 'entries', done: ++done });
    } while (cursor !== '0');
  }
}

export async function checkIndexes(model: IndexedModel, options: CheckOptions = {}): Promise<IndexReport> {
  const report: IndexReport = { records: 0, missing: 0, stale: 0, repaired: options.repair === true };
  for (const shard of shardsOf(model)) {
    await fill(model, shard, shard.ix, shard.uq, options, report);
    await prune(model, shard, shard.ix, shard.uq, options, report);
  }
  return report;
}

/** The indexes known to be built, per connection and model key space. */
const ready = new WeakMap<ScriptRunner, Set<string>>();

/**
 * Builds, over existing records, every declared index not yet recorded as built in the model's
 * `#meta` hash; then records it. Runs its check once per process, connection and model.
 */
export async function ensureIndexes(model: IndexedModel, options: CheckOptions = {}): Promise<void> {
  await Promise.all(shardsOf(model).map((shard) => ensureShard(model, shard, options)));
}

/** The write-side twin of `ready`: shards whose check a write has started. */
const triedBeforeWrite = new WeakMap<ScriptRunner, Set<string>>();
/** Models (each bound to one connection) every shard of which is tried: a create's whole cost is this look-up. */
const settled = new WeakSet<IndexedModel>();

/**
 * Before a process's first creating write to a shard: the same check as a query's, so a key space
 * filled from empty by this model records its indexes as built while there is nothing to walk.
 * Without it, the first query after a bulk load walked every record it had just written (about a
 * second per 100,000 records). Undefined (nothing to wait for) once tried or when nothing is
 * declared, so the hot path pays one lookup. A failure is left to the query, which checks again.
 */
export function indexesBeforeWrite(model: IndexedModel, shards: readonly number[]): Promise<void> | undefined {
  if (settled.has(model)) return undefined;
  let tried = triedBeforeWrite.get(model.db);
  if (!tried) triedBeforeWrite.set(model.db, (tried = new Set()));
  let todo: Shard[] | undefined;
  for (const i of shards) {
    const shard = model.shardKeys(i);
    if (tried.has(shard.meta)) continue;
    tried.add(shard.meta);
    if (declaredOf(shard).length > 0) (todo ??= []).push(shard);
  }
  if (shardsOf(model).every((shard) => tried.has(shard.meta))) settled.add(model);
  if (!todo) return undefined;
  return Promise.all(todo.map((shard) => ensureShard(model, shard, {}))).then(() => undefined, () => undefined);
}

const declaredOf = (shard: Shard): string[] => [...shard.ix.map((x) => x.key), ...shard.uq.map((u) => u.key)];

async function ensureShard(model: IndexedModel, shard: Shard, options: CheckOptions): Promise<void> {
  const done = ready.get(model.db) ?? new Set<string>();
  ready.set(model.db, done);
  const { ix, uq, meta } = shard;
  const declared = declaredOf(shard);
  if (done.has(meta) || declared.length === 0) return;
  const stored = await runOne(model.db, call('meta_get', keyArg(meta), word('indexes')), decode.str);
  const built = new Set<string>(stored ? (JSON.parse(stored) as string[]) : []);
  const todoIx = ix.filter((x) => !built.has(x.key));
  const todoUq = uq.filter((u) => !built.has(u.key));
  if (todoIx.length > 0 || todoUq.length > 0) {
    await fill(model, shard, todoIx, todoUq, { ...options, repair: true }, { records: 0, missing: 0, stale: 0, repaired: true });
    // noting it is bookkeeping: when it fails (a full memory under noeviction) the query goes
    // on, and the next one checks again
    const noted = await runOne(model.db, call('meta_set', keyArg(meta), word('indexes'), param(JSON.stringify(declared))), decode.none)
      .then(() => true, () => false);
    if (!noted) return;
  }
  done.add(meta);
}
