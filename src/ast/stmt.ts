/**
 * Statements of the program AST: field operations, computed sets, conditions, loops, aborts, and
 * calls of the fixed Lua steps (record writes and reads, bulk chunks, index checks, locks,
 * resharding), each one `Call` node whose arguments are typed per function.
 */
import type { Constraints, Expr, NestedPlace, ParamListNode, ParamNode, SchemaCheck } from './expr.js';
import type { ChangesRef, IndexRef, UniqueRef } from './refs.js';

/**
 * The field operations, by target family: the compiler's table (src/compile/field-ops.ts) is a
 * mapped type over this, so an operation without its Lua call fails to compile.
 */
export interface FieldOps {
  num: 'incr' | 'decr' | 'mul' | 'div' | 'mod' | 'pow' | 'min' | 'max';
  str: 'append' | 'prepend' | 'repeat';
  bytes: 'append' | 'setRange' | 'truncate';
  date: 'add' | 'sub' | 'setNow';
  bool: 'toggle';
  scalar: 'set' | 'setNull';
  array: 'append' | 'prepend' | 'insert' | 'setAt' | 'pop' | 'remove' | 'removeAt' | 'removeRange' | 'clear' | 'set';
  dict: 'setItem' | 'update' | 'delete' | 'pop' | 'popItem' | 'clear' | 'set' | 'incr';
  /** A nested object replaced whole (lua/lib/object.lua). */
  object: 'set';
}
export type FieldOpTarget = keyof FieldOps;

/**
 * One field operation: `target` names the family, `op` the operation (one of that family's);
 * `field` is the hash field, which is also the dotted path that error messages name.
 */
export type FieldOpNode = { [T in FieldOpTarget]: FieldOpOf<T> }[FieldOpTarget];
export interface FieldOpOf<T extends FieldOpTarget> {
  readonly kind: 'FieldOp';
  readonly rec: number;
  readonly target: T;
  readonly op: FieldOps[T];
  readonly field: string;
  readonly args: readonly Expr[];
  readonly check: Constraints;
  /** Item equality for array `remove`/`contains`: numbers, text, or JSON objects. */
  readonly eq?: 'n' | 's' | 'o';
  /** The nearest enclosing object that may be absent (optional or null): the op needs it present. */
  readonly within?: string;
  /** The field may be null (a `field!` marker may exist); otherwise the compiler knows it has no marker. */
  readonly nullable?: boolean;
}
/** Sets a scalar from an expression computed on the server, checked there. */
export interface SetComputedNode {
  readonly kind: 'SetComputed';
  readonly rec: number;
  readonly field: string;
  readonly value: Expr;
  readonly as: 'n' | 's' | 'b';
  readonly check: Constraints;
  readonly within?: string;
  /** As in FieldOpNode. */
  readonly nullable?: boolean;
}
/**
 * An array or record operation on a nested collection (lua/lib/nest.lua): the outer element is
 * read, the target reached by its steps, changed, and written back, all in the record state, so the
 * commit stays all or nothing. Items and keys travel as JSON text; `check` is the target's schema
 * as a Lua table (see schemaTable in src/compile/nested.ts), checked on the server.
 */
export type NestedOpNode = { [T in 'array' | 'dict']: NestedOpOf<T> }['array' | 'dict'];
export interface NestedOpOf<T extends 'array' | 'dict'> extends NestedPlace {
  readonly kind: 'NestedOp';
  readonly target: T;
  readonly op: FieldOps[T];
  readonly args: readonly Expr[];
  /** The target collection's schema, checked on the server against what the operation makes. */
  readonly schema: SchemaCheck;
  readonly eq?: 'n' | 's' | 'o';
  readonly within?: string;
}
export interface IfNode { readonly kind: 'If'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] }
export interface ForEachNode {
  readonly kind: 'ForEach';
  readonly rec: number;
  readonly field: string;
  readonly over: 'array' | 'dict';
  /** True when items are objects (stored as JSON), decoded once per iteration. */
  readonly objects: boolean;
  readonly loop: number;
  readonly body: readonly Stmt[];
  /** A loop over a nested collection: `field` is the outer collection, these the steps into it. */
  readonly nested?: Omit<NestedPlace, 'rec' | 'field'>;
}
export interface AbortNode { readonly kind: 'Abort'; readonly message: Expr }

// ---- calls of the fixed Lua steps --------------------------------------------------------------

/** A Redis key (a KEYS slot). */
export interface KeyArg { readonly kind: 'Key'; readonly key: string }
/** Record `rec`'s state in the script (`S[rec]`, lua/lib/state.lua). */
export interface StateArg { readonly kind: 'State'; readonly rec: number }
/** The id set of record `rec`'s model (a KEYS slot). */
export interface IdsArg { readonly kind: 'Ids'; readonly rec: number }
/** A fixed word of the script text (a mode, a field name): shape, never a user value. */
export interface WordArg { readonly kind: 'Word'; readonly word: string }
/** A model's index and unique tables (two Lua arguments: `{{field, KEYS[i], type}, ...}, {{field, KEYS[j]}, ...}`). */
export interface IndexesArg { readonly kind: 'Indexes'; readonly ix: readonly IndexRef[]; readonly uq: readonly UniqueRef[] }
/** A model's expiry bookkeeping keys, `{KEYS[i], KEYS[j]}`. */
export interface ExpiryArg { readonly kind: 'Expiry'; readonly exp: readonly [string, string] }
/** A model's change stream, or nil when it has none. */
export interface ChangesArg { readonly kind: 'Changes'; readonly ch?: ChangesRef }

/** A shard's prefix, id set, index tables and expiry keys: the first arguments of each resharding step. */
type ShardArgs = [prefix: ParamNode, ids: KeyArg, tables: IndexesArg, exp: ExpiryArg];

/**
 * The fixed Lua steps a program may call (lua/lib), each with its argument list. The compiler
 * emits `R[n] = fn(args...)` for every one of them; a call with the wrong arguments does not
 * type-check.
 */
export interface CallSignatures {
  /** lua/lib/record.lua: a whole record written ('create', 'replace', or 'save' checked against the version seen). */
  rec_write: [s: StateArg, ids: IdsArg, id: ParamNode, fields: ParamListNode, mode: WordArg, ttlMs: ParamNode, seen?: ParamNode];
  rec_delete: [s: StateArg, ids: IdsArg, id: ParamNode];
  rec_expire: [s: StateArg, ms: ParamNode];
  /** lua/lib/read.lua (read-only programs). */
  rec_read: [s: StateArg];
  rec_exists: [s: StateArg];
  rec_ttl: [s: StateArg];
  /** lua/lib/maintain.lua: a field of the model's bookkeeping hash, and the chunks of an index check. */
  meta_get: [key: KeyArg, field: WordArg];
  meta_set: [key: KeyArg, field: WordArg, value: ParamNode];
  /** `exp`: the model's expiry bookkeeping, so that an expired record's id or entries count as the sweep's, not as missing or stale. */
  ix_fill: [prefix: ParamNode, ids: KeyArg, cursor: ParamNode, count: ParamNode, tables: IndexesArg, repair: ParamNode, exp: ExpiryArg];
  ix_prune: [prefix: ParamNode, key: KeyArg, type: WordArg, field: WordArg, cursor: ParamNode, count: ParamNode, repair: ParamNode, exp: ExpiryArg];
  /** lua/lib/expiry.lua: one chunk of a sweep of expired records, at most `limit` due ids. */
  exp_sweep: [prefix: ParamNode, ids: KeyArg, exp: ExpiryArg, tables: IndexesArg, ch: ChangesArg, limit: ParamNode];
  /** lua/lib/lock.lua: 1 when taken (released), else 0. */
  lock_acquire: [key: KeyArg, token: ParamNode, leaseMs: ParamNode];
  lock_release: [key: KeyArg, token: ParamNode];
  /**
   * lua/lib/bulk.lua. Record keys are `prefix .. id`, built in Lua (all of a model's keys share its
   * hash tag); the id set is declared in KEYS so the script routes to it. `items` is one list: per
   * record its id, its field count n, then n field/value entries, so the script text depends on
   * neither the number of records nor their fields. `chain`, `step`, `steps`: the chunk's place in
   * its call (null `step`: the only chunk), so that no chunk runs after an earlier one failed.
   */
  bulk_insert: [
    ids: KeyArg, tables: IndexesArg, exp: ExpiryArg, ch: ChangesArg, chain: KeyArg, step: ParamNode, steps: ParamNode,
    prefix: ParamNode, onConflict: WordArg, ttlMs: ParamNode, items: ParamListNode,
  ];
  /** Deletes the chain key of an insertMany, or the cursor of an update or delete by query, that stopped early (a failed chunk, an abort). */
  bulk_unchain: [chain: KeyArg];
  /** The whole hash of each id (empty when absent), in order; `slideMs` re-arms a sliding TTL on each. */
  bulk_read: [route: KeyArg, prefix: ParamNode, ids: ParamListNode, slideMs: ParamNode];
  /** lua/lib/shard.lua: the model-wide meta, and taking, putting and dropping a chunk of one shard's records. */
  shard_meta: [meta: KeyArg, declared: ParamNode];
  shard_take: [...ShardArgs, cursor: ParamNode, count: ParamNode];
  /** `items`: per record its id, PTTL, field count n, then n field/value entries (version included). */
  shard_put: [...ShardArgs, items: ParamListNode];
  shard_drop: [...ShardArgs, ids: ParamListNode];
  /**
   * lua/lib/owner.lua: owners of unique values across shards (src/model/unique.ts). Owner keys
   * are `prefix .. field`, in the slot of `route`; `items` per value as each function's header says.
   */
  uq_claim: [route: KeyArg, prefix: ParamNode, items: ParamListNode, leaseMs: ParamNode, skewMs: ParamNode];
  uq_swap: [route: KeyArg, prefix: ParamNode, items: ParamListNode];
  uq_get: [route: KeyArg, prefix: ParamNode, items: ParamListNode];
  uq_scan: [key: KeyArg, cursor: ParamNode, count: ParamNode, skewMs: ParamNode];
  /** The first step of a record write under claims: refuses a write past `deadline`; the old values of `fields`. */
  uq_lease: [key: KeyArg, deadline: ParamNode, fields: ParamListNode];
  uq_holds: [s: StateArg, pairs: ParamListNode];
}
export type CallFn = keyof CallSignatures;
export type CallArg = Exclude<CallSignatures[CallFn][number], undefined>;
export type CallNode = { [F in CallFn]: { readonly kind: 'Call'; readonly fn: F; readonly args: Readonly<CallSignatures[F]> } }[CallFn];

export type Stmt = FieldOpNode | NestedOpNode | SetComputedNode | IfNode | ForEachNode | AbortNode | CallNode;
