/**
 * The program AST: plain frozen data. Builders (src/ops, src/model) record these nodes; the
 * compiler (src/compile) turns a Program into one Lua script. User values live only in `Param`
 * nodes and travel in ARGV; everything else in a node is shape, so equal shapes compile to the
 * same script.
 */
import type { Raw } from '../schema/codec.js';

/** How Lua reads a value: as a number, a string, a boolean, or raw stored text. */
export type LuaType = 'num' | 'str' | 'bool' | 'raw';

/** Server-side checks of one field, derived from its schema (see lua/lib/check.lua). */
export interface Constraints {
  readonly int?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly xmin?: number;
  readonly xmax?: number;
  readonly mult?: number;
  readonly minLen?: number;
  readonly maxLen?: number;
  readonly bytes?: boolean;
  readonly enum?: readonly string[];
  readonly minItems?: number;
  readonly maxItems?: number;
  /** Strings and bytes: the most bytes a computed result may hold (the model's maxValueBytes). */
  readonly maxBytes?: number;
}

/**
 * A schema as the server checks a JSON value against it (lua/lib/nest.lua nv_check): its kind
 * (integer, number, date, string, bytes, enum, boolean, any JSON, array, record, object), its
 * constraints, the schema of its items (arrays) or values (records), and an object's fields, the
 * names it requires, and whether it may be null.
 */
export interface SchemaCheck {
  readonly t: 'i' | 'n' | 'd' | 's' | 'y' | 'e' | 'b' | 'j' | 'a' | 'r' | 'o';
  readonly c: Constraints;
  readonly items?: SchemaCheck;
  readonly fields?: Readonly<Record<string, SchemaCheck>>;
  readonly required?: readonly string[];
  readonly nullable?: boolean;
}

// ---- expressions -------------------------------------------------------------------------------

export interface ParamNode { readonly kind: 'Param'; readonly value: Raw | null; readonly as: LuaType }
export interface ParamListNode { readonly kind: 'ParamList'; readonly values: readonly Raw[] }
/** A stored scalar of record `rec`, decoded (`as`); nil when absent. */
export interface FieldNode { readonly kind: 'Field'; readonly rec: number; readonly field: string; readonly as: LuaType }
/** The current item of loop `loop`, or a field inside it (`path`, for object items). */
/** `json`: the loop runs over a nested collection, whose items are JSON text (a string item is decoded). */
export interface ItemNode { readonly kind: 'Item'; readonly loop: number; readonly path: readonly string[]; readonly as: LuaType; readonly key?: boolean; readonly json?: boolean }
export interface ArrayLengthNode { readonly kind: 'ArrayLength'; readonly rec: number; readonly field: string }
/** An item of a flat array of scalars (items that are JSON are read by NestedNode). */
export interface ArrayAtNode { readonly kind: 'ArrayAt'; readonly rec: number; readonly field: string; readonly index: Expr; readonly as: LuaType }
export interface ArrayContainsNode { readonly kind: 'ArrayContains'; readonly rec: number; readonly field: string; readonly item: Expr; readonly eq: 'n' | 's' | 'o' }
/** A value of a flat record of scalars (values that are JSON are read by NestedNode). */
export interface DictGetNode { readonly kind: 'DictGet'; readonly rec: number; readonly field: string; readonly key: Expr; readonly as: LuaType }
export type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'floordiv' | 'mod' | 'pow' | 'min' | 'max' | 'concat';
export interface ArithNode { readonly kind: 'Arith'; readonly op: ArithOp; readonly left: Expr; readonly right: Expr }
export type CompareOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';
export interface CompareNode { readonly kind: 'Compare'; readonly op: CompareOp; readonly left: Expr; readonly right: Expr }
export interface InNode { readonly kind: 'In'; readonly value: Expr; readonly list: ParamListNode; readonly as: LuaType }
export interface StartsWithNode { readonly kind: 'StartsWith'; readonly value: Expr; readonly prefix: Expr }
/**
 * A text condition on a string value (lua/lib/words.lua): `all` of `words`, `any` of them, or a
 * word starting with `prefix` (the only item of `words`). Words are tokenized on the client.
 */
export interface TextMatchNode { readonly kind: 'TextMatch'; readonly value: Expr; readonly mode: 'all' | 'any' | 'prefix'; readonly words: ParamListNode }
/**
 * One step into an element of a collection whose items are themselves collections (stored as JSON
 * text per element of the outer one): an array index (`i`, negative counts from the end), a record
 * key (`k`, plain text), or a field of an object item (`f`, a schema name).
 */
export type StepNode = { readonly by: 'i' | 'k'; readonly at: Expr } | { readonly by: 'f'; readonly name: string };
/**
 * Where a nested value lives: the outer collection's hash field `field` (an array or a record,
 * `top`), then `steps` through the JSON of its element; `path` names it in errors (`groups.admins`).
 */
export interface NestedPlace {
  readonly rec: number;
  readonly field: string;
  readonly top: 'array' | 'dict';
  readonly steps: readonly StepNode[];
  readonly path: string;
}
/**
 * A read of a nested value (lua/lib/nest.lua): the value itself (`as`; nil when a key on the way
 * is absent), the length of an inner array or record, or whether an inner array holds `item`
 * (an element's JSON text; `eq` as in FieldOpNode).
 */
export interface NestedNode extends NestedPlace {
  readonly kind: 'Nested';
  readonly read: 'value' | 'length' | 'contains';
  readonly as: LuaType;
  readonly item?: Expr;
  readonly eq?: 'n' | 's' | 'o';
}
export interface AndNode { readonly kind: 'And'; readonly items: readonly Expr[] }
export interface OrNode { readonly kind: 'Or'; readonly items: readonly Expr[] }
export interface NotNode { readonly kind: 'Not'; readonly item: Expr }

export type Expr =
  | ParamNode | ParamListNode | FieldNode | ItemNode | ArrayLengthNode | ArrayAtNode | ArrayContainsNode
  | DictGetNode | NestedNode | ArithNode | CompareNode | InNode | StartsWithNode | TextMatchNode | AndNode | OrNode | NotNode;

// ---- statements --------------------------------------------------------------------------------

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
export interface WriteRecordNode {
  readonly kind: 'WriteRecord';
  readonly rec: number;
  /** 'save': replace, provided the stored version is still `seen` (else CONFLICT). */
  readonly mode: 'create' | 'replace' | 'save';
  readonly id: ParamNode;
  readonly fields: ParamListNode;
  readonly ttlMs: ParamNode;
  /** The version the writer read (mode 'save'). */
  readonly seen?: ParamNode;
}
export interface DeleteRecordNode { readonly kind: 'DeleteRecord'; readonly rec: number; readonly id: ParamNode }
export interface ExistsRecordNode { readonly kind: 'ExistsRecord'; readonly rec: number }
export interface ExpireRecordNode { readonly kind: 'ExpireRecord'; readonly rec: number; readonly ms: ParamNode }
export interface TtlRecordNode { readonly kind: 'TtlRecord'; readonly rec: number }
/** One chunk of an index check over the model's ids (lua/lib/maintain.lua ix_fill). */
export interface IndexFillNode {
  readonly kind: 'IndexFill';
  readonly prefix: ParamNode; readonly idsKey: string; readonly cursor: ParamNode; readonly count: ParamNode;
  readonly ix: readonly IndexRef[]; readonly uq: readonly UniqueRef[]; readonly repair: ParamNode;
  /** The model's expiry bookkeeping keys: an expired record's id is the sweep's, not missing. */
  readonly exp: readonly [string, string];
}
/** One chunk of an index check over one index's entries (lua/lib/maintain.lua ix_prune). */
export interface IndexPruneNode {
  readonly kind: 'IndexPrune';
  readonly prefix: ParamNode; readonly key: string; readonly type: IndexRef['type'] | 'u'; readonly field: string;
  readonly cursor: ParamNode; readonly count: ParamNode; readonly repair: ParamNode;
  /** The model's expiry bookkeeping keys: an expired record's entries are the sweep's, not stale. */
  readonly exp: readonly [string, string];
}
/** One chunk of a sweep of expired records (lua/lib/expiry.lua exp_sweep): at most `count` due ids. */
export interface SweepExpiredNode {
  readonly kind: 'SweepExpired';
  readonly prefix: ParamNode; readonly idsKey: string; readonly ix: readonly IndexRef[]; readonly uq: readonly UniqueRef[];
  readonly exp: readonly [string, string]; readonly ch?: ChangesRef; readonly count: ParamNode;
}
/** A field of the model's bookkeeping hash: read (value absent) or written. */
export interface MetaNode { readonly kind: 'Meta'; readonly key: string; readonly field: string; readonly value?: ParamNode }
/** The whole stored hash of a record (read-only programs). */
export interface ReadRecordNode { readonly kind: 'ReadRecord'; readonly rec: number }
/** Takes a record's lock (`key`, a KEYS slot) for `leaseMs` when it is free; 1 if taken, else 0. */
export interface AcquireLockNode { readonly kind: 'AcquireLock'; readonly key: string; readonly token: ParamNode; readonly leaseMs: ParamNode }
/** Deletes a record's lock only while it still holds `token`; 1 if released, else 0. */
export interface ReleaseLockNode { readonly kind: 'ReleaseLock'; readonly key: string; readonly token: ParamNode }
/**
 * Bulk statements (lua/lib/bulk.lua). Record keys are `prefix .. id`, built in Lua (all of a
 * model's keys share its hash tag); `idsKey` is declared in KEYS so the script routes to it.
 * InsertMany's `items` is one list: per record its id, its field count n, then n field/value
 * entries, so the script text depends on neither the number of records nor their fields.
 */
export interface InsertManyNode {
  readonly kind: 'InsertMany';
  readonly prefix: ParamNode;
  readonly idsKey: string;
  readonly ix: readonly IndexRef[];
  readonly uq: readonly UniqueRef[];
  /** The model's expiry bookkeeping keys (see RecordRef.exp). */
  readonly exp: readonly [string, string];
  /** The model's change stream (see RecordRef.ch). */
  readonly ch?: ChangesRef;
  readonly onConflict: 'error' | 'skip' | 'replace';
  readonly ttlMs: ParamNode;
  readonly items: ParamListNode;
}
/** The whole hash of each id (empty when absent), in order (read-only programs). */
export interface ReadManyNode {
  readonly kind: 'ReadMany'; readonly prefix: ParamNode; readonly idsKey: string; readonly ids: ParamListNode;
  /** A sliding TTL (ms) re-armed on each record read. */
  readonly slideMs?: ParamNode;
}

/**
 * Resharding steps (lua/lib/shard.lua): the model-wide meta, and taking, putting and dropping a
 * chunk of one shard's records. `keys` are the shard's keys as InsertMany has them.
 */
export interface ShardMetaNode { readonly kind: 'ShardMeta'; readonly key: string; readonly declared: ParamNode }
export interface ShardKeysNode {
  readonly prefix: ParamNode;
  readonly idsKey: string;
  readonly ix: readonly IndexRef[];
  readonly uq: readonly UniqueRef[];
  readonly exp: readonly [string, string];
}
export interface ShardTakeNode extends ShardKeysNode { readonly kind: 'ShardTake'; readonly cursor: ParamNode; readonly count: ParamNode }
/** `items`: per record its id, PTTL, field count n, then n field/value entries (version included). */
export interface ShardPutNode extends ShardKeysNode { readonly kind: 'ShardPut'; readonly items: ParamListNode }
export interface ShardDropNode extends ShardKeysNode { readonly kind: 'ShardDrop'; readonly ids: ParamListNode }

export type Stmt =
  | ShardMetaNode | ShardTakeNode | ShardPutNode | ShardDropNode
  | FieldOpNode | NestedOpNode | SetComputedNode | IfNode | ForEachNode | AbortNode | WriteRecordNode | DeleteRecordNode | ReadRecordNode
  | ExistsRecordNode | ExpireRecordNode | TtlRecordNode | AcquireLockNode | ReleaseLockNode
  | IndexFillNode | IndexPruneNode | SweepExpiredNode | MetaNode | InsertManyNode | ReadManyNode;

// ---- programs ----------------------------------------------------------------------------------

/**
 * An index of a model: a field's hash field, its key, and its type: 'n' (by score), 's'
 * (lexicographic), or 't' (a word index, `search`: `key` is the field's word list, a lexicographic
 * sorted set of the words some record holds, and `key .. ':' .. word` the set of ids holding
 * `word`, built by the scripts from the declared key so they share its hash tag).
 */
export interface IndexRef { readonly field: string; readonly key: string; readonly type: 'n' | 's' | 't' }
export interface UniqueRef { readonly field: string; readonly key: string }
/**
 * A model's change stream (lua/lib/changes.lua): its key (in the shard's hash tag), the length it
 * is trimmed to (approximately), and the paths of the model's record (dict) fields.
 */
export interface ChangesRef { readonly key: string; readonly maxLen: number; readonly dicts: readonly string[] }

/**
 * The shard layout a script of a sharded model was built for: the script first checks that the
 * shard's `meta` hash agrees (lua/lib/shard.lua shard_guard), so no script runs on a shard that a
 * reshard is moving or has moved.
 */
export interface ShardGuard { readonly meta: string; readonly layout: string }

export interface RecordRef {
  readonly key: string;
  readonly guard?: ShardGuard;
  /** The model's indexes and unique constraints, kept by every write of the program. */
  readonly ix?: readonly IndexRef[];
  readonly uq?: readonly UniqueRef[];
  /** The model's expiry bookkeeping keys (ids -> expiry, ids -> index values); see lua/lib/expiry.lua. */
  readonly exp?: readonly [string, string];
  /** The model's change stream, when it has one: every write of the record appends its entry. */
  readonly ch?: ChangesRef;
  /** The model's id set, kept by create and delete. */
  readonly idsKey: string;
  readonly id: string;
  /** The version of the caller's copy ('' when it has none): decides patch or full reply. */
  readonly seen: string;
  /**
   * A sliding TTL (ms, as text): programs that read the record (ReadRecord) or update it re-arm
   * its TTL to this in the same script.
   */
  readonly slideMs?: string;
}

/**
 * `update`: the records must exist; the body runs, then every record commits, and the reply holds
 * the results and each record's patch. `write`: record-level statements (create, save, delete).
 * `read`: no writes at all (flagged `no-writes`, run with EVALSHA_RO).
 */
export interface ProgramNode {
  readonly kind: 'Program';
  /** Replies as Buffers (needed when bytes fields come back); false for text replies, which cost less. */
  readonly binary?: boolean;
  readonly mode: 'update' | 'write' | 'read';
  readonly records: readonly RecordRef[];
  /** Guards besides the records' own (bulk statements, which carry no record refs). */
  readonly guards?: readonly ShardGuard[];
  readonly body: readonly Stmt[];
}

// ---- queries -----------------------------------------------------------------------------------

/** How a query finds its candidates; the full condition is then checked on each one. */
export type PlanNode =
  | { readonly kind: 'PlanRange'; readonly index: IndexRef; readonly min?: ParamNode; readonly max?: ParamNode; readonly minEx: boolean; readonly maxEx: boolean }
  | { readonly kind: 'PlanPrefix'; readonly index: IndexRef; readonly prefix: ParamNode }
  | { readonly kind: 'PlanIn'; readonly index: IndexRef; readonly values: ParamListNode }
  /** A word index: the ids holding all (or any) of `words`, or a word starting with `words[0]` (prefix). */
  | { readonly kind: 'PlanWords'; readonly index: IndexRef; readonly mode: TextMatchNode['mode']; readonly words: ParamListNode }
  | { readonly kind: 'PlanAnd'; readonly items: readonly PlanNode[] }
  | { readonly kind: 'PlanOr'; readonly items: readonly PlanNode[] }
  /** Exactly these ids (bulk operations by ids, and a query's chunks). */
  | { readonly kind: 'PlanIds'; readonly ids: ParamListNode }
  | { readonly kind: 'PlanScan' };

export interface QueryAggregate { readonly fields: readonly (string | null)[]; readonly group?: string }

/** One sort key: a field, compared as numbers or bytewise, in one direction. */
export interface QuerySort { readonly field: string; readonly numeric: boolean; readonly desc: boolean }

/**
 * A query over one model: candidates from `plan`, kept when `filter` holds on the stored record,
 * sorted (by each key of `sort`, then by id), paged, then acted on: return records, ids or the
 * count, delete the matches, or run `body` (a pipeline program on `S[1]`) on each.
 */
export interface QueryNode {
  readonly kind: 'Query';
  /** As in ProgramNode. */
  readonly binary?: boolean;
  /** Record keys are `prefix .. id`; all of a model's keys share its hash tag. */
  readonly prefix: ParamNode;
  readonly idsKey: string;
  readonly guard?: ShardGuard;
  readonly ix: readonly IndexRef[];
  readonly uq: readonly UniqueRef[];
  readonly exp: readonly [string, string];
  readonly ch?: ChangesRef;
  readonly plan: PlanNode;
  /** The plan alone answers the filter (see isExact): ids come from the index sets, no record is read to decide. */
  readonly exact: boolean;
  readonly filter: Expr;
  /** The sort keys, in order (empty: by id); ties after the last key break by id in its direction. */
  readonly sort: readonly QuerySort[];
  /**
   * A stream's cursor, the last row it returned (empty: none): per sort key '1' and the stored
   * value, or '0' and '' when absent, then the id. Only matches after it in query order count.
   */
  readonly after: ParamListNode;
  /**
   * A scan (PlanScan) runs in slices: this script reads the ids after this one ('' from the
   * first), `SCAN_SLICE` of them, and replies `{ next id or '' when done, action's reply }`.
   */
  readonly slice?: ParamNode;
  readonly offset: ParamNode;
  /** '' for no limit. */
  readonly limit: ParamNode;
  readonly action: 'records' | 'ids' | 'count' | 'delete' | 'update' | 'aggregate';
  /** The `aggregate` action's inputs: the field each aggregate reads (none for a count), and the group field. */
  readonly aggregate?: QueryAggregate;
  readonly body: readonly Stmt[];
  /** A sliding TTL (ms): records returned or updated get their TTL re-armed to it. */
  readonly slideMs?: ParamNode;
}

export type Node = Expr | Stmt | ProgramNode | QueryNode | PlanNode;

/** Freezes a node (shallowly: children are frozen when they are made). */
export const node = <T extends Node>(n: T): T => Object.freeze(n);
/** A field operation node; the one place a target and its op are paired into the union. */
export const fieldOp = <T extends FieldOpTarget>(n: Omit<FieldOpOf<T>, 'kind'>): FieldOpNode =>
  node({ kind: 'FieldOp', ...n } as FieldOpOf<FieldOpTarget> as FieldOpNode);
export const ifNode = (cond: Expr, then: readonly Stmt[], otherwise: readonly Stmt[]): IfNode =>
  node({ kind: 'If', cond, then: Object.freeze([...then]), else: Object.freeze([...otherwise]) });
export const param = (value: Raw | null, as: LuaType = 'raw'): ParamNode => node({ kind: 'Param', value, as });
export const paramList = (values: readonly Raw[]): ParamListNode => node({ kind: 'ParamList', values: Object.freeze([...values]) });

/** Deep-freezes a recorded program once recording is over (Buffers, which cannot be frozen, are left as they are). */
export function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Buffer)) {
    for (const child of Object.values(value)) freezeDeep(child);
    Object.freeze(value);
  }
  return value;
}
