/**
 * The planner: turns a condition into an index plan. Only the shape of the plan is decided here
 * (which indexes could narrow each part); which one drives an `and` is decided by the script from
 * live counts. Anything an index cannot narrow (ne, not, unindexed fields, field-to-field
 * comparisons) plans as a scan, and the script checks the full condition on every candidate.
 */
import { SCAN_SLICE } from '../compile/query.js';
import { make, type Expr, type IndexRef, type ParamNode, type PlanNode, type QuerySort } from '../ast/nodes.js';

/** A model's indexes by field: value indexes (score or lexicographic) and word indexes (`search`). */
export interface Indexes {
  readonly value: ReadonlyMap<string, IndexRef>;
  readonly text: ReadonlyMap<string, IndexRef>;
}

export function indexesOf(ix: readonly IndexRef[]): Indexes {
  return {
    value: new Map(ix.filter((x) => x.type !== 't').map((x) => [x.field, x])),
    text: new Map(ix.filter((x) => x.type === 't').map((x) => [x.field, x])),
  };
}

const SCAN: PlanNode = make('PlanScan', {});

type Range = Extract<PlanNode, { kind: 'PlanRange' }>;

function leafIndex(e: Expr, indexes: ReadonlyMap<string, IndexRef>): IndexRef | undefined {
  return e.kind === 'Field' && e.rec === 1 ? indexes.get(e.field) : undefined;
}

/** A text condition on a field with a word index: its word sets (the script starts from the smallest). */
function fromText(e: Extract<Expr, { kind: 'TextMatch' }>, indexes: Indexes): PlanNode {
  const index = leafIndex(e.value, indexes.text);
  return index ? make('PlanWords', { index, mode: e.mode, words: e.words }) : SCAN;
}

function fromCompare(e: Extract<Expr, { kind: 'Compare' }>, indexes: Indexes): PlanNode {
  const index = leafIndex(e.left, indexes.value);
  if (!index || e.right.kind !== 'Param' || e.right.value === null) return SCAN;
  const v: ParamNode = e.right;
  switch (e.op) {
    case 'eq': return make('PlanRange', { index, min: v, max: v, minEx: false, maxEx: false });
    case 'gt': return make('PlanRange', { index, min: v, minEx: true, maxEx: false });
    case 'gte': return make('PlanRange', { index, min: v, minEx: false, maxEx: false });
    case 'lt': return make('PlanRange', { index, max: v, minEx: false, maxEx: true });
    case 'lte': return make('PlanRange', { index, max: v, minEx: false, maxEx: false });
    default: return SCAN;
  }
}

/** `gte(a)` and `lte(b)` on one index (a `between`) become one range. */
function mergeRanges(items: PlanNode[]): PlanNode[] {
  const out: PlanNode[] = [];
  for (const item of items) {
    const prev = out.find((o): o is Range => o.kind === 'PlanRange' && item.kind === 'PlanRange' && o.index.key === item.index.key);
    if (prev && item.kind === 'PlanRange' && (!prev.min || !item.min) && (!prev.max || !item.max)) {
      out[out.indexOf(prev)] = make('PlanRange', {
        index: prev.index,
        min: prev.min ?? item.min, minEx: prev.min ? prev.minEx : item.minEx,
        max: prev.max ?? item.max, maxEx: prev.max ? prev.maxEx : item.maxEx,
      });
    } else {
      out.push(item);
    }
  }
  return out;
}

export function planOf(e: Expr, indexes: Indexes): PlanNode {
  switch (e.kind) {
    case 'Compare':
      return fromCompare(e, indexes);
    case 'TextMatch':
      return fromText(e, indexes);
    case 'In': {
      const index = leafIndex(e.value, indexes.value);
      return index ? make('PlanIn', { index, values: e.list }) : SCAN;
    }
    case 'StartsWith': {
      const index = leafIndex(e.value, indexes.value);
      return index?.type === 's' && e.prefix.kind === 'Param' && e.prefix.value !== null
        ? make('PlanPrefix', { index, prefix: e.prefix }) : SCAN;
    }
    case 'And': {
      const items = mergeRanges(e.items.map((i) => planOf(i, indexes)).filter((p) => p.kind !== 'PlanScan'));
      if (items.length === 0) return SCAN;
      return items.length === 1 ? items[0] : make('PlanAnd', { items: Object.freeze(items) });
    }
    case 'Or': {
      const items = e.items.map((i) => planOf(i, indexes));
      return items.some((p) => p.kind === 'PlanScan') ? SCAN : make('PlanOr', { items: Object.freeze(items) });
    }
    default:
      return SCAN;
  }
}

/**
 * Whether the indexes alone answer the condition: every leaf is an index range (eq, ranges,
 * between, in, startsWith) or a text condition on a word index, and only and/or combine them. Then the script can select ids from the
 * index sets without reading any record.
 */
export function isExact(e: Expr, indexes: Indexes): boolean {
  switch (e.kind) {
    case 'Compare': case 'In': case 'StartsWith': case 'TextMatch': return planOf(e, indexes).kind !== 'PlanScan';
    case 'And': case 'Or': return e.items.length > 0 && e.items.every((i) => isExact(i, indexes));
    default: return false;
  }
}

/** A readable plan for `explain()`. */
export function describePlan(p: PlanNode): string {
  const value = (n?: ParamNode): string => (n ? JSON.stringify(String(n.value)) : '');
  switch (p.kind) {
    case 'PlanRange':
      if (p.min && p.max && p.min === p.max) return `index ${p.index.field} = ${value(p.min)}`;
      return `index ${p.index.field} in ${p.min ? (p.minEx ? '(' : '[') + value(p.min) : '(-inf'}, ${p.max ? value(p.max) + (p.maxEx ? ')' : ']') : '+inf)'}`;
    case 'PlanPrefix': return `index ${p.index.field} starts with ${value(p.prefix)}`;
    case 'PlanIn': return `index ${p.index.field} in [${p.values.values.map((v) => JSON.stringify(String(v))).join(', ')}]`;
    case 'PlanWords': {
      const list = p.words.values.map((v) => JSON.stringify(String(v))).join(', ');
      if (p.mode === 'prefix') return `word index ${p.index.field}: the ids of every word starting with ${list}`;
      return p.mode === 'all'
        ? `word index ${p.index.field}: intersection of the id sets of [${list}], from the smallest`
        : `word index ${p.index.field}: union of the id sets of [${list}]`;
    }
    case 'PlanAnd': return `the most selective of (${p.items.map(describePlan).join('; ')})`;
    case 'PlanOr': return `union of (${p.items.map(describePlan).join('; ')})`;
    case 'PlanScan': return 'scan of every id of the model (no index can narrow this condition)';
    case 'PlanIds': return `the ${p.ids.values.length} given ids`;
  }
}

/** How a query orders and pages its matches, for `explain()` (`walk`: the first key's score index, when a page may walk it). */
export function describeSort(sort: readonly QuerySort[], walk: IndexRef | undefined, limited: boolean, scan: boolean): string {
  const slices = scan ? `; the scan runs in slices of ${SCAN_SLICE} ids (one script each, in id order)` : '';
  if (sort.length === 0) {
    if (limited && !scan) return 'in id order: walks the id set and stops after offset+limit matches, unless the candidates are few enough to sort';
    return limited && scan ? `in id order${slices}: a page stops after offset+limit matches` : `in id order${slices}`;
  }
  const keys = sort.map((k) => `${k.field} ${k.desc ? 'desc' : 'asc'}`).join(', ');
  const order = `sort by ${keys}, then id ${sort.at(-1)!.desc ? 'desc' : 'asc'}`;
  if (walk && limited) {
    return `${order}: walks index ${walk.field} in order and stops after offset+limit matches${sort.length > 1 ? ' and the ties of the last one (sorted by the other keys on the server)' : ''}, unless the candidates are few enough to sort`;
  }
  return `${order}: every match sorted on the server, then paged${slices}${scan ? ', merged here' : ''}`;
}
