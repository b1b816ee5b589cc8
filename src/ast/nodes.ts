/**
 * The program AST: plain frozen data. Builders (src/ops, src/model, src/query) record these nodes;
 * the compiler (src/compile) turns a Program or Query into one Lua script. User values live only
 * in `Param` nodes and travel in ARGV; everything else in a node is shape, so equal shapes compile
 * to the same script. Expressions are in ./expr.ts, statements in ./stmt.ts, key references in
 * ./refs.ts; programs, queries and the factories here.
 */
import type { Raw } from '../schema/codec.js';
import type { Expr, LuaType, ParamListNode, ParamNode, TextMatchNode } from './expr.js';
import type { ChangesRef, IndexRef, RecordRef, ShardGuard, UniqueRef } from './refs.js';
import type {
  CallFn, CallNode, CallSignatures, ChangesArg, ExpiryArg, FieldOpNode, FieldOpOf, FieldOpTarget, IdsArg, IfNode, IndexesArg,
  KeyArg, StateArg, Stmt, WordArg,
} from './stmt.js';

export type * from './expr.js';
export type * from './refs.js';
export type * from './stmt.js';

// ---- programs ----------------------------------------------------------------------------------

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
  /**
   * One chunk of an update or delete by query (q_chunk, lua/lib/cursor.lua): the cursor list's
   * key (in the shard's hash tag), '1' for the first chunk (which selects the candidates), and
   * the candidates per chunk; the script replies `{ count, candidates left, candidates handled }`.
   */
  readonly cursor?: { readonly key: string; readonly first: ParamNode; readonly size: ParamNode };
  readonly offset: ParamNode;
  /** '' for no limit. */
  readonly limit: ParamNode;
  /** `rows`: the page's ids, each with its sort keys' stored values (what a fan-out merges). */
  readonly action: 'records' | 'ids' | 'rows' | 'count' | 'delete' | 'update' | 'aggregate';
  /** The `aggregate` action's inputs: the field each aggregate reads (none for a count), and the group field. */
  readonly aggregate?: QueryAggregate;
  readonly body: readonly Stmt[];
  /** A sliding TTL (ms): records returned or updated get their TTL re-armed to it. */
  readonly slideMs?: ParamNode;
}

export type Node = Expr | Stmt | ProgramNode | QueryNode | PlanNode;

/**
 * The node of `kind` with `fields`, frozen (shallowly: children are frozen when they are made):
 * the way builders make nodes, typed per kind.
 */
export const make = <K extends Node['kind']>(kind: K, fields: Omit<Extract<Node, { kind: K }>, 'kind'>): Extract<Node, { kind: K }> =>
  Object.freeze({ kind, ...fields }) as Extract<Node, { kind: K }>;

/** A call of a fixed Lua step with its arguments (see CallSignatures). */
export const call = <F extends CallFn>(fn: F, ...args: CallSignatures[F]): CallNode =>
  Object.freeze({ kind: 'Call', fn, args: Object.freeze(args) }) as unknown as CallNode;
export const keyArg = (key: string): KeyArg => Object.freeze({ kind: 'Key', key });
export const stateArg = (rec: number): StateArg => Object.freeze({ kind: 'State', rec });
export const idsArg = (rec: number): IdsArg => Object.freeze({ kind: 'Ids', rec });
export const word = (w: string): WordArg => Object.freeze({ kind: 'Word', word: w });
export const indexesArg = (ix: readonly IndexRef[], uq: readonly UniqueRef[]): IndexesArg => Object.freeze({ kind: 'Indexes', ix, uq });
export const expiryArg = (exp: readonly [string, string]): ExpiryArg => Object.freeze({ kind: 'Expiry', exp });
export const changesArg = (ch: ChangesRef | undefined): ChangesArg => Object.freeze({ kind: 'Changes', ...(ch && { ch }) });
/** A field operation node; the one place a target and its op are paired into the union. */
export const fieldOp = <T extends FieldOpTarget>(n: Omit<FieldOpOf<T>, 'kind'>): FieldOpNode =>
  Object.freeze({ kind: 'FieldOp', ...n } as FieldOpOf<FieldOpTarget> as FieldOpNode);
export const ifNode = (cond: Expr, then: readonly Stmt[], otherwise: readonly Stmt[]): IfNode =>
  make('If', { cond, then: Object.freeze([...then]), else: Object.freeze([...otherwise]) });
export const param = (value: Raw | null, as: LuaType = 'raw'): ParamNode => make('Param', { value, as });
/** A list of values; a frozen list is taken as it is (a bulk chunk's argument list is not copied). */
export const paramList = (values: readonly Raw[]): ParamListNode =>
  make('ParamList', { values: Object.isFrozen(values) ? values : Object.freeze([...values]) });

/** Values known frozen all the way down (a node made frozen may still hold unfrozen children). */
const deeplyFrozen = new WeakSet<object>();

/** Deep-freezes a recorded program once recording is over (Buffers, which cannot be frozen, are left as they are). */
export function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Buffer) && !deeplyFrozen.has(value)) {
    for (const child of Object.values(value)) freezeDeep(child);
    Object.freeze(value);
    deeplyFrozen.add(value);
  }
  return value;
}
