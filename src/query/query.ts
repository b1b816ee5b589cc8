/**
 * The query builder: `Model.find(cond).sort(f, 'desc').offset(n).limit(m).toArray()`. Immutable:
 * each refinement returns a new query. Every terminal call is one script that plans, filters,
 * sorts, pages and acts on the server, in one consistent snapshot. On a sharded model (cluster,
 * `shards: N`) each terminal call runs that script on every shard in parallel and merges the
 * replies (src/query/fanout.ts): each shard is one snapshot, the shards are not one together.
 */
import type { TProperties } from 'typebox';
import type { ScalarPath } from '../model/paths.js';
import { node as astNode, param, paramList, freezeDeep, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { explainProgram, runProgram } from '../client/run.js';
import { QueryError } from '../errors.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { ModelCore } from '../model/contract.js';
import { readRecord } from '../model/layout.js';
import type { PipelineFn, Rec } from '../model/types.js';
import type { Condition } from '../ops/condition.js';
import { Recorder } from '../ops/recorder.js';
import { luaTypeOf } from '../schema/facts.js';
import { isScalar, specAt } from '../schema/spec.js';
import { idRows, mergePage, mergeStreams, recordRows, type Row, type SortSpec } from './fanout.js';
import { describePlan, indexesOf, isExact, planOf } from './plan.js';

export type Direction = 'asc' | 'desc';

export interface StreamOptions {
  /** Records per page, one script each (default 500). */
  pageSize?: number;
  /** Stops the stream: the next page read rejects with `signal.reason`. */
  signal?: AbortSignal;
}

interface Options {
  readonly sort?: { field: string; desc: boolean };
  readonly offset: number;
  readonly limit?: number;
  /** Only these ids are candidates (bulk operations; see within). */
  readonly ids?: readonly string[];
}

/** Page size of `for await` streams: one script per page. */
const PAGE = 500;

export class Query<S extends TProperties> implements AsyncIterable<Rec<S>> {
  constructor(
    private readonly model: ModelCore<S>,
    readonly condition: Condition,
    private readonly options: Options = { offset: 0 },
  ) {}

  private with(options: Partial<Options>): Query<S> {
    return new Query(this.model, this.condition, { ...this.options, ...options });
  }

  sort(field: ScalarPath<S>, direction: Direction = 'asc'): Query<S> {
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
      ...(keys.ch && { ch: keys.ch }),
      plan: this.options.ids
        ? astNode({ kind: 'PlanIds', ids: paramList(this.options.ids.filter((id) => this.model.keys.shardOf(id) === shard)) })
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

  /** Every shard, or only those holding a candidate of `within(ids)`: one on an unsharded model. */
  private targetShards(): number[] {
    const all = Array.from({ length: this.shards }, (_, shard) => shard);
    if (!this.options.ids) return all;
    const held = new Set(this.options.ids.map((id) => this.model.keys.shardOf(id)));
    return all.filter((shard) => held.has(shard));
  }

  /** Runs `action` on each target shard in parallel, one script each; the decoded replies in shard order. */
  private async fanOut<T>(
    action: QueryNode['action'], as: decode.Decoder<T>, body: readonly Stmt[] = [], page?: { offset: number; limit?: number },
  ): Promise<T[]> {
    await ensureIndexes(this.model);
    return Promise.all(this.targetShards().map((shard) => runProgram(this.model.db, this.node(action, body, page, shard), as)));
  }

  /** The sum of every target shard's count (count, update, delete). */
  private async total(action: 'count' | 'update' | 'delete', body: readonly Stmt[] = []): Promise<number> {
    return (await this.fanOut(action, decode.count, body)).reduce((n, c) => n + c, 0);
  }

  /** One shard's matches `offset … offset+size` in query order, with their records. */
  private async shardPage(shard: number, offset: number, size: number, merged: boolean): Promise<Row[]> {
    await ensureIndexes(this.model);
    const page = await runProgram(this.model.db, this.node('records', [], { offset, limit: size }, shard), decode.page);
    return recordRows(page, merged ? this.sortSpec : undefined);
  }

  /**
   * The matches `offset … offset+limit`, in query order. A single shard pages itself; several each
   * return their first offset+limit matches (which hold every row of the merged page), merged here.
   */
  private async rows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
    const merged = this.targetShards().length > 1;
    const page = merged ? { offset: 0, limit: limit === undefined ? undefined : offset + limit } : { offset, limit };
    const skip = merged ? offset : 0;
    // ids carry no sort value: a sorted merge needs the records
    if (idsOnly && !(merged && this.options.sort)) {
      return mergePage((await this.fanOut('ids', decode.ids, [], page)).map(idRows), this.sortSpec, skip, limit);
    }
    const pages = await this.fanOut('records', decode.page, [], page);
    return mergePage(pages.map((p) => recordRows(p, merged ? this.sortSpec : undefined)), this.sortSpec, skip, limit);
  }

  private wrapRow(row: Row): Rec<S> {
    const { data, meta } = readRecord(this.model.spec, row.flat!);
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
    const merged = shards.length > 1;
    const start = merged ? 0 : this.options.offset;
    const skip = this.options.offset - start;
    const need = this.options.limit === undefined ? Infinity : skip + this.options.limit;
    const pageOf = async (shard: number, offset: number, size: number): Promise<Row[]> => {
      signal?.throwIfAborted();
      return this.shardPage(shard, start + offset, size, merged);
    };
    let i = 0;
    for await (const row of mergeStreams(shards, pageOf, this.sortSpec, pageSize, need)) {
      if (i >= need) return;
      if (i++ >= skip) yield this.wrapRow(row);
    }
  }
}
