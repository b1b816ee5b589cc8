/**
 * The query builder: `Model.find(cond).sort(f, 'desc').offset(n).limit(m).toArray()`. Immutable:
 * each refinement returns a new query. Every terminal call is one script that plans, filters,
 * sorts, pages and acts on the server, in one consistent snapshot. On a sharded model (cluster,
 * `shards: N`) each terminal call runs that script on every shard in parallel and merges the
 * replies (src/query/fanout.ts): each shard is one snapshot, the shards are not one together.
 */
import { node as astNode, param, paramList, type QueryAggregate, type QueryNode, type Stmt } from '../ast/nodes.js';
import type { Reply } from '../client/executor.js';
import { compile } from '../compile/compiler.js';
import { QueryError } from '../errors.js';
import { luaTypeOf } from '../ops/handles.js';
import type { Condition } from '../ops/condition.js';
import { Recorder, freezeDeep } from '../ops/recorder.js';
import { isOrderable, specAt } from '../schema/spec.js';
import type { TProperties } from 'typebox';
import type { Model, PipelineFn, Rec } from '../model/model.js';
import { readRecord } from '../model/layout.js';
import { describePlan, indexesOf, isExact, planOf } from './plan.js';
import { ensureIndexes } from '../index/maintenance.js';
import { idRows, mergeAggregates, mergePage, mergeStreams, recordRows, type Row, type SortSpec } from './fanout.js';
import {
  checkAggregates, finishGroups, finishTotals, type AggResult, type AggSpecs, type GroupRow,
} from './aggregate.js';

export type Direction = 'asc' | 'desc';

interface Options {
  readonly sort?: { field: string; desc: boolean };
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
    private readonly model: Model<S>,
    readonly condition: Condition,
    private readonly options: Options = { offset: 0 },
  ) {}

  private with(options: Partial<Options>): Query<S> {
    return new Query(this.model, this.condition, { ...this.options, ...options });
  }

  sort(field: string, direction: Direction = 'asc'): Query<S> {
    const spec = specAt(this.model.spec, field);
    if (!isOrderable(spec)) throw new QueryError(`cannot sort by "${field}": not a scalar field (bytes and JSON values have no order)`);
    if (direction !== 'asc' && direction !== 'desc') throw new QueryError(`sort direction must be 'asc' or 'desc'`);
    return this.with({ sort: { field, desc: direction === 'desc' } });
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

  private get sortSpec(): SortSpec | undefined {
    const sort = this.options.sort;
    return sort && { field: sort.field, desc: sort.desc, numeric: luaTypeOf(specAt(this.model.spec, sort.field)!) === 'num' };
  }

  private node(action: QueryNode['action'], body: readonly Stmt[] = [], page?: { offset: number; limit?: number }, shard = 0): QueryNode {
    const { offset, limit } = page ?? this.options;
    const keys = this.model.shardKeys(shard);
    const indexes = indexesOf(keys.ix);
    return freezeDeep({
      kind: 'Query',
      binary: this.model.binary,
      prefix: param(keys.prefix),
      idsKey: keys.idsKey,
      ix: keys.ix,
      uq: keys.uq,
      exp: keys.exp,
      plan: this.options.ids
        ? astNode({ kind: 'PlanIds', ids: paramList(this.shards > 1 ? this.options.ids.filter((id) => this.model.keys.shardOf(id) === shard) : this.options.ids) })
        : planOf(this.condition.expr, indexes),
      exact: !this.options.ids && isExact(this.condition.expr, indexes),
      filter: this.condition.expr,
      sort: this.sortSpec,
      offset: param(String(offset)),
      limit: param(limit === undefined ? '' : String(limit)),
      action,
      body,
      ...(this.model.slideMs ? { slideMs: param(this.model.slideMs) } : {}),
      ...(this.options.aggregate ? { aggregate: this.options.aggregate } : {}),
    } satisfies QueryNode);
  }

  private async run(q: QueryNode): Promise<Reply> {
    await ensureIndexes(this.model);
    return this.model.db.run(compile(q));
  }

  /** Runs the action on every shard in parallel (one script each); the replies in shard order. */
  private async runAll(action: QueryNode['action'], body: readonly Stmt[] = [], page?: { offset: number; limit?: number }): Promise<Reply[]> {
    await ensureIndexes(this.model);
    return Promise.all(this.targetShards().map((shard) => this.model.db.run(compile(this.node(action, body, page, shard)))));
  }

  /** Every shard, or only those holding a candidate of `within(ids)`. */
  private targetShards(): number[] {
    const all = Array.from({ length: this.shards }, (_, shard) => shard);
    if (!this.options.ids) return all;
    const held = new Set(this.options.ids.map((id) => this.model.keys.shardOf(id)));
    return all.filter((shard) => held.has(shard));
  }

  /** One shard's matches `offset … offset+limit` in query order, with their records. */
  private async shardRows(shard: number, offset: number, limit?: number): Promise<Row[]> {
    await ensureIndexes(this.model);
    const reply = (await this.model.db.run(compile(this.node('records', [], { offset, limit }, shard)))) as Reply[];
    return recordRows(reply, this.sortSpec);
  }

  /**
   * The merged matches `offset … offset+limit` of every shard: each shard returns its first
   * offset+limit (in query order), which hold every row of the merged page.
   */
  private async fanRows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
    const page = { offset: 0, limit: limit === undefined ? undefined : offset + limit };
    const unsortedIds = idsOnly && !this.options.sort;
    const replies = (await this.runAll(unsortedIds ? 'ids' : 'records', [], page)) as Reply[][];
    const lists = replies.map((r) => (unsortedIds ? idRows(r) : recordRows(r, this.sortSpec)));
    return mergePage(lists, this.sortSpec, offset, limit);
  }

  private wrapRow(row: Row): Rec<S> {
    const { data, meta } = readRecord(this.model.spec, row.flat!);
    return this.model.wrap(String(row.id), data, meta);
  }

  private async page(offset: number, limit?: number): Promise<Rec<S>[]> {
    if (this.shards > 1) return (await this.fanRows(offset, limit, false)).map((row) => this.wrapRow(row));
    const reply = (await this.run(this.node('records', [], { offset, limit }))) as Reply[];
    const out: Rec<S>[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const { data, meta } = readRecord(this.model.spec, reply[i + 1] as Buffer[]);
      out.push(this.model.wrap(String(reply[i]), data, meta));
    }
    return out;
  }

  /** Every match (or the page set by offset/limit): no hidden cap. */
  toArray(): Promise<Rec<S>[]> {
    return this.page(this.options.offset, this.options.limit);
  }

  async first(): Promise<Rec<S> | null> {
    const [rec] = await this.page(this.options.offset, 1);
    return rec ?? null;
  }

  async count(): Promise<number> {
    if (this.shards > 1) return sum(await this.runAll('count'));
    return (await this.run(this.node('count'))) as number;
  }

  /** The ids of the matches, in query order. */
  async ids(): Promise<string[]> {
    if (this.shards > 1) return (await this.fanRows(this.options.offset, this.options.limit, true)).map((row) => String(row.id));
    return ((await this.run(this.node('ids'))) as Buffer[]).map(String);
  }

  /**
   * Aggregates of every match, computed by the query's script on the server (no record shipped;
   * on a sharded model each shard returns partial sums, counts, mins and maxes, merged here):
   * `await User.find((u) => u.active.eq(true)).aggregate({ n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'] })`.
   * `sum` of no values is 0; `avg`, `min` and `max` of none are null; values absent from a
   * record are left out (`['count', field]` counts the matches holding one).
   */
  async aggregate<const A extends AggSpecs>(specs: A): Promise<AggResult<S, A>> {
    const checked = checkAggregates(this.model.spec, specs);
    return finishTotals(checked, await this.runAggregate(checked.node, checked.names.length)) as AggResult<S, A>;
  }

  /** Groups the matches by a field's value: `User.find().groupBy('status').aggregate({ n: 'count' })`. */
  groupBy<const F extends string>(field: F): { aggregate<const A extends AggSpecs>(specs: A): Promise<GroupRow<S, F, A>[]> } {
    checkAggregates(this.model.spec, { n: 'count' }, field);
    return {
      aggregate: async <const A extends AggSpecs>(specs: A): Promise<GroupRow<S, F, A>[]> => {
        const checked = checkAggregates(this.model.spec, specs, field);
        const groups = await this.runAggregate(checked.node, checked.names.length);
        return finishGroups(this.model.spec, checked, groups, field) as GroupRow<S, F, A>[];
      },
    };
  }

  private async runAggregate(aggregate: QueryAggregate, width: number) {
    if (this.options.offset !== 0 || this.options.limit !== undefined) {
      throw new QueryError('aggregates cover every match: drop offset() and limit()');
    }
    const replies = (await this.with({ aggregate }).runAll('aggregate')) as Reply[][];
    return mergeAggregates(replies, width);
  }

  /** The Redis keys of the matches, in query order. */
  async keys(): Promise<string[]> {
    return (await this.ids()).map((id) => this.model.keys.record(id));
  }

  /**
   * Runs a pipeline program on every match, on the server, all or nothing (per shard on a sharded
   * model); resolves to how many changed.
   */
  async update(fn: PipelineFn<S>): Promise<number> {
    const recorder = new Recorder();
    this.model.record(fn, recorder, () => ({}));
    if (this.shards > 1) return sum(await this.runAll('update', recorder.body));
    return (await this.run(this.node('update', recorder.body))) as number;
  }

  /** Deletes every match with its index entries; resolves to how many were deleted. */
  async delete(): Promise<number> {
    if (this.shards > 1) return sum(await this.runAll('delete'));
    return (await this.run(this.node('delete'))) as number;
  }

  /**
   * The plan (which indexes can narrow the query, or a scan) and the script, without running it.
   * On a sharded model the script shown is shard 0's; every shard runs the same one on its keys.
   */
  explain(): { plan: string; scan: boolean; shards: number; lua: string; keys: readonly string[]; argv: readonly unknown[] } {
    const q = this.node('records');
    const { lua, keys, argv } = compile(q);
    const plan = describePlan(q.plan);
    const shards = this.shards;
    const fan = shards > 1 ? `fan-out over ${shards} shards (one script each, in parallel; merged in query order): ` : '';
    return { plan: fan + plan, scan: plan.includes('scan'), shards, lua, keys, argv };
  }

  /** Streams the matches in pages of 500, one script per page (per shard page on a sharded model, merged). */
  async *[Symbol.asyncIterator](): AsyncIterator<Rec<S>> {
    const end = this.options.limit === undefined ? Infinity : this.options.offset + this.options.limit;
    if (this.shards > 1) {
      let i = 0;
      for await (const row of mergeStreams(this.shards, (shard, offset, size) => this.shardRows(shard, offset, size), this.sortSpec, PAGE)) {
        if (i >= end) return;
        if (i++ >= this.options.offset) yield this.wrapRow(row);
      }
      return;
    }
    for (let offset = this.options.offset; offset < end; offset += PAGE) {
      const rows = await this.page(offset, Math.min(PAGE, end - offset));
      yield* rows;
      if (rows.length < PAGE) return;
    }
  }
}

const sum = (replies: Reply[]): number => replies.reduce<number>((n, r) => n + (r as number), 0);
