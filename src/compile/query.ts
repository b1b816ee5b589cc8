/**
 * The query compiler. A query's whole script is `q_run` (lua/lib/query.lua); the compiler writes
 * only the query's table (its plan, page, keys and the fields a candidate is read for), its filter
 * on a candidate `S[1]` and its action:
 *
 * ```lua
 * return q_run({ prefix = P[1], ids = KEYS[1], offset = P[2], limit = P[3], ix = {...}, uq = {}, exp = {KEYS[3], KEYS[4]},
 *   plan = {op="range", key=KEYS[2], t="n", min=P[4], minx=true}, exact = true, fields = {"#v", "age"} },
 *   function(S) return c_gt(rd_num(S[1], "age"), tonumber(P[5])) end,
 *   function(q, M, sorted) return q_act_records(q, M, sorted) end)
 * ```
 */
import type { Expr, IndexRef, PlanNode, QueryNode } from '../ast/nodes.js';
import { block, emit } from './emit.js';
import { luaString } from './link.js';
import { readSets, type ReadSet } from './read-set.js';
import { guardLines } from './shard.js';
import { straightQueryUpdate } from './straight.js';
import { changesTable, expiryTable, ixTable, uqTable, Writer } from './writer.js';

type PlanEmitters = { [K in PlanNode['kind']]: (n: Extract<PlanNode, { kind: K }>, w: Writer) => string };

const plan: PlanEmitters = {
  PlanRange: (n, w) => {
    const parts = [`op="range"`, `key=${w.key(n.index.key)}`, `t="${n.index.type}"`];
    if (n.min) parts.push(`min=${w.param(n.min, 'raw')}`, `minx=${n.minEx}`);
    if (n.max) parts.push(`max=${w.param(n.max, 'raw')}`, `maxx=${n.maxEx}`);
    return `{${parts.join(', ')}}`;
  },
  PlanPrefix: (n, w) => `{op="prefix", key=${w.key(n.index.key)}, p=${w.param(n.prefix, 'raw')}}`,
  PlanIn: (n, w) => `{op="in", key=${w.key(n.index.key)}, t="${n.index.type}", values=${w.list(n.values)}}`,
  PlanWords: (n, w) => `{op="words", key=${w.key(n.index.key)}, mode="${n.mode}", values=${w.list(n.words)}}`,
  PlanAnd: (n, w) => `{op="and", ${n.items.map((i) => emitPlan(i, w)).join(', ')}}`,
  PlanOr: (n, w) => `{op="or", ${n.items.map((i) => emitPlan(i, w)).join(', ')}}`,
  PlanScan: () => '{op="scan"}',
  PlanIds: (n, w) => `{op="ids", values=${w.list(n.ids)}}`,
};

function emitPlan(n: PlanNode, w: Writer): string {
  return (plan[n.kind] as (n: PlanNode, w: Writer) => string)(n, w);
}

/**
 * The fields an update reads of each match (its body and its commit) and the null markers known
 * absent (src/compile/read-set.ts), or the values a delete's index entries embed (lexicographic
 * and word indexes, unique values): read with the candidate's own fields, so that the action finds
 * every value in the match's state.
 */
function updateReads(q: QueryNode): ReadSet | undefined {
  if (q.action === 'update') return readSets({ records: [q], body: q.body })[0];
  if (q.action !== 'delete') return undefined;
  const embedded = [...q.ix.filter((x) => x.type !== 'n'), ...q.uq].map((x) => x.field);
  return embedded.length > 0 ? { fields: new Set(embedded), absent: new Set() } : undefined;
}

/** The fields a query reads per candidate, fetched with one HMGET: its version, filter and sort fields (and an update's or delete's reads). */
function prefetchFields(q: QueryNode): string[] {
  const fields = new Set<string>(['#v', ...(updateReads(q)?.fields ?? [])]);
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    const n = value as { kind?: string; rec?: number; field?: string };
    if (n.kind === 'Field' && n.rec === 1 && n.field) fields.add(n.field);
    Object.values(value).forEach(visit);
  };
  visit(q.filter);
  for (const f of sortAndAggregateFields(q)) fields.add(f);
  return [...fields];
}

/** The fields every match is read for after the filter: the sort keys, and what aggregates read. */
function sortAndAggregateFields(q: QueryNode): string[] {
  const fields = new Set<string>(q.sort.map((k) => k.field));
  for (const f of q.aggregate?.fields ?? []) if (f !== null) fields.add(f);
  if (q.aggregate?.group) fields.add(q.aggregate.group);
  return [...fields];
}

/** The expression kinds a lean filter reads from the candidate's HMGET reply alone. */
const LEAN = new Set<string>(['Param', 'ParamList', 'Field', 'Arith', 'Compare', 'In', 'StartsWith', 'TextMatch', 'And', 'Or', 'Not']);

/**
 * Whether a filter reads only stored scalars of the candidate (no array, dict or nested value,
 * which go through the record state): it then runs on the HMGET reply of the candidate's fields,
 * with no state made for a candidate that does not match.
 */
function leanFilter(e: Expr): boolean {
  const visit = (value: unknown): boolean => {
    if (!value || typeof value !== 'object') return true;
    const n = value as { kind?: string; rec?: number };
    if (n.kind !== undefined && (!LEAN.has(n.kind) || (n.kind === 'Field' && n.rec !== 1))) return false;
    return Object.values(value).every(visit);
  };
  return visit(e);
}

/**
 * Ids a scan reads per script (one slice): about 2-5 ms of Redis time for the HMGET and the filter
 * of each, so no script on a large model holds Redis for long; the client runs the slices in turn.
 */
export const SCAN_SLICE = 2_000;

/** Whether the action returns a page (offset and limit apply), rather than acting on every match. */
const paged = (q: QueryNode): boolean => q.action === 'records' || q.action === 'ids' || q.action === 'rows';

/**
 * A page sorted first by a field with a score index can walk that index in order and stop after
 * offset+limit matches (and the ties of the last one, sorted by the other keys), instead of
 * collecting and sorting every match; the script decides from live counts, and falls back when
 * the walk runs out.
 */
export function walkIndex(q: Pick<QueryNode, 'sort' | 'ix' | 'action'>): IndexRef | undefined {
  const first = q.sort[0];
  const index = first && q.ix.find((x) => x.field === first.field && x.type === 'n');
  return index && paged(q as QueryNode) ? index : undefined;
}

/**
 * Whether a query's script writes nothing, so it runs as EVALSHA_RO (`no-writes`): a read never
 * writes for bookkeeping (expired ids are skipped, and swept by scripts of their own), so only
 * update, delete and a page of records that re-arms a sliding TTL write.
 */
export const readsOnly = (q: Pick<QueryNode, 'action' | 'slideMs'>): boolean =>
  q.action === 'count' || q.action === 'ids' || q.action === 'rows' || q.action === 'aggregate' || (q.action === 'records' && !q.slideMs);

/** What the query does with its matches: one of the q_act_* functions of lua/lib/query.lua. */
function action(q: QueryNode, w: Writer, straight?: string): string {
  if (straight) return straight;
  switch (q.action) {
    case 'count': return 'function(_, M) return #M end';
    case 'ids': return 'function(q, M, sorted) return q_act_ids(q, M, sorted) end';
    case 'rows': return 'function(q, M, sorted) return q_act_rows(q, M, sorted) end';
    case 'records': return 'function(q, M, sorted) return q_act_records(q, M, sorted) end';
    case 'delete': return 'function(q, M) return q_act_delete(q, M) end';
    case 'update': return ['function(q, M) return q_act_update(q, M, function(S)', block(q.body, w, '  '), 'end) end'].join('\n');
    case 'aggregate': {
      const { fields, group } = q.aggregate!;
      const list = fields.map((f) => (f === null ? 'false' : luaString(f))).join(', ');
      return `function(_, M) return agg_collect(M, {${list}}, ${group ? luaString(group) : 'nil'}) end`;
    }
  }
}

/**
 * The body of a query's script, and the writer holding its KEYS and ARGV. `generic`: the reference
 * the specialised script is tested against (a record state per candidate, no index probes).
 */
export function queryBody(q: QueryNode, generic = false): { body: string; w: Writer } {
  const w = new Writer([]);
  const walk = walkIndex(q);
  const fields = prefetchFields(q);
  const lean = !generic && leanFilter(q.filter);
  const pre = updateReads(q);
  // the straight-line update may read more fields: the list is written once the action is
  const listed = 'fields = ?';
  const table = [
    `ids = ${w.key(q.idsKey)}`,
    `prefix = ${w.param(q.prefix)}`,
    `offset = ${w.param(q.offset)}`,
    `limit = ${w.param(q.limit)}`,
    `ix = ${ixTable(q.ix, w)}`,
    `uq = ${uqTable(q.uq, w)}`,
    `exp = ${expiryTable(q.exp, w)}`,
    ...(q.ch ? [`ch = ${changesTable(q.ch, w)}`] : []),
    `plan = ${emitPlan(q.plan, w)}`,
    `exact = ${q.exact}`,
    ...(walk ? [`walk = ${w.key(walk.key)}`] : []),
    ...(q.action === 'count' ? ['count = true'] : []),
    ...(paged(q) ? ['page = true'] : []),
    listed,
    ...(lean ? ['lean = true'] : []),
    ...(generic ? ['generic = true'] : []),
    `sort = {${q.sort.map((k) => `{field = ${luaString(k.field)}, numeric = ${k.numeric}, desc = ${k.desc}}`).join(', ')}}`,
    `after = ${w.list(q.after)}`,
    ...(q.slice ? [`slice = {from = ${w.param(q.slice)}, size = ${SCAN_SLICE}}`] : []),
    ...(q.cursor ? [`cursor = {key = ${w.key(q.cursor.key)}, first = ${w.param(q.cursor.first)} == "1", size = ${w.param(q.cursor.size, 'num')}}`] : []),
    ...(q.aggregate ? [`reads = {${sortAndAggregateFields(q).map(luaString).join(', ')}}`] : []),
    ...(q.slideMs ? [`slide = ${w.param(q.slideMs)}`] : []),
    ...(pre ? [`pre = {fields = {${[...pre.fields].map(luaString).join(', ')}}, absent = {${[...pre.absent].map(luaString).join(', ')}}}`] : []),
  ];
  if (lean) w.lean = { slots: new Map(fields.map((f, i) => [f, i + 1])), hoisted: [] };
  const filter = `function(${lean ? 'V' : 'S'}) return ${emit(q.filter, w)} end`;
  const hoisted = w.lean?.hoisted ?? [];
  w.lean = undefined;
  // an update the straight-line code covers, or a delete, reads each match's HMGET reply (q_run's `light`)
  const straight = lean && q.action === 'update' ? straightQueryUpdate(q, w, fields) : undefined;
  const act = action(q, w, straight);
  if (straight || (lean && q.action === 'delete')) table.push('light = true');
  table[table.indexOf(listed)] = `fields = {${fields.map(luaString).join(', ')}}`;
  // the layout check runs first but takes the last slots (as in compiler.ts)
  const guard = guardLines([q.guard], w);
  const body = [
    `local P = read_params(ARGV, "${w.shape}")`,
    `local C = ${w.constraintTables()}`,
    'local R = {}',
    ...(hoisted.length > 0 ? [`local A = {${hoisted.join(', ')}}`] : []),
    ...guard,
    `return q_run({ ${table.join(', ')} },`,
    `  ${filter},`,
    `  ${act})`,
  ].join('\n');
  return { body, w };
}
