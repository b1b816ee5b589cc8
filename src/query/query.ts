/**
 * The query builder: `Model.find(cond).sort(f, 'desc').offset(n).limit(m).toArray()`. Immutable:
 * each refinement returns a new query. Every terminal call is one script that plans, filters,
 * sorts, pages and acts on the server, in one consistent snapshot. On a sharded model (cluster,
 * `shards: N`) each terminal call runs that script on every shard in parallel and merges the
 * replies (src/query/fanout.ts): each shard is one snapshot, the shards are not one together.
 */
import type { TProperties } from 'typebox';
import type { ScalarPath } from '../model/paths.js';
import { node as astNode, param, paramList, freezeDeep, type QueryAggregate, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { explainProgram, runProgram } from '../client/run.js';
import { QueryError } from '../errors.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { ModelCore } from '../model/contract.js';
import { guardOf } from '../model/reshard.js';
import { sweepSoon } from '../model/sweep.js';
import { readRecord } from '../model/layout.js';
import type { PipelineFn, Rec } from '../model/types.js';
import type { Condition } from '../ops/condition.js';
import { Recorder } from '../ops/recorder.js';
import { luaTypeOf } from '../schema/facts.js';
import { isOrderable, specAt } from '../schema/spec.js';
import {
  checkAggregates, finishGroups, finishTotals, type AggResult, type AggSpecs, type GroupRow,
} from './aggregate.js';
import { walkIndex } from '../compile/query.js';
import {
  cursorOf, idRows, mergeAggregates, mergePage, mergeStreams, recordRows, type AggGroup, type Row, type SortSpec,
} from './fanout.js';
import { describePlan, describeSort, indexesOf, isExact, planOf } from './plan.js';

export type Direction = 'asc' | 'desc';

export interface StreamOptions {
  /** Records per page, one script each (default 500). */
  pageSize?: number;
  /** Stops the stream: the next page read rejects with `signal.reason`. */
  signal?: AbortSignal;
}

interface Options {
  /** The sort keys, in order (empty: by id). */
  readonly sort: readonly { field: string; desc: boolean }[];
  readonly offset: number;
  readonly limit?: number;
  /** Only these ids are candidates (bulk operations; see within). */
  readonly ids?: readonly string[];
  /** What the `aggregate` action computes. */
  readonly aggregate?: QueryAggregate;
}

/** Page size of `for await` streams: one script per page. */
const PAGE = 500;

export class Query<S extends TProperties> implements AsyncIterable<Rec<S>> {
  constructor(
    private readonly model: ModelCore<S>,
    readonly condition: Condition,
    private readonly options: Options = { offset: 0, sort: [] },
  ) {}

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

  /** The model's shard count in effect (1 on a single node or an unsharded model). */
  private get shards(): number {
    return this.model.keys.shards;
  }

  private get sortSpec(): SortSpec {
    return this.options.sort.map(({ field, desc }) => ({ field, desc, numeric: luaTypeOf(specAt(this.model.spec, field)!) === 'num' }));
  }

  /**
   * Whether reads run as a scan in slices (no index narrows the condition): one script per
   * SCAN_SLICE ids, in id order, so no script holds Redis for long. Update and delete by query stay
   * one script per shard, to stay all or nothing.
   */
  private get sliced(): boolean {
    return !this.options.ids && planOf(this.condition.expr, indexesOf(this.model.shardKeys(0).ix)).kind === 'PlanScan';
  }

  private node(
    action: QueryNode['action'], body: readonly Stmt[] = [], page?: { offset: number; limit?: number }, shard = 0, after?: Row, slice?: string,
  ): QueryNode {
    const { offset, limit } = page ?? this.options;
    const keys = this.model.shardKeys(shard);
    const indexes = indexesOf(keys.ix);
    return freezeDeep({
      kind: 'Query',
      binary: this.model.binary,
      prefix: param(keys.prefix),
      idsKey: keys.idsKey,
      guard: guardOf(this.model.keys, shard, String(this.model.keys.shards)),
      ix: keys.ix,
      uq: keys.uq,
      exp: keys.exp,
      ...(keys.ch && { ch: keys.ch }),
      plan: this.options.ids
        ? astNode({ kind: 'PlanIds', ids: paramList(this.options.ids.filter((id) => this.model.keys.shardOf(id) === shard)) })
        : planOf(this.condition.expr, indexes),
      exact: !this.options.ids && isExact(this.condition.expr, indexes),
      filter: this.condition.expr,
      sort: this.sortSpec,
      after: paramList(after ? cursorOf(after) : []),
      ...(slice !== undefined && { slice: param(slice) }),
      offset: param(String(offset)),
      limit: param(limit === undefined ? '' : String(limit)),
      action,
      body,
      ...(this.model.slideMs ? { slideMs: param(this.model.slideMs) } : {}),
      ...(this.options.aggregate ? { aggregate: this.options.aggregate } : {}),
    } satisfies QueryNode);
  }

  /** Every shard, or only those holding a candidate of `within(ids)`: one on an unsharded model. */
  private targetShards(): number[] {
    const all = Array.from({ length: this.shards }, (_, shard) => shard);
    if (!this.options.ids) return all;
    const held = new Set(this.options.ids.map((id) => this.model.keys.shardOf(id)));
    return all.filter((shard) => held.has(shard));
  }

  /**
   * Runs `action` on each target shard in parallel, one script each (or, for the reads of a sliced
   * scan, one per slice in turn); the decoded replies in shard (and slice) order.
   */
  private async fanOut<T>(
    action: QueryNode['action'], as: decode.Decoder<T>, body: readonly Stmt[] = [], page?: { offset: number; limit?: number },
  ): Promise<T[]> {
    await ensureIndexes(this.model);
    if (this.sliced && action !== 'update' && action !== 'delete') {
      return (await Promise.all(this.targetShards().map((shard) => this.slices(shard, action, as, page)))).flat();
    }
    return Promise.all(this.targetShards().map((shard) => this.run(shard, this.node(action, body, page, shard), as)));
  }

  /** Runs one script of the query on a shard; a reply that saw due expiry ids starts a sweep there. */
  private async run<T>(shard: number, q: QueryNode, as: decode.Decoder<T>): Promise<T> {
    const { due, value } = await runProgram(this.model, q, decode.queried(as));
    if (due) sweepSoon(this.model, shard);
    return value;
  }

  /**
   * The slices of a scan on one shard, in id order, each one script. An unsorted page stops once
   * it holds offset+limit matches (ids are its order); anything else reads every slice.
   */
  private async slices<T>(shard: number, action: QueryNode['action'], as: decode.Decoder<T>, page?: { offset: number; limit?: number }, after?: Row): Promise<T[]> {
    const need = page?.limit === undefined || this.options.sort.length > 0 ? Infinity : page.offset + page.limit;
    const parts: T[] = [];
    let found = 0;
    let from = after && this.options.sort.length === 0 ? String(after.id) : '';
    do {
      const { next, value } = await this.run(shard, this.node(action, [], page, shard, after, from), decode.slice(as));
      parts.push(value);
      found += Array.isArray(value) ? value.length : 0;
      from = next;
    } while (from !== '' && found < need);
    return parts;
  }

  /** The sum of every target shard's count (count, update, delete). */
  private async total(action: 'count' | 'update' | 'delete', body: readonly Stmt[] = []): Promise<number> {
    return (await this.fanOut(action, decode.count, body)).reduce((n, c) => n + c, 0);
  }

  /** One shard's matches `offset … offset+size` (after the row `after`, when given) in query order, with their records and sort values. */
  private async shardPage(shard: number, offset: number, size: number, after?: Row): Promise<Row[]> {
    await ensureIndexes(this.model);
    if (this.sliced) {
      const parts = await this.slices(shard, 'records', decode.page, { offset: 0, limit: offset + size }, after);
      return mergePage(parts.map((p) => recordRows(p, this.sortSpec)), this.sortSpec, offset, size);
    }
    const page = await this.run(shard, this.node('records', [], { offset, limit: size }, shard, after), decode.page);
    return recordRows(page, this.sortSpec);
  }

  /**
   * The matches `offset … offset+limit`, in query order. A single shard pages itself; several each
   * return their first offset+limit matches (which hold every row of the merged page), merged here.
   */
  private async rows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
    const merged = this.targetShards().length > 1 || this.sliced;
    const page = merged ? { offset: 0, limit: limit === undefined ? undefined : offset + limit } : { offset, limit };
    const skip = merged ? offset : 0;
    // ids carry no sort value: a sorted merge needs the records
    if (idsOnly && !(merged && this.options.sort.length > 0)) {
      return mergePage((await this.fanOut('ids', decode.ids, [], page)).map(idRows), this.sortSpec, skip, limit);
    }
    const pages = await this.fanOut('records', decode.page, [], page);
    return mergePage(pages.map((p) => recordRows(p, merged ? this.sortSpec : [])), this.sortSpec, skip, limit);
  }

  private wrapRow(row: Row): Rec<S> {
    const { data, meta } = readRecord(this.model.spec, row.flat!, String(row.id));
    return this.model.wrap(String(row.id), data, meta);
  }

  private async page(offset: number, limit?: number): Promise<Rec<S>[]> {
    return (await this.rows(offset, limit, false)).map((row) => this.wrapRow(row));
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
    return this.total('count');
  }

  /** The ids of the matches, in query order. */
  async ids(): Promise<string[]> {
    return (await this.rows(this.options.offset, this.options.limit, true)).map((row) => String(row.id));
  }

  /**
   * Aggregates of every match, computed by the query's script on the server (no record shipped;
   * on a sharded model, or a scan run in slices, each script returns partial sums, counts, mins
   * and maxes, merged here):
   * `await User.find((u) => u.active.eq(true)).aggregate({ n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'] })`.
   * `sum` of no values is 0; `avg`, `min` and `max` of none are null; values absent from a
   * record are left out (`['count', field]` counts the matches holding one).
   */
  async aggregate<const A extends AggSpecs>(specs: A): Promise<AggResult<S, A>> {
    const checked = checkAggregates(this.model.spec, specs);
    return finishTotals(checked, await this.partials(checked.node, checked.names.length)) as AggResult<S, A>;
  }

  /** Groups the matches by a field's value: `User.find().groupBy('status').aggregate({ n: 'count' })`. */
  groupBy<const F extends string>(field: F): { aggregate<const A extends AggSpecs>(specs: A): Promise<GroupRow<S, F, A>[]> } {
    checkAggregates(this.model.spec, { n: 'count' }, field);
    return {
      aggregate: async <const A extends AggSpecs>(specs: A): Promise<GroupRow<S, F, A>[]> => {
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
    return mergeAggregates(await this.with({ aggregate }).fanOut('aggregate', decode.partials), width);
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
    return this.total('update', recorder.body);
  }

  /** Deletes every match with its index entries; resolves to how many were deleted. */
  delete(): Promise<number> {
    return this.total('delete');
  }

  /**
   * The plan (which indexes can narrow the query, or a scan; with a sort or a limit, also how the
   * matches are ordered and where a page stops: `order`) and the script, without running it.
   * On a sharded model the script shown is shard 0's; every shard runs the same one on its keys.
   */
  explain(): { plan: string; order: string; scan: boolean; shards: number; lua: string; keys: readonly string[]; argv: readonly unknown[] } {
    const q = this.node('records');
    const { lua, keys, argv } = explainProgram(q);
    const plan = describePlan(q.plan);
    const limited = this.options.limit !== undefined;
    const order = describeSort(q.sort, walkIndex(q), limited, q.plan.kind === 'PlanScan');
    const shards = this.shards;
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

  /**
   * The stream: per shard page on a sharded model, merged. A single shard pages from the offset
   * itself; several are each read from their start.
   */
  private async *pages(pageSize: number, signal?: AbortSignal): AsyncGenerator<Rec<S>> {
    const shards = this.targetShards();
    const merged = shards.length > 1 || this.sliced;
    const start = merged ? 0 : this.options.offset;
    const skip = this.options.offset - start;
    const need = this.options.limit === undefined ? Infinity : skip + this.options.limit;
    // the first page of a shard starts at `start`; the next ones after the last row read (a cursor)
    const pageOf = async (shard: number, after: Row | undefined, size: number): Promise<Row[]> => {
      signal?.throwIfAborted();
      return this.shardPage(shard, after ? 0 : start, size, after);
    };
    let i = 0;
    for await (const row of mergeStreams(shards, pageOf, this.sortSpec, pageSize, need)) {
      if (i >= need) return;
      if (i++ >= skip) yield this.wrapRow(row);
    }
  }
}
