/**
 * Aggregates of a query, computed by its script on the server (lua/lib/aggregate.lua), no record
 * shipped: `User.find(cond).aggregate({ n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'] })`
 * and `User.find().groupBy('status').aggregate({ n: 'count' })`. This module checks the request
 * against the schema and turns merged partials (src/query/fanout.ts) into the caller's values.
 */
import type { TProperties } from 'typebox';
import type { QueryAggregate } from '../ast/nodes.js';
import { QueryError } from '../errors.js';
import { luaTypeOf } from '../schema/facts.js';
import { decodeScalar } from '../schema/codec.js';
import { isOrderable, specAt, type ObjectSpec, type ScalarSpec } from '../schema/spec.js';
import type { NumberPath, PathTo, ScalarPath } from '../model/paths.js';
import type { Data } from '../model/types.js';
import type { AggGroup, AggPartial } from './fanout.js';

export type AggOp = 'count' | 'sum' | 'avg' | 'min' | 'max';

/** One aggregate: `'count'` (matches), or `[op, field]` (`['count', field]` counts the matches that hold a value there). */
export type AggSpec = 'count' | readonly [AggOp, string];
export type AggSpecs = Readonly<Record<string, AggSpec>>;

/**
 * One aggregate as the compiler checks it against a model: `'count'`, `['count', any scalar field]`,
 * `['sum' | 'avg', a number field]`, `['min' | 'max', a number or date field]`.
 */
export type AggSpecOf<S extends TProperties> =
  | 'count'
  | readonly ['count', ScalarPath<S>]
  | readonly ['sum' | 'avg', NumberPath<S>]
  | readonly ['min' | 'max', NumberPath<S> | PathTo<S, Date>];

/** Named aggregates of a model; `G` is the group field of `groupBy(G)`, a name the aggregates cannot take. */
export type AggSpecsOf<S extends TProperties, G extends string = never> =
  { readonly [name: string]: AggSpecOf<S> } & { readonly [K in G]?: never };

/** The value at a dotted path of a record type. */
export type PathValue<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof T ? PathValue<NonNullable<T[H]>, R> : unknown
  : P extends keyof T ? T[P] : unknown;

/** count and sum are numbers (0 over no values); avg, min and max are null over none; min and max have the field's type. */
type AggValue<T, A> = A extends 'count' | readonly ['count' | 'sum', string] ? number
  : A extends readonly ['min' | 'max', infer F extends string] ? NonNullable<PathValue<T, F>> | null
  : number | null;

/** What `aggregate(specs)` resolves to: one value per name. */
export type AggResult<S extends TProperties, A extends AggSpecs> = { -readonly [K in keyof A]: AggValue<Data<S>, A[K]> };

/** One row of `groupBy(field).aggregate(specs)`: the group's value under the field's path, and the aggregates. */
export type GroupRow<S extends TProperties, F extends string, A extends AggSpecs> =
  { [K in F]: PathValue<Data<S>, F> | null } & AggResult<S, A>;

interface Checked {
  readonly names: string[];
  readonly ops: AggOp[];
  readonly specs: (ScalarSpec | null)[];
  readonly node: QueryAggregate;
}

const OPS: readonly AggOp[] = ['count', 'sum', 'avg', 'min', 'max'];

/** Checks aggregates (and a group field) against the schema; QueryError names what is wrong. */
export function checkAggregates(root: ObjectSpec, specs: AggSpecs, group?: string): Checked {
  if (!specs || typeof specs !== 'object' || Object.keys(specs).length === 0) {
    throw new QueryError("aggregate() needs at least one aggregate, e.g. { n: 'count', total: ['sum', 'score'] }");
  }
  const names: string[] = [];
  const ops: AggOp[] = [];
  const fieldSpecs: (ScalarSpec | null)[] = [];
  const fields: (string | null)[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (group !== undefined && name === group) throw new QueryError(`aggregate "${name}" has the name of the group field`);
    if (spec === 'count') {
      names.push(name), ops.push('count'), fieldSpecs.push(null), fields.push(null);
      continue;
    }
    const [op, field] = (Array.isArray(spec) ? spec : []) as [AggOp, string];
    if (!OPS.includes(op)) throw new QueryError(`aggregate "${name}": expected 'count' or [op, field] with op one of ${OPS.join(', ')}`);
    const at = typeof field === 'string' ? specAt(root, field) : undefined;
    if (!isOrderable(at)) throw new QueryError(`aggregate "${name}": "${String(field)}" is not a scalar field`);
    const numeric = luaTypeOf(at) === 'num';
    if (op !== 'count' && !numeric) throw new QueryError(`aggregate "${name}": ${op} needs a number or date field, and "${field}" is ${at.kind}`);
    if ((op === 'sum' || op === 'avg') && at.kind === 'datetime') throw new QueryError(`aggregate "${name}": ${op} of dates means nothing; use min or max`);
    names.push(name), ops.push(op), fieldSpecs.push(at), fields.push(field);
  }
  if (group !== undefined && !isOrderable(specAt(root, group))) {
    throw new QueryError(`groupBy("${group}"): not a scalar field (bytes and JSON values cannot group)`);
  }
  return { names, ops, specs: fieldSpecs, node: { fields, ...(group === undefined ? {} : { group }) } };
}

function finish(op: AggOp, count: number, part: AggPartial, spec: ScalarSpec | null): unknown {
  const date = (ms: number | null): unknown => (ms !== null && spec?.kind === 'datetime' ? new Date(ms) : ms);
  switch (op) {
    case 'count': return spec ? part.n : count;
    case 'sum': return part.sum;
    case 'avg': return part.n === 0 ? null : part.sum / part.n;
    case 'min': return date(part.min);
    case 'max': return date(part.max);
  }
}

function values(checked: Checked, group: AggGroup | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const empty: AggPartial = { n: 0, sum: 0, min: null, max: null };
  checked.names.forEach((name, i) => {
    out[name] = finish(checked.ops[i], group?.count ?? 0, group?.parts[i] ?? empty, checked.specs[i]);
  });
  return out;
}

/** The aggregates of every match (one group, or none when nothing matched). */
export function finishTotals(checked: Checked, groups: readonly AggGroup[]): Record<string, unknown> {
  return values(checked, groups[0]);
}

/**
 * One row per group value, sorted by it as queries sort (numbers numerically, other values by
 * their stored text, bytewise), matches without a value last as `null`.
 */
export function finishGroups(root: ObjectSpec, checked: Checked, groups: readonly AggGroup[], field: string): Record<string, unknown>[] {
  const spec = specAt(root, field) as ScalarSpec;
  const numeric = luaTypeOf(spec) === 'num';
  const sorted = [...groups].sort((a, b) => {
    if (a.value === null || b.value === null) return a.value === null ? (b.value === null ? 0 : 1) : -1;
    if (numeric) return Number(a.value) - Number(b.value);
    return Buffer.compare(Buffer.from(a.value), Buffer.from(b.value));
  });
  return sorted.map((g) => ({ [field]: g.value === null ? null : decodeScalar(spec, g.value), ...values(checked, g) }));
}
