/**
 * The model as the modules beside it see it: records, queries, bulk operations, locks. They take a
 * `ModelCore` (which `Model` implements) rather than import model.ts, which imports them all, so
 * the model's modules form no import cycle (checked by scripts/check-cycles.ts).
 */
import type { TProperties } from 'typebox';
import type { ChangesRef, IndexRef, ProgramNode, RecordRef, Stmt, UniqueRef } from '../ast/nodes.js';
import type { Decoder } from '../client/decode.js';
import type { Reply, ScriptRunner } from '../client/executor.js';
import type { Compiled } from '../compile/compiler.js';
import type { Recorder } from '../ops/recorder.js';
import type { Raw } from '../schema/codec.js';
import type { ObjectSpec } from '../schema/spec.js';
import type { KeySpace } from './keys.js';
import type { ScalarPath, StringPath, TopLevelScalar } from './paths.js';
import type { RecordMeta } from './layout.js';
import type { Lifetime, TtlOption } from './ttl.js';
import type { Handles, LockOptions, PipelineFn, Rec } from './types.js';

/** A model's options; `S` types the field paths they name (plain strings when unknown). */
export interface ModelOptions<S extends TProperties = TProperties> {
  /** Scalar fields (dotted paths allowed) kept in indexes for queries. */
  indexes?: readonly ScalarPath<S>[];
  /** Scalar fields whose values no two records share. */
  unique?: readonly ScalarPath<S>[];
  /**
   * String fields (dotted paths allowed) with a word index, kept by every write, that serves the
   * text conditions `matches`, `matchesAny` and `matchesPrefix` (which also work without it, by
   * reading every candidate).
   */
  search?: readonly StringPath<S>[];
  /**
   * Seconds a record lives after each create or save; `{ seconds, sliding: true }` also re-arms
   * the TTL on every read and write of the record (in the same script).
   */
  ttl?: TtlOption;
  /**
   * The most bytes a string or bytes value computed by the server (`repeat`, `append`, `setRange`...)
   * may hold, checked before it is built: default 64 MiB (Redis itself stops at 512 MiB).
   */
  maxValueBytes?: number;
  /** A field whose value is the record's id (default: a generated, time-sortable id). */
  key?: TopLevelScalar<S>;
  /** Hash-tag partitions of the model on a Redis Cluster. */
  shards?: number;
  /**
   * Every write appends one entry per changed record to the model's stream (one per shard), in
   * the same script: `true`, or `{ maxLen }` (trimmed approximately; default 100,000 entries).
   */
  changes?: boolean | { maxLen?: number };
}

/** A sharded model's layout in effect: the declared count, and the reshard in progress if any (src/model/reshard.ts). */
export interface ShardState {
  readonly count: number;
  readonly moving?: { readonly from: number; readonly to: number };
}

/** One shard's model-wide keys (see src/model/keys.ts). */
export interface ShardKeys {
  shard: number;
  /** Record keys of the shard are this prefix and the id. */
  prefix: string;
  idsKey: string;
  ix: IndexRef[];
  uq: UniqueRef[];
  exp: readonly [string, string];
  /** The shard's change stream, on a model declared with `changes`. */
  ch?: ChangesRef;
  meta: string;
}

export interface ModelCore<S extends TProperties = TProperties> {
  readonly name: string;
  readonly spec: ObjectSpec;
  readonly options: ModelOptions;
  /** Whether records hold bytes anywhere: only then must replies come back as Buffers. */
  readonly binary: boolean;
  readonly db: ScriptRunner;
  readonly keys: KeySpace;
  /** The model's TTL (see src/model/ttl.ts). */
  readonly ttlSpec: Lifetime;
  /** The TTL every read and write re-arms (ms, as text), or undefined unless the model's TTL is sliding. */
  readonly slideMs: string | undefined;
  /** Field handles for conditions. */
  readonly fields: Handles<S, 'pipe'>;
  /** A record of this model in a program: its key, its shard's keys every write must keep, its shard's layout check. */
  ref(id: string, seen?: string, keys?: KeySpace, layout?: string): RecordRef;
  shardKeys(shard: number, keys?: KeySpace): ShardKeys;
  /** Runs a script of this model, after its shard layout check (src/model/reshard.ts). */
  run(script: Compiled): Promise<Reply>;
  /** The shard layout in effect (a reshard in progress, or none). */
  shardState(): Promise<ShardState>;
  getOrNull(id: string): Promise<Rec<S> | null>;
  /** Runs a read-only statement on record `id` where it lives (either layout during a reshard); `found` says when to stop looking. */
  readAt<T>(id: string, body: Stmt, as: Decoder<T>, found: (value: T) => boolean): Promise<T>;
  /** The records of `ids` that exist, in input order (one script per shard holding some). */
  getMany(ids: readonly string[], options: { missing: 'skip' }): Promise<Rec<S>[]>;
  idOf(data: Record<string, unknown>): string;
  /** Validated data (defaults filled) and its hash fields. */
  prepare(input: unknown, into?: Raw[]): { data: Record<string, unknown>; fields: Raw[] };
  /** `seen`: the version the writer read, which the stored record must still have (a version-checked save). */
  writeProgram(id: string, fields: Raw[], mode: 'create' | 'replace', seen?: string): ProgramNode;
  /** Writes a whole record, claiming its unique values across shards first; resolves to its new version. */
  writeRecord(id: string, fields: Raw[], mode: 'create' | 'replace', seen?: string): Promise<string>;
  /** Records `fn` against handles of record `rec` (1-based) of a program. */
  record(fn: PipelineFn<S>, recorder: Recorder, data: () => Record<string, unknown>, rec?: number): void;
  /** Makes a record object from decoded data. */
  wrap(id: string, data: Record<string, unknown>, meta: RecordMeta): Rec<S>;
  get(id: string): Promise<Rec<S>>;
  delete(id: string): Promise<boolean>;
  expire(id: string, seconds: number): Promise<boolean>;
  ttl(id: string): Promise<number>;
  lock<T>(id: string, fn: (locked: Rec<S>) => Promise<T> | T, options?: LockOptions): Promise<T>;
}
