/**
 * The model class: `defineModel(name, shape, options)` (src/model/define.ts) returns one. Each call
 * builds one program and runs it through the one execution seam (src/client/run.ts); records are
 * made and patched by src/model/record.ts.
 */
import type { TProperties, TSchema } from 'typebox';
import {
  call, idsArg, keyArg, make, param, paramList, stateArg, word, type ProgramNode, type RecordRef, type Stmt,
} from '../ast/nodes.js';
import { currentDefaultDb, defaultDb, type Connection } from '../client/connection.js';
import * as decode from '../client/decode.js';
import type { Reply } from '../client/executor.js';
import { runProgram, type Explained } from '../client/run.js';
import type { Compiled } from '../compile/compiler.js';
import { NotFoundError, QueryError } from '../errors.js';
import { checkIndexes, indexesBeforeWrite, type CheckOptions, type IndexReport } from '../index/maintenance.js';
import { Condition, EVERY } from '../ops/condition.js';
import type { Ctx } from '../ops/field-handle.js';
import { ObjectHandle } from '../ops/handles.js';
import { Recorder, recording } from '../ops/recorder.js';
import { Query } from '../query/query.js';
import type { Raw } from '../schema/codec.js';
import { holdsBytes } from '../schema/facts.js';
import { fromShape, type ObjectSpec } from '../schema/spec.js';
import { checkText } from '../schema/validate.js';
import {
  deleteMany, getMany, insertMany, updateMany, type BulkTarget, type IdOrRecord, type ChunkOptions, type GetManyOptions, type InsertManyOptions,
} from './bulk.js';
import { changes, type Change, type ChangesOptions } from '../changes/changes.js';
import { publishLayout } from './catalog.js';
import type { ModelCore, ModelOptions, ShardKeys, ShardState } from './contract.js';
import { idOfData } from './ids.js';
import { KeySpace } from './keys.js';
import {
  guardOf, readOne, reshard, runChecked, shardState, type ReshardOptions, type ReshardResult,
} from './reshard.js';
import { prepareRecord, readRecord, type RecordMeta } from './layout.js';
import { withLock } from './lock.js';
import { KEY_READS } from './prepared-read.js';
import { makeRecord, unseen } from './record.js';
import { sweepExpired, type SweepOptions } from './sweep.js';
import { crossUnique } from './unique-fields.js';
import { wantsOf, writeClaimed } from './unique.js';
import { checkOwners } from './unique-check.js';
import type { CreateInput, Handles, LockOptions, PipelineFn, Rec } from './types.js';
import { declareOn } from './registry.js';
import { shardKeysOf } from './shard-keys.js';
import { ttlOf, type Lifetime } from './ttl.js';

/** The lease check of a write under unique claims: the claims' earliest deadline, the fields it reports. */
interface Lease { readonly deadline: string; readonly fields: readonly string[] }

export class Model<S extends TProperties = TProperties> implements ModelCore<S> {
  readonly spec: ObjectSpec;
  /** Whether records hold bytes anywhere: only then must replies come back as Buffers. */
  readonly binary: boolean;
  /** The model's TTL; SchemaError here when the option is malformed. */
  readonly ttlSpec: Lifetime;
  /** The TTL each read and write re-arms (ms, as ARGV text), when it slides. */
  readonly slideMs: string | undefined;
  private keySpace?: KeySpace;
  /** The connection this model last wrote its layout to (see src/model/catalog.ts). */
  private describedOn?: Connection;
  /** Shard keys by record prefix: the declared layout's, and a reshard's source and target. */
  private shardKeyCache = new Map<string, ShardKeys>();

  constructor(
    readonly name: string,
    readonly shape: S,
    readonly options: ModelOptions,
    private readonly boundDb?: Connection,
    spec?: ObjectSpec,
  ) {
    this.spec = spec ?? fromShape(shape as Record<string, TSchema>, options.key);
    this.binary = holdsBytes(this.spec);
    this.ttlSpec = ttlOf(options.ttl);
    this.slideMs = this.ttlSpec.sliding ? String(this.ttlSpec.ms) : undefined;
  }


  get db(): Connection {
    return this.boundDb ?? defaultDb();
  }

  get keys(): KeySpace {
    const db = this.db;
    if (this.describedOn !== db) {
      // first use on this connection: tell tools (the CLI) how to read this model's records
      this.describedOn = db;
      this.keySpace = new KeySpace(this.name, db.cluster, this.options.shards);
      this.shardKeyCache = new Map();
      publishLayout(db, this.keySpace.schema(), this, () => {
        if (this.describedOn === db) this.describedOn = undefined;
      });
    }
    return this.keySpace!;
  }

  /** The same model on another connection. */
  withDb(db: Connection): Model<S> {
    const model = new Model(this.name, this.shape, this.options, db, this.spec);
    declareOn(db, model, db === currentDefaultDb());
    return model;
  }

  /**
   * A record of this model in a program: its key, its shard's keys every write must keep, and the
   * layout check of its shard (`keys` and `layout` differ from the declared ones during a reshard).
   */
  ref(id: string, seen = '', keys = this.keys, layout = String(keys.shards)): RecordRef {
    checkText(id, 'id');
    const shard = keys.shardOf(id);
    const { idsKey, ix, uq, exp, ch } = this.shardKeys(shard, keys);
    const slideMs = this.slideMs;
    return { key: keys.record(id), guard: guardOf(keys, shard, layout), idsKey, id, seen, ix, uq, exp, ...(ch && { ch }), ...(slideMs ? { slideMs } : {}) };
  }

  /** The model-wide keys of one shard (0 … keys.shards-1): ids, indexes, unique, expiry, meta. */
  shardKeys(shard: number, keys = this.keys): ShardKeys {
    const prefix = keys.recordPrefix(shard);
    let out = this.shardKeyCache.get(prefix);
    if (!out) this.shardKeyCache.set(prefix, (out = shardKeysOf(this.spec, this.options, keys, shard)));
    return out;
  }

  /**
   * The model's shard layout on its connection (read once, see src/model/reshard.ts): SchemaError
   * when the declared `shards` is not the count the data was written with.
   */
  shardState(): Promise<ShardState> {
    return shardState(this);
  }

  /**
   * Runs a script of this model (the model is the runner its programs go through): checks the
   * shard layout first; during a reshard, writes get ReshardingError.
   */
  run(script: Compiled): Promise<Reply> {
    return runChecked(this, script);
  }

  /**
   * Moves the records and their index entries to `count` shards, in chunks, resumable after a
   * crash or an abort (call it again with the same count). Reads work throughout; writes get
   * ReshardingError until it ends. Declare the model with the new count afterwards.
   */
  reshard(count: number, options?: ReshardOptions): Promise<ReshardResult> {
    return reshard(this, count, options);
  }

  /** A program of one statement on record `id`. */
  private one(id: string, mode: ProgramNode['mode'], body: ProgramNode['body'][number]): ProgramNode {
    return make('Program', { mode, binary: this.binary, records: [this.ref(id)], body: [body] });
  }

  /** A new record's id: its key field's value, or a generated one. */
  idOf(data: Record<string, unknown>): string {
    return idOfData(this.options.key, data);
  }

  /** Validated data (defaults filled) and its hash fields (appended to `into` when given). */
  prepare(input: unknown, into?: Raw[]): { data: Record<string, unknown>; fields: Raw[] } {
    return prepareRecord(this.spec, input, this.options.maxValueBytes, into);
  }

  /**
   * A whole-record write; `lease` (a model with unique values across shards, src/model/unique.ts)
   * puts uq_lease first: the write refuses to run past its claims' deadline and replies the values
   * the record held before.
   */
  writeProgram(id: string, fields: Raw[], mode: 'create' | 'replace', seen?: string, lease?: Lease): ProgramNode {
    const ttl = this.ttlSpec.ms;
    const args = [stateArg(1), idsArg(1), param(id, 'str'), paramList(fields)] as const;
    // with the version the writer read, a replace becomes a save that refuses a changed record
    const write = seen === undefined
      ? call('rec_write', ...args, word(mode), param(String(ttl)))
      : call('rec_write', ...args, word('save'), param(String(ttl)), param(seen, 'str'));
    return lease ? this.leased(id, lease, write) : this.one(id, 'write', write);
  }

  /** A write program of one statement, after the lease check of its unique claims. */
  private leased(id: string, lease: Lease, write: Stmt): ProgramNode {
    const check = call('uq_lease', keyArg(this.keys.record(id)), param(lease.deadline), paramList(lease.fields));
    return make('Program', { mode: 'write', binary: this.binary, records: [this.ref(id)], body: [check, write] });
  }

  /**
   * Writes a whole record (create, or replace: a save checked against `seen`); resolves to its new
   * version. Unique values across shards are claimed first (src/model/unique.ts).
   */
  writeRecord(id: string, fields: Raw[], mode: 'create' | 'replace', seen?: string): Promise<string> {
    const first = mode === 'create' ? indexesBeforeWrite(this, [this.keys.shardOf(id)]) : undefined;
    if (first) return first.then(() => this.writeRecord(id, fields, mode, seen));
    const cross = crossUnique(this);
    if (cross.length === 0) return runProgram(this, this.writeProgram(id, fields, mode, seen), decode.str);
    return writeClaimed(this, wantsOf(cross, id, fields), [{ id, fields: cross }], (deadline) =>
      runProgram(this, this.writeProgram(id, fields, mode, seen, { deadline, fields: cross }), decode.leased(decode.str)));
  }

  /** Validates (defaults filled) and writes a new record; ConflictError if the id exists. */
  async create(input: CreateInput<S>): Promise<Rec<S>> {
    const { data, fields } = this.prepare(input);
    const id = this.idOf(data);
    const version = await this.writeRecord(id, fields, 'create');
    return this.wrap(id, data, { version, heads: new Map() });
  }

  getOrNull(id: string): Promise<Rec<S> | null> {
    // then() rather than async/await: a get is a hot call, and each async frame costs it a tick
    return readOne(this, id, KEY_READS.read, decode.hash, (h) => h !== null).then((flat) => {
      if (!flat) return null;
      const { data, meta } = readRecord(this.spec, flat, id);
      return this.wrap(id, data, meta);
    });
  }

  readAt<T>(id: string, body: Stmt, as: decode.Decoder<T>, found: (value: T) => boolean): Promise<T> {
    return readOne(this, id, body, as, found);
  }

  get(id: string): Promise<Rec<S>> {
    return this.getOrNull(id).then((rec) => {
      if (!rec) throw new NotFoundError(`${this.name} ${id} not found`);
      return rec;
    });
  }

  exists(id: string): Promise<boolean> {
    return readOne(this, id, KEY_READS.exists, decode.flag, (yes) => yes);
  }

  delete(id: string): Promise<boolean> {
    const del = call('rec_delete', stateArg(1), idsArg(1), param(id, 'str'));
    const cross = crossUnique(this);
    if (cross.length === 0) return runProgram(this, this.one(id, 'write', del), decode.flag);
    // its unique values across shards are let go after the delete (src/model/unique.ts)
    return writeClaimed(this, [], [{ id, fields: cross }], () => runProgram(this, this.leased(id, { deadline: '', fields: cross }, del), decode.leased(decode.flag)));
  }

  /** Sets the record's TTL; false when the record does not exist. */
  expire(id: string, seconds: number): Promise<boolean> {
    const ms = param(String(Math.round(seconds * 1000)));
    return runProgram(this, this.one(id, 'write', call('rec_expire', stateArg(1), ms)), decode.flag);
  }

  /** Seconds left to live; -1 without a TTL, -2 when the record does not exist. */
  ttl(id: string): Promise<number> {
    return readOne(this, id, KEY_READS.ttl, decode.integer, (ttl) => ttl !== -2);
  }

  /** Field handles for conditions: `User.find(User.fields.age.gt(18))`. */
  get fields(): Handles<S, 'pipe'> {
    return new ObjectHandle({ recorder: new Recorder(), rec: 1, data: () => ({}) }, this.spec) as unknown as Handles<S, 'pipe'>;
  }

  /**
   * A query: `User.find((u) => and(u.age.gt(25), u.active.eq(true))).sort('score', 'desc').limit(50)`;
   * with no condition, every record: `User.find().sort('name')`.
   */
  find(where?: Condition | ((fields: Handles<S, 'pipe'>) => Condition)): Query<S> {
    if (where === undefined) return new Query(this, EVERY);
    const condition = typeof where === 'function' ? where(this.fields) : where;
    if (!(condition instanceof Condition)) throw new QueryError('find() needs a condition, e.g. (u) => u.age.gt(18)');
    return new Query(this, condition);
  }

  /**
   * Removes the ids, index entries and unique values that expired records left behind (and appends
   * their 'expire' change events), in bounded scripts; resolves to how many records it dropped.
   * Optional: reads skip expired records and writes take them as absent whether swept or not, and
   * a query that sees some starts a sweep itself.
   */
  sweepExpired(options?: SweepOptions): Promise<number> {
    return sweepExpired(this, options);
  }

  /** Compares every index with the stored records; with `repair: true`, rebuilds what is wrong. */
  async checkIndexes(options: CheckOptions = {}): Promise<IndexReport> {
    const report = await checkIndexes(this, options);
    // the owners of unique values across shards (src/model/unique-check.ts)
    await checkOwners(this, options, report);
    return report;
  }

  /** The first match, or null. */
  findOne(where?: Condition | ((fields: Handles<S, 'pipe'>) => Condition)): Promise<Rec<S> | null> {
    return this.find(where).first();
  }

  /** Records `fn` against handles of record `rec` (1-based) of a program. */
  record(fn: PipelineFn<S>, recorder: Recorder, data: () => Record<string, unknown>, rec = 1): void {
    const ctx: Ctx = { recorder, rec, data, maxBytes: this.options.maxValueBytes };
    recording(recorder, () => fn(new ObjectHandle(ctx, this.spec) as unknown as Handles<S, 'pipe'>));
  }

  /** Runs `fn` as one atomic script on record `id`, without loading it first; returns the record after. */
  pipeline<R>(id: string, fn: PipelineFn<S, R>): Promise<Rec<S>> {
    return this.wrap(id, {}, unseen()).pipeline(fn);
  }

  /** The script `pipeline(id, fn)` would run, without running it. */
  explain<R>(id: string, fn: PipelineFn<S, R>): Explained {
    return this.wrap(id, {}, unseen()).explain(fn);
  }

  /** Runs `fn` holding record `id`'s lock (see src/model/lock.ts); returns what `fn` returns. */
  lock<T>(id: string, fn: (locked: Rec<S>) => Promise<T> | T, options?: LockOptions): Promise<T> {
    return withLock(this, id, fn, options);
  }

  /** Validates every item, then inserts them a chunk per script (see src/model/bulk.ts). */
  insertMany(inputs: readonly CreateInput<S>[], options?: InsertManyOptions): Promise<Rec<S>[]> {
    return insertMany(this, inputs, options);
  }

  /** The records of `ids` in input order; `missing: 'null'` gives null for absent ones. */
  getMany(ids: readonly IdOrRecord<S>[], options: GetManyOptions & { missing: 'null' }): Promise<(Rec<S> | null)[]>;
  getMany(ids: readonly IdOrRecord<S>[], options?: GetManyOptions & { missing?: 'error' | 'skip' }): Promise<Rec<S>[]>;
  getMany(ids: readonly IdOrRecord<S>[], options?: GetManyOptions): Promise<(Rec<S> | null)[]> {
    return getMany(this, ids, options);
  }

  /** Runs `fn` server-side on each target (ids or a condition); resolves to how many changed. */
  updateMany<R>(target: BulkTarget<S>, fn: PipelineFn<S, R>, options?: ChunkOptions): Promise<number> {
    return updateMany(this, target, fn, options);
  }

  /** Deletes each target (ids or a condition) with its index entries; resolves to how many were deleted. */
  deleteMany(target: BulkTarget<S>, options?: ChunkOptions): Promise<number> {
    return deleteMany(this, target, options);
  }

  /**
   * The model's change events, as an async iterator (a model declared with `changes`):
   * `for await (const c of User.changes({ from: '$' })) ...`; with `{ group, consumer }` each event
   * goes to one consumer of the group and stays pending until `c.ack()`. See src/changes/changes.ts.
   */
  changes(options?: ChangesOptions): AsyncIterable<Change> {
    return changes(this, options);
  }

  /** Makes a record object from decoded data. */
  wrap(id: string, data: Record<string, unknown>, meta: RecordMeta): Rec<S> {
    return makeRecord(this, id, data, meta);
  }
}
