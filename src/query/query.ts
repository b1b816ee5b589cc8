/**
 * The query builder: `Model.find(cond).sort(f, 'desc').offset(n).limit(m).toArray()`. Immutable:
 * each refinement returns a new query. Every terminal call is one script that plans, filters,
 * sorts, pages and acts on the server, in one consistent snapshot. On a sharded model (cluster,
 * `shards: N`) each terminal call runs that script on every shard in parallel and merges the
 * replies (src/query/fanout.ts): each shard is one snapshot, the shards are not one together.
 */
import type { TProperties } from 'typebox';
import type { ScalarPath } from '../model/paths.js';
import type { QueryAggregate, Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { explainProgram } from '../client/run.js';
import { QueryError } from '../errors.js';
import type { ModelCore } from '../model/contract.js';
import { readRecord } from '../model/layout.js';
import { crossUnique, refuseUniqueWrites } from '../model/unique-fields.js';
import type { PipelineFn, Rec } from '../model/types.js';
import type { Condition } from '../ops/condition.js';
import { Recorder } from '../ops/recorder.js';
import { isOrderable, specAt } from '../schema/spec.js';
import {
  checkAggregates, finishGroups, finishTotals, type AggResult, type AggSpecsOf, type GroupRow,
} from './aggregate.js';
import { walkIndex } from '../compile/query.js';
import { QueryRun, type Options } from './execute.js';
import { mergeAggregates, type AggGroup, type Row } from './fanout.js';
import { describePlan, describeSort } from './plan.js';

export type Direction = 'asc' | 'desc';

export interface StreamOptions {
  /** Records per page, one script each (default 500). */
  pageSize?: number;
  /** Stops the stream: the next page read rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Page size of `for await` streams: one script per page. */
const PAGE = 500;

export class Query<S extends TProperties> implements AsyncIterable<Rec<S>> {
  constructor(
    private readonly model: ModelCore<S>,
    readonly condition: Condition,
    private readonly options: Options = { offset: 0, sort: [] },
  ) {}

  /** What a terminal call runs: this query's node per shard, fanned out and merged. */
  private get run(): QueryRun<S> {
    return new QueryRun(this.model, this.condition, this.options);
  }

  private with(options: Partial<Options>): Query<S> {
    return new Query(this.model, this.condition, { ...this.options, ...options });
  }

  /**
   * Sorts by one field, or by several keys in order: `.sort('last')`, `.sort('age', 'desc')`,
   * `.sort([['last', 'asc'], ['first', 'desc']])`; ties after the last key break by id (in the
   * last key's direction). Replaces any earlier sort; {@link thenBy} adds a key.
   */
  sort(field: ScalarPath<S>, direction?: Direction): Query<S>;
  sort(keys: readonly (readonly [ScalarPath<S>, Direction?])[]): Query<S>;
  sort(fieldOrKeys: string | readonly (readonly [string, Direction?])[], direction: Direction = 'asc'): Query<S> {
    const keys = typeof fieldOrKeys === 'string' ? [[fieldOrKeys, direction] as const] : fieldOrKeys;
    if (!Array.isArray(keys) || keys.length === 0) throw new QueryError('sort needs a field or a non-empty list of [field, direction]');
    return this.with({ sort: keys.map(([field, dir]) => this.sortKey(field, dir ?? 'asc')) });
  }

  /** Adds a sort key after the ones set by {@link sort}: `.sort('last').thenBy('first', 'desc')`. */
  thenBy(field: ScalarPath<S>, direction: Direction = 'asc'): Query<S> {
    if (this.options.sort.length === 0) throw new QueryError(`thenBy("${field}") needs a sort(...) before it`);
    return this.with({ sort: [...this.options.sort, this.sortKey(field, direction)] });
  }

  private sortKey(field: string, direction: Direction): { field: string; desc: boolean } {
    const spec = typeof field === 'string' ? specAt(this.model.spec, field) : undefined;
    if (!isOrderable(spec)) throw new QueryError(`cannot sort by "${String(field)}": not a scalar field (bytes and JSON values have no order)`);
    if (direction !== 'asc' && direction !== 'desc') throw new QueryError(`sort direction must be 'asc' or 'desc'`);
    return { field, desc: direction === 'desc' };
  }

  offset(n: number): Query<S> {
    if (!Number.isInteger(n) || n < 0) throw new QueryError('offset must be a non-negative integer');
    return this.with({ offset: n });
  }

  limit(n: number): Query<S> {
    if (!Number.isInteger(n) || n < 0) throw new QueryError('limit must be a non-negative integer');
    return this.with({ limit: n });
  }

  /** The same query with only `ids` as candidates (the condition is still checked on each). */
  within(ids: readonly string[]): Query<S> {
    return this.with({ ids: [...ids] });
  }

  private wrapRow(row: Row): Rec<S> {
    const { data, meta } = readRecord(this.model.spec, row.flat!, String(row.id));
    return this.model.wrap(String(row.id), data, meta);
  }

  private async page(offset: number, limit?: number): Promise<Rec<S>[]> {
    return (await this.run.rows(offset, limit, false)).map((row) => this.wrapRow(row));
  }

  /** Every match (or the page set by offset/limit): no hidden cap. */
  toArray(): Promise<Rec<S>[]> {
    return this.page(this.options.offset, this.options.limit);
  }

  async first(): Promise<Rec<S> | null> {
    const [rec] = await this.page(this.options.offset, 1);
    return rec ?? null;
  }

  count(): Promise<number> {
    return this.run.total('count');
  }

  /** The ids of the matches, in query order. */
  async ids(): Promise<string[]> {
    return (await this.run.rows(this.options.offset, this.options.limit, true)).map((row) => String(row.id));
  }

  /**
   * Aggregates of every match, computed by the query's script on the server (no record shipped;
   * on a sharded model, or a scan run in slices, each script returns partial sums, counts, mins
   * and maxes, merged here):
   * `await User.find((u) => u.active.eq(true)).aggregate({ n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'] })`.
   * `sum` of no values is 0; `avg`, `min` and `max` of none are null; values absent from a
   * record are left out (`['count', field]` counts the matches holding one).
   */
  async aggregate<const A extends AggSpecsOf<S>>(specs: A): Promise<AggResult<S, A>> {
    const checked = checkAggregates(this.model.spec, specs);
    return finishTotals(checked, await this.partials(checked.node, checked.names.length)) as AggResult<S, A>;
  }

  /** Groups the matches by a field's value: `User.find().groupBy('status').aggregate({ n: 'count' })`. */
  groupBy<const F extends ScalarPath<S>>(field: F): { aggregate<const A extends AggSpecsOf<S, F>>(specs: A): Promise<GroupRow<S, F, A>[]> } {
    checkAggregates(this.model.spec, { n: 'count' }, field);
    return {
      aggregate: async <const A extends AggSpecsOf<S, F>>(specs: A): Promise<GroupRow<S, F, A>[]> => {
        const checked = checkAggregates(this.model.spec, specs, field);
        const groups = await this.partials(checked.node, checked.names.length);
        return finishGroups(this.model.spec, checked, groups, field) as GroupRow<S, F, A>[];
      },
    };
  }

  /** Every script's aggregate partials (per shard, per slice of a scan), merged per group. */
  private async partials(aggregate: QueryAggregate, width: number): Promise<AggGroup[]> {
    if (this.options.offset !== 0 || this.options.limit !== undefined) {
      throw new QueryError('aggregates cover every match: drop offset() and limit()');
    }
    return mergeAggregates(await new QueryRun(this.model, this.condition, { ...this.options, aggregate }).fanOut('aggregate', decode.partials), width);
  }

  /** The Redis keys of the matches, in query order. */
  async keys(): Promise<string[]> {
    return (await this.ids()).map((id) => this.model.keys.record(id));
  }

  /**
   * Runs a pipeline program on every match, on the server, all or nothing (per shard on a sharded
   * model); resolves to how many changed.
   */
  async update<R>(fn: PipelineFn<S, R>): Promise<number> {
    const recorder = new Recorder(); // async: a refused callback rejects rather than throws
    this.model.record(fn, recorder, () => ({}));
    refuseUniqueWrites(recorder.body as Stmt[], () => ({ model: this.model.name, fields: crossUnique(this.model) }));
    return this.run.total('update', recorder.body);
  }

  /** Deletes every match with its index entries; resolves to how many were deleted. */
  delete(): Promise<number> {
    return this.run.total('delete');
  }

  /**
   * The plan (which indexes can narrow the query, or a scan; with a sort or a limit, also how the
   * matches are ordered and where a page stops: `order`) and the script, without running it.
   * On a sharded model the script shown is shard 0's; every shard runs the same one on its keys.
   */
  explain(): { plan: string; order: string; scan: boolean; shards: number; lua: string; keys: readonly string[]; argv: readonly unknown[] } {
    const q = this.run.node('records');
    const { lua, keys, argv } = explainProgram(q);
    const plan = describePlan(q.plan);
    const limited = this.options.limit !== undefined;
    const order = describeSort(q.sort, walkIndex(q), limited, q.plan.kind === 'PlanScan');
    const shards = this.model.keys.shards;
    const fan = shards > 1 ? `fan-out over ${shards} shards (one script each, in parallel; merged in query order): ` : '';
    // the order joins the plan when it changes the work: a sort, or a page that can stop early
    const full = q.sort.length > 0 || limited ? `${plan}; ${order}` : plan;
    return { plan: fan + full, order, scan: plan.includes('scan'), shards, lua, keys, argv };
  }

  /** `for await (const u of query)`: {@link stream} with pages of 500. */
  [Symbol.asyncIterator](): AsyncIterator<Rec<S>> {
    return this.pages(PAGE);
  }

  /**
   * Streams the matches a page at a time, one script per page: `for await (const u of
   * User.find(cond).stream({ pageSize: 100, signal }))`. An aborted `signal` rejects the next page
   * read with `signal.reason`.
   */
  stream(options: StreamOptions = {}): AsyncIterable<Rec<S>> {
    const pageSize = options.pageSize ?? PAGE;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new QueryError('pageSize must be a positive integer');
    return { [Symbol.asyncIterator]: () => this.pages(pageSize, options.signal) };
  }

  private async *pages(pageSize: number, signal?: AbortSignal): AsyncGenerator<Rec<S>> {
    for await (const row of this.run.stream(pageSize, signal)) yield this.wrapRow(row);
  }
}
