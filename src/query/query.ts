/**
 * The query builder: `Model.find(cond).sort(f, 'desc').offset(n).limit(m).toArray()`. Immutable:
 * each refinement returns a new query. Every terminal call is one script that plans, filters,
 * sorts, pages and acts on the server, in one consistent snapshot. On a sharded model (cluster,
 * `shards: N`) each terminal call runs that script on every shard in parallel and merges the
 * replies (src/query/fanout.ts): each shard is one snapshot, the shards are not one together.
 */
import type { TProperties } from 'typebox';
import { node as astNode, param, paramList, freezeDeep, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { explainProgram, runProgram } from '../client/run.js';
import { QueryError } from '../errors.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { ModelCore, ShardKeys } from '../model/contract.js';
import type { KeySpace } from '../model/keys.js';
import { guardOf, readLayouts } from '../model/reshard.js';
import { readRecord } from '../model/layout.js';
import type { PipelineFn, Rec } from '../model/types.js';
import type { Condition } from '../ops/condition.js';
import { Recorder } from '../ops/recorder.js';
import { luaTypeOf } from '../schema/facts.js';
import { isScalar, specAt } from '../schema/spec.js';
import { comparator, idRows, mergePage, mergeStreams, rankedRows, recordRows, type Row, type SortSpec } from './fanout.js';
import { describePlan, indexesOf, isExact, planOf } from './plan.js';

export type Direction = 'asc' | 'desc';

interface Options {
  readonly sort?: { field: string; desc: boolean };
  readonly offset: number;
  readonly limit?: number;
  /** Only these ids are candidates (bulk operations; see within). */
  readonly ids?: readonly string[];
}

/** Page size of `for await` streams: one script per page. */
const PAGE = 500;

/** One shard a query runs on: its keys, its layout, and the layout its scripts are checked against. */
interface Target {
  readonly keys: ShardKeys;
  readonly space: KeySpace;
  readonly layout: string;
}

export class Query<S extends TProperties> implements AsyncIterable<Rec<S>> {
  constructor(
    private readonly model: ModelCore<S>,
    readonly condition: Condition,
    private readonly options: Options = { offset: 0 },
  ) {}

  private with(options: Partial<Options>): Query<S> {
    return new Query(this.model, this.condition, { ...this.options, ...options });
  }

  sort(field: string, direction: Direction = 'asc'): Query<S> {
    const spec = specAt(this.model.spec, field);
    if (!spec || !isScalar(spec) || spec.kind === 'bytes') throw new QueryError(`cannot sort by "${field}": not a scalar field`);
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

  private node(action: QueryNode['action'], body: readonly Stmt[] = [], page?: { offset: number; limit?: number }, target = this.declared()[0]): QueryNode {
    const { offset, limit } = page ?? this.options;
    const { keys, space, layout } = target;
    const indexes = indexesOf(keys.ix);
    return freezeDeep({
      kind: 'Query',
      binary: this.model.binary,
      prefix: param(keys.prefix),
      idsKey: keys.idsKey,
      guard: guardOf(space, keys.shard, layout),
      ix: keys.ix,
      uq: keys.uq,
      exp: keys.exp,
      ...(keys.ch && { ch: keys.ch }),
      plan: this.options.ids
        ? astNode({ kind: 'PlanIds', ids: paramList(this.options.ids.filter((id) => space.shardOf(id) === keys.shard)) })
        : planOf(this.condition.expr, indexes),
      exact: !this.options.ids && isExact(this.condition.expr, indexes),
      filter: this.condition.expr,
      sort: this.sortSpec,
      offset: param(String(offset)),
      limit: param(limit === undefined ? '' : String(limit)),
      action,
      body,
    } satisfies QueryNode);
  }

  /** The shards of a layout, or only those holding a candidate of `within(ids)`: one on an unsharded model. */
  private targetsOf(space: KeySpace, layout: string): Target[] {
    const held = this.options.ids && new Set(this.options.ids.map((id) => space.shardOf(id)));
    return Array.from({ length: space.shards }, (_, shard) => shard)
      .filter((shard) => !held || held.has(shard))
      .map((shard) => ({ keys: this.model.shardKeys(shard, space), space, layout }));
  }

  /** The declared layout's target shards. */
  private declared(): Target[] {
    return this.targetsOf(this.model.keys, String(this.shards));
  }

  /**
   * The shards to run on, in phases: one phase (every target shard at once), or during a reshard
   * of a read, the old layout's shards and then the new one's. A move writes a record's new copy
   * before it deletes the old one, so a record the first phase missed is there for the second.
   * Writes carry the declared layout, which a shard being moved refuses (ReshardingError).
   */
  private async phases(writes: boolean): Promise<{ phases: Target[][]; moving: boolean }> {
    const state = await this.model.shardState();
    if (!state.moving || writes) return { phases: [this.declared()], moving: false };
    const layout = readLayouts(state);
    const { from, to } = state.moving;
    return { phases: [this.targetsOf(this.model.keys.withShards(from), layout), this.targetsOf(this.model.keys.withShards(to), layout)], moving: true };
  }

  /** Runs `action` on each target shard (a phase at a time, its shards in parallel); the decoded replies. */
  private async fanOut<T>(
    action: QueryNode['action'], as: decode.Decoder<T>, body: readonly Stmt[] = [], page?: { offset: number; limit?: number },
  ): Promise<{ replies: T[]; moving: boolean }> {
    await ensureIndexes(this.model);
    const { phases, moving } = await this.phases(action === 'update' || action === 'delete');
    const replies: T[] = [];
    for (const phase of phases) replies.push(...(await Promise.all(phase.map((t) => runProgram(this.model, this.node(action, body, page, t), as)))));
    return { replies, moving };
  }

  /** The sum of every target shard's count (count, update, delete); during a reshard, the distinct ids counted. */
  private async total(action: 'count' | 'update' | 'delete', body: readonly Stmt[] = []): Promise<number> {
    if (action === 'count' && (await this.model.shardState()).moving) {
      return new Set((await this.fanOut('ids', decode.ids)).replies.flat()).size;
    }
    return (await this.fanOut(action, decode.count, body)).replies.reduce((n, c) => n + c, 0);
  }

  /** One shard's matches `offset … offset+limit` as rows: with their records, their sort values (ranked), or ids. */
  private async fetch(target: Target, action: 'records' | 'ranked' | 'ids', offset: number, limit: number | undefined, sort?: SortSpec): Promise<Row[]> {
    const page = { offset, limit };
    switch (action) {
      case 'records': return recordRows(await runProgram(this.model, this.node('records', [], page, target), decode.page), sort);
      case 'ranked': return rankedRows(await runProgram(this.model, this.node('ranked', [], page, target), decode.ranked), sort!);
      case 'ids': return idRows(await runProgram(this.model, this.node('ids', [], page, target), decode.ids));
    }
  }

  /**
   * The matches `offset … offset+limit`, in query order. A single shard pages itself. Several are
   * merged: each first returns its share of the page — about twice `(offset+limit) / shards` rows
   * — and a shard whose share ends inside the merged page is asked for the rest of its first
   * offset+limit (the rows of the page it may still hold), so the merge is exact and a shard
   * usually ships a few rows, not offset+limit. A deep page (offset beyond limit) ships ids and
   * sort values only (`ranked`), and the page's records are read after the merge.
   */
  private async rows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
    await ensureIndexes(this.model);
    const sort = this.sortSpec;
    const { phases, moving } = await this.phases(false);
    const targets = phases.flat();
    if (targets.length === 1) return this.fetch(targets[0], idsOnly ? 'ids' : 'records', offset, limit);
    const deep = limit === undefined ? false : offset > limit;
    const action = idsOnly || deep ? (sort ? 'ranked' : 'ids') : 'records';
    const need = limit === undefined ? undefined : offset + limit;
    const quota = need === undefined || moving ? need : Math.min(need, Math.ceil((2 * need) / targets.length) + 2);
    const lists: Row[][] = [];
    for (const phase of phases) lists.push(...(await Promise.all(phase.map((t) => this.fetch(t, action, 0, quota, sort)))));
    if (need !== undefined && quota !== undefined && quota < need) {
      const cmp = comparator(sort);
      const first = mergePage(lists, sort, 0, need);
      const cut = first.length >= need ? first[need - 1] : undefined;
      await Promise.all(lists.map(async (rows, i) => {
        if (rows.length < quota || (cut && cmp(rows[rows.length - 1], cut) > 0)) return;
        lists[i] = rows.concat(await this.fetch(targets[i], action, quota, need - quota, sort));
      }));
    }
    return mergePage(lists, sort, offset, limit, moving);
  }

  private wrapRow(row: Row): Rec<S> {
    const { data, meta } = readRecord(this.model.spec, row.flat!);
    return this.model.wrap(String(row.id), data, meta);
  }

  /**
   * A page of records. Rows that came without their record (a ranked merge) are read by id after
   * the merge; one deleted in between is left out.
   */
  private async page(offset: number, limit?: number): Promise<Rec<S>[]> {
    const rows = await this.rows(offset, limit, false);
    if (rows.every((row) => row.flat)) return rows.map((row) => this.wrapRow(row));
    return this.model.getMany(rows.map((row) => String(row.id)), { missing: 'skip' });
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

  /** The Redis keys of the matches, in query order. */
  async keys(): Promise<string[]> {
    return (await this.ids()).map((id) => this.model.keys.record(id));
  }

  /**
   * Runs a pipeline program on every match, on the server, all or nothing (per shard on a sharded
   * model); resolves to how many changed.
   */
  update(fn: PipelineFn<S>): Promise<number> {
    const recorder = new Recorder();
    this.model.record(fn, recorder, () => ({}));
    return this.total('update', recorder.body);
  }

  /** Deletes every match with its index entries; resolves to how many were deleted. */
  delete(): Promise<number> {
    return this.total('delete');
  }

  /**
   * The plan (which indexes can narrow the query, or a scan) and the script, without running it.
   * On a sharded model the script shown is shard 0's; every shard runs the same one on its keys.
   */
  explain(): { plan: string; scan: boolean; shards: number; lua: string; keys: readonly string[]; argv: readonly unknown[] } {
    const q = this.node('records');
    const { lua, keys, argv } = explainProgram(q);
    const plan = describePlan(q.plan);
    const shards = this.shards;
    const fan = shards > 1 ? `fan-out over ${shards} shards (one script each, in parallel; merged in query order): ` : '';
    return { plan: fan + plan, scan: plan.includes('scan'), shards, lua, keys, argv };
  }

  /**
   * Streams the matches in pages of 500, one script per page (per shard page on a sharded model,
   * merged). A single shard pages from the offset itself; several are each read from their start.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Rec<S>> {
    if ((await this.model.shardState()).moving) {
      // during a reshard a stream reads the old and the new shards in two phases (see phases): whole
      yield* await this.toArray();
      return;
    }
    const shards = this.declared();
    const merged = shards.length > 1;
    const start = merged ? 0 : this.options.offset;
    const skip = this.options.offset - start;
    const need = this.options.limit === undefined ? Infinity : skip + this.options.limit;
    await ensureIndexes(this.model);
    const sort = merged ? this.sortSpec : undefined;
    const pageOf = (target: Target, offset: number, size: number): Promise<Row[]> => this.fetch(target, 'records', start + offset, size, sort);
    let i = 0;
    for await (const row of mergeStreams(shards, pageOf, this.sortSpec, PAGE, need)) {
      if (i >= need) return;
      if (i++ >= skip) yield this.wrapRow(row);
    }
  }
}
