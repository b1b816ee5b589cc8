/**
 * `defineModel(name, shape, options)`: the model class of a TypeBox shape, its records, and the
 * programs behind every call (each call is one compiled script).
 */
import type { TProperties, TSchema } from 'typebox';
import {
  node, param, paramList, type IndexRef, type ProgramNode, type RecordRef, type Stmt, type UniqueRef,
} from '../ast/nodes.js';
import { defaultDb, type Connection } from '../client/connection.js';
import type { Reply } from '../client/executor.js';
import { compile, type Compiled } from '../compile/compiler.js';
import { NotFoundError, QueryError, RapyerError, SchemaError } from '../errors.js';
import { Condition } from '../ops/condition.js';
import { Query } from '../query/query.js';
import { checkIndexes, type CheckOptions, type IndexReport } from '../index/maintenance.js';
import { ObjectHandle, type Ctx } from '../ops/handles.js';
import { Recorder, freezeDeep, recording, type ResultDecoder } from '../ops/recorder.js';
import type { Raw } from '../schema/codec.js';
import { fromShape, isScalar, specAt, type FieldSpec, type ObjectSpec } from '../schema/spec.js';
import { validate, withDefaults } from '../schema/validate.js';
import { newId } from './ids.js';
import { KeySpace } from './keys.js';
import { withLock, type LockOptions } from './lock.js';
import {
  deleteMany, getMany, insertMany, updateMany, type BulkTarget, type ChunkOptions, type GetManyOptions, type InsertManyOptions,
} from './bulk.js';
import { publishLayout } from './catalog.js';
import { applyFields, flatten, readRecord, type RecordMeta } from './layout.js';
import type { Data, Handles } from './types.js';

export interface ModelOptions {
  /** Fields (dotted paths allowed) kept in indexes for queries. */
  indexes?: readonly string[];
  unique?: readonly string[];
  /** Seconds a record lives after each create or save. */
  ttl?: number;
  /** A field whose value is the record's id (default: a generated, time-sortable id). */
  key?: string;
  /** Hash-tag partitions of the model on a Redis Cluster. */
  shards?: number;
}

const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function holdsBytes(spec: FieldSpec): boolean {
  switch (spec.kind) {
    case 'bytes': return true;
    case 'array': return holdsBytes(spec.items);
    case 'record': return holdsBytes(spec.values);
    case 'object': return Object.values(spec.fields).some(holdsBytes);
    default: return false;
  }
}

/** Numbers and dates are indexed by score; strings, booleans and enums lexicographically. */
export function indexType(spec: FieldSpec): 'n' | 's' {
  return spec.kind === 'integer' || spec.kind === 'number' || spec.kind === 'datetime'
    || (spec.kind === 'enum' && spec.values.every((v) => typeof v === 'number')) ? 'n' : 's';
}
const META = Symbol('rapyer.meta');

interface Hidden {
  model: Model<any>;
  id: string;
  meta: RecordMeta;
}

export type Explained = Pick<Compiled, 'lua' | 'keys' | 'argv'>;

/** One shard's model-wide keys (see src/model/keys.ts). */
export interface ShardKeys {
  shard: number;
  /** Record keys of the shard are this prefix and the id. */
  prefix: string;
  idsKey: string;
  ix: IndexRef[];
  uq: UniqueRef[];
  exp: readonly [string, string];
  meta: string;
}
export type PipelineFn<S extends TProperties> = (p: Handles<S, 'pipe'>) => void;

/** The methods every record has besides its fields. */
export interface RecordMethods<S extends TProperties> {
  readonly id: string;
  readonly key: string;
  /** Atomic field operations that run at once: `await u.$.score.incr(10)`. */
  readonly $: Handles<S, 'now'>;
  save(): Promise<this>;
  reload(): Promise<this>;
  delete(): Promise<boolean>;
  expire(seconds: number): Promise<boolean>;
  ttl(): Promise<number>;
  pipeline(fn: PipelineFn<S>): Promise<this>;
  explain(fn: PipelineFn<S>): Explained;
  /** Runs `fn` holding the record's lock, with the record freshly loaded: `await u.lock(async (locked) => ...)`. */
  lock<T>(fn: (locked: Rec<S>) => Promise<T> | T, options?: LockOptions): Promise<T>;
  toJSON(): Data<S>;
}

export type Rec<S extends TProperties> = Data<S> & RecordMethods<S>;

/** What `create` accepts: every field may be left out when it has a default or is optional. */
export type CreateInput<S extends TProperties> = Partial<Data<S>>;

const bufferText = (b: Reply): string => (b === null ? '' : String(b));

export class Model<S extends TProperties = TProperties> {
  readonly spec: ObjectSpec;
  /** Whether records hold bytes anywhere: only then must replies come back as Buffers. */
  readonly binary: boolean;
  private keySpace?: KeySpace;
  /** The connection this model last wrote its layout to (see src/model/catalog.ts). */
  private describedOn?: Connection;
  private shardKeyCache: ShardKeys[] = [];

  constructor(
    readonly name: string,
    readonly shape: S,
    readonly options: ModelOptions,
    private readonly boundDb?: Connection,
    spec?: ObjectSpec,
  ) {
    this.spec = spec ?? fromShape(shape as Record<string, TSchema>);
    this.binary = holdsBytes(this.spec);
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
      this.shardKeyCache = [];
      publishLayout(db, this.keySpace.meta(0), this, () => {
        if (this.describedOn === db) this.describedOn = undefined;
      });
    }
    return this.keySpace!;
  }

  /** The same model on another connection. */
  withDb(db: Connection): Model<S> {
    return new Model(this.name, this.shape, this.options, db, this.spec);
  }

  /** A record of this model in a program: its key, and its shard's keys every write must keep. */
  ref(id: string, seen = ''): RecordRef {
    const { idsKey, ix, uq, exp } = this.shardKeys(this.keys.shardOf(id));
    return { key: this.keys.record(id), idsKey, id, seen, ix, uq, exp };
  }

  /** The model-wide keys of one shard (0 … keys.shards-1): ids, indexes, unique, expiry, meta. */
  shardKeys(shard: number): ShardKeys {
    return (this.shardKeyCache[shard] ??= {
      shard,
      prefix: this.keys.recordPrefix(shard),
      idsKey: this.keys.ids(shard),
      ix: (this.options.indexes ?? []).map((field): IndexRef => ({
        field, key: this.keys.index(field, shard), type: indexType(specAt(this.spec, field)!),
      })),
      uq: (this.options.unique ?? []).map((field): UniqueRef => ({ field, key: this.keys.unique(field, shard) })),
      exp: this.keys.expiry(shard),
      meta: this.keys.meta(shard),
    });
  }

  private async run(program: ProgramNode): Promise<Reply> {
    return this.db.run(compile(freezeDeep({ ...program, binary: this.binary })));
  }

  idOf(data: Record<string, unknown>): string {
    const field = this.options.key;
    if (!field) return newId();
    const value = data[field];
    if (value === undefined || value === null || value === '') throw new RapyerError(`key field "${field}" needs a value`);
    return String(value);
  }

  /** Validated data (defaults filled) and its hash fields. */
  prepare(input: unknown): { data: Record<string, unknown>; fields: Raw[] } {
    const data = withDefaults(this.spec, input) as Record<string, unknown>;
    validate(this.spec, data, '');
    return { data, fields: flatten(this.spec, data, []) };
  }

  writeProgram(id: string, fields: Raw[], mode: 'create' | 'replace'): ProgramNode {
    const ttl = this.options.ttl ? this.options.ttl * 1000 : 0;
    return {
      kind: 'Program', mode: 'write', binary: this.binary, records: [this.ref(id)],
      body: [node({ kind: 'WriteRecord', rec: 1, mode, id: param(id, 'str'), fields: paramList(fields), ttlMs: param(String(ttl)) })],
    };
  }

  /** Validates (defaults filled) and writes a new record; ConflictError if the id exists. */
  async create(input: CreateInput<S>): Promise<Rec<S>> {
    const { data, fields } = this.prepare(input);
    const id = this.idOf(data);
    const reply = (await this.run(this.writeProgram(id, fields, 'create'))) as Reply[];
    return this.wrap(id, data, { version: bufferText(reply[0]), heads: new Map() });
  }

  async getOrNull(id: string): Promise<Rec<S> | null> {
    const reply = (await this.run({
      kind: 'Program', mode: 'read', records: [this.ref(id)], body: [node({ kind: 'ReadRecord', rec: 1 })],
    })) as Reply[][];
    const flat = reply[0] as Buffer[];
    if (flat.length === 0) return null;
    const { data, meta } = readRecord(this.spec, flat);
    return this.wrap(id, data, meta);
  }

  async get(id: string): Promise<Rec<S>> {
    const rec = await this.getOrNull(id);
    if (!rec) throw new NotFoundError(`${this.name} ${id} not found`);
    return rec;
  }

  async exists(id: string): Promise<boolean> {
    const reply = (await this.run({
      kind: 'Program', mode: 'read', records: [this.ref(id)], body: [node({ kind: 'ExistsRecord', rec: 1 })],
    })) as number[];
    return reply[0] === 1;
  }

  async delete(id: string): Promise<boolean> {
    const reply = (await this.run({
      kind: 'Program', mode: 'write', records: [this.ref(id)], body: [node({ kind: 'DeleteRecord', rec: 1, id: param(id, 'str') })],
    })) as number[];
    return reply[0] === 1;
  }

  /** Sets the record's TTL; false when the record does not exist. */
  async expire(id: string, seconds: number): Promise<boolean> {
    const reply = (await this.run({
      kind: 'Program', mode: 'write', records: [this.ref(id)],
      body: [node({ kind: 'ExpireRecord', rec: 1, ms: param(String(Math.round(seconds * 1000))) })],
    })) as number[];
    return reply[0] === 1;
  }

  /** Seconds left to live; -1 without a TTL, -2 when the record does not exist. */
  async ttl(id: string): Promise<number> {
    const reply = (await this.run({
      kind: 'Program', mode: 'read', records: [this.ref(id)], body: [node({ kind: 'TtlRecord', rec: 1 })],
    })) as number[];
    return reply[0];
  }

  /** Field handles for conditions: `User.find(User.fields.age.gt(18))`. */
  get fields(): Handles<S, 'pipe'> {
    return new ObjectHandle({ recorder: new Recorder(), rec: 1, data: () => ({}) }, this.spec) as unknown as Handles<S, 'pipe'>;
  }

  /** A query: `User.find((u) => and(u.age.gt(25), u.active.eq(true))).sort('score', 'desc').limit(50)`. */
  find(where: Condition | ((fields: Handles<S, 'pipe'>) => Condition)): Query<S> {
    const condition = typeof where === 'function' ? where(this.fields) : where;
    if (!(condition instanceof Condition)) throw new QueryError('find() needs a condition, e.g. (u) => u.age.gt(18)');
    return new Query(this, condition);
  }

  /** Compares every index with the stored records; with `repair: true`, rebuilds what is wrong. */
  checkIndexes(options?: CheckOptions): Promise<IndexReport> {
    return checkIndexes(this, options);
  }

  /** The first match, or null. */
  findOne(where: Condition | ((fields: Handles<S, 'pipe'>) => Condition)): Promise<Rec<S> | null> {
    return this.find(where).first();
  }

  /** Records `fn` against handles of record `rec` (1-based) of a program. */
  record(fn: PipelineFn<S>, recorder: Recorder, data: () => Record<string, unknown>, rec = 1): void {
    const ctx: Ctx = { recorder, rec, data };
    recording(recorder, () => fn(new ObjectHandle(ctx, this.spec) as unknown as Handles<S, 'pipe'>));
  }

  updateProgram(refs: RecordRef[], body: readonly Stmt[]): ProgramNode {
    return { kind: 'Program', mode: 'update', binary: this.binary, records: refs, body };
  }

  /** Runs `fn` as one atomic script on record `id`, without loading it first; returns the record after. */
  async pipeline(id: string, fn: PipelineFn<S>): Promise<Rec<S>> {
    const recorder = new Recorder();
    this.record(fn, recorder, () => ({}));
    const reply = (await this.run(this.updateProgram([this.ref(id)], recorder.body))) as Reply[];
    const { data, meta } = readRecord(this.spec, (reply[1] as Buffer[]).slice(1));
    return this.wrap(id, data, meta);
  }

  /** The script `pipeline(id, fn)` would run, without running it. */
  explain(id: string, fn: PipelineFn<S>): Explained {
    const recorder = new Recorder();
    this.record(fn, recorder, () => ({}));
    const { lua, keys, argv } = compile(freezeDeep(this.updateProgram([this.ref(id)], recorder.body)));
    return { lua, keys, argv };
  }

  /** Runs `fn` holding record `id`'s lock (see src/model/lock.ts); returns what `fn` returns. */
  lock<T>(id: string, fn: (locked: Rec<S>) => Promise<T> | T, options?: LockOptions): Promise<T> {
    return withLock(this, id, fn as (locked: Rec<any>) => Promise<T> | T, options);
  }

  /** Validates every item, then inserts them a chunk per script (see src/model/bulk.ts). */
  insertMany(inputs: readonly CreateInput<S>[], options?: InsertManyOptions): Promise<Rec<S>[]> {
    return insertMany(this, inputs, options);
  }

  /** The records of `ids` in input order; `missing: 'null'` gives null for absent ones. */
  getMany(ids: readonly string[], options: GetManyOptions & { missing: 'null' }): Promise<(Rec<S> | null)[]>;
  getMany(ids: readonly string[], options?: GetManyOptions & { missing?: 'error' | 'skip' }): Promise<Rec<S>[]>;
  getMany(ids: readonly string[], options?: GetManyOptions): Promise<(Rec<S> | null)[]> {
    return getMany(this, ids, options);
  }

  /** Runs `fn` server-side on each target (ids or a condition); resolves to how many changed. */
  updateMany(target: BulkTarget<S>, fn: PipelineFn<S>, options?: ChunkOptions): Promise<number> {
    return updateMany(this, target, fn, options);
  }

  /** Deletes each target (ids or a condition) with its index entries; resolves to how many were deleted. */
  deleteMany(target: BulkTarget<S>, options?: ChunkOptions): Promise<number> {
    return deleteMany(this, target, options);
  }

  /** Makes a record object from decoded data. */
  wrap(id: string, data: Record<string, unknown>, meta: RecordMeta): Rec<S> {
    const rec = Object.create(RecordBase.prototype) as RecordBase;
    Object.defineProperty(rec, META, { value: { model: this, id, meta } satisfies Hidden, enumerable: false, writable: true });
    Object.assign(rec, data);
    return rec as unknown as Rec<S>;
  }
}

const hidden = (rec: RecordBase): Hidden => (rec as unknown as { [META]: Hidden })[META];

function ownData(rec: RecordBase): Record<string, unknown> {
  return { ...rec } as Record<string, unknown>;
}

function replaceData(rec: RecordBase, data: Record<string, unknown>): void {
  for (const k of Object.keys(rec)) delete (rec as unknown as Record<string, unknown>)[k];
  Object.assign(rec, data);
}

/** Applies a program's reply for this record: its patch, or the whole hash when our copy was stale. */
function applyReply(rec: RecordBase, reply: Buffer[]): void {
  const h = hidden(rec);
  const mode = String(reply[0]);
  if (mode === 'f') {
    const { data, meta } = readRecord(h.model.spec, reply.slice(1));
    replaceData(rec, data);
    h.meta = meta;
    return;
  }
  const fields: [string, Raw | null][] = [];
  for (let i = 1; i < reply.length; i += 2) fields.push([String(reply[i]), reply[i + 1]]);
  applyFields(h.model.spec, rec as unknown as Record<string, unknown>, h.meta, fields, false);
}

/**
 * The immediate handles (`u.$`) return promises; a bad argument must reject the promise too, not
 * throw before it exists, so `u.$.age.set(-1).catch(...)` sees it.
 */
function rejectingCalls<T extends object>(handle: T): T {
  return new Proxy(handle, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          try {
            return value.apply(target, args);
          } catch (err) {
            return Promise.reject(err);
          }
        };
      }
      return value && typeof value === 'object' ? rejectingCalls(value) : value;
    },
  });
}

/** The prototype of every record: fields are own properties, methods live here. */
class RecordBase {
  get id(): string {
    return hidden(this).id;
  }

  get key(): string {
    const h = hidden(this);
    return h.model.keys.record(h.id);
  }

  get $(): unknown {
    const h = hidden(this);
    const recorder = new Recorder(async (stmt, decode: ResultDecoder) => {
      const [results] = await this.runUpdate([stmt]);
      return decode((results as Raw[])[0] ?? null);
    });
    return rejectingCalls(new ObjectHandle({ recorder, rec: 1, data: () => this as unknown as Record<string, unknown> }, h.model.spec));
  }

  private async runUpdate(body: readonly Stmt[]): Promise<Reply[]> {
    const h = hidden(this);
    const program = h.model.updateProgram([h.model.ref(h.id, h.meta.version)], body);
    const reply = (await h.model.db.run(compile(freezeDeep(program)))) as Reply[];
    applyReply(this, reply[1] as Buffer[]);
    return reply;
  }

  private recordProgram(fn: PipelineFn<any>): Stmt[] {
    const recorder = new Recorder();
    hidden(this).model.record(fn, recorder, () => this as unknown as Record<string, unknown>);
    return recorder.body as Stmt[];
  }

  /** Runs every operation `fn` records as one atomic script; this record then holds the server's state. */
  async pipeline(fn: PipelineFn<any>): Promise<this> {
    await this.runUpdate(this.recordProgram(fn));
    return this;
  }

  explain(fn: PipelineFn<any>): Explained {
    const h = hidden(this);
    const program = h.model.updateProgram([h.model.ref(h.id, h.meta.version)], this.recordProgram(fn));
    const { lua, keys, argv } = compile(freezeDeep(program));
    return { lua, keys, argv };
  }

  /** Writes the whole local state (validated), creating the record again if it was deleted. */
  async save(): Promise<this> {
    const h = hidden(this);
    const { data, fields } = h.model.prepare(ownData(this));
    const reply = (await h.model.db.run(compile(freezeDeep(h.model.writeProgram(h.id, fields, 'replace'))))) as Reply[];
    replaceData(this, data);
    h.meta = { version: bufferText(reply[0]), heads: new Map() };
    return this;
  }

  async reload(): Promise<this> {
    const h = hidden(this);
    const fresh = await h.model.get(h.id);
    replaceData(this, ownData(fresh as unknown as RecordBase));
    h.meta = hidden(fresh as unknown as RecordBase).meta;
    return this;
  }

  delete(): Promise<boolean> {
    const h = hidden(this);
    return h.model.delete(h.id);
  }

  expire(seconds: number): Promise<boolean> {
    const h = hidden(this);
    return h.model.expire(h.id, seconds);
  }

  ttl(): Promise<number> {
    const h = hidden(this);
    return h.model.ttl(h.id);
  }

  lock<T>(fn: (locked: Rec<any>) => Promise<T> | T, options?: LockOptions): Promise<T> {
    const h = hidden(this);
    return h.model.lock(h.id, fn, options);
  }

  toJSON(): Record<string, unknown> {
    return ownData(this);
  }
}

type HandlesOf<R> = R extends RecordMethods<infer S> ? Handles<S, 'pipe'> : never;
export type TransactionFn<T extends readonly RecordMethods<any>[]> = (...handles: { [K in keyof T]: HandlesOf<T[K]> }) => void;

/**
 * Runs one program over several records as one script: `db.transaction([a, b], (pa, pb) => ...)`.
 * Conditions may span the records; every record commits, or none does.
 */
export async function transaction<const T extends readonly RecordMethods<any>[]>(
  db: Connection,
  records: T,
  fn: TransactionFn<T>,
): Promise<T> {
  const bases = records as unknown as RecordBase[];
  const recorder = new Recorder();
  const handles = bases.map((r, i) => new ObjectHandle({ recorder, rec: i + 1, data: () => r as unknown as Record<string, unknown> }, hidden(r).model.spec));
  recording(recorder, () => (fn as (...h: unknown[]) => void)(...handles));
  const refs = bases.map((r) => hidden(r).model.ref(hidden(r).id, hidden(r).meta.version));
  const binary = bases.some((r) => hidden(r).model.binary);
  const program: ProgramNode = { kind: 'Program', mode: 'update', binary, records: refs, body: recorder.body };
  const reply = (await db.run(compile(freezeDeep(program)))) as Reply[];
  bases.forEach((r, i) => applyReply(r, reply[i + 1] as Buffer[]));
  return records;
}

/** Declares a model over a TypeBox shape. Bad shapes and options raise SchemaError here. */
export function defineModel<S extends TProperties>(name: string, shape: S, options: ModelOptions = {}): Model<S> {
  if (!MODEL_NAME.test(name)) throw new SchemaError(`model name "${name}" must be an identifier`);
  const model = new Model(name, shape, options);
  if (options.key !== undefined) {
    const spec = specAt(model.spec, options.key);
    if (!spec || !isScalar(spec) || spec.kind === 'bytes' || spec.optional || spec.nullable || options.key.includes('.')) {
      throw new SchemaError(`key "${options.key}" must be a required top-level scalar field`);
    }
  }
  for (const path of [...(options.indexes ?? []), ...(options.unique ?? [])]) {
    const spec = specAt(model.spec, path);
    if (!spec || !isScalar(spec) || spec.kind === 'bytes') throw new SchemaError(`index "${path}" must name a scalar field`);
  }
  if (options.ttl !== undefined && !(options.ttl > 0)) throw new SchemaError('ttl must be a positive number of seconds');
  if (options.shards !== undefined && !(Number.isInteger(options.shards) && options.shards >= 1 && options.shards <= 1024)) {
    throw new SchemaError('shards must be an integer from 1 to 1024');
  }
  if ((options.shards ?? 1) > 1 && (options.unique ?? []).length > 0) {
    // each shard's script sees only its own unique hash: a constraint across shards cannot be atomic
    throw new SchemaError(`unique fields cannot be enforced across shards: drop "unique" or "shards" on ${name}`);
  }
  return model;
}
