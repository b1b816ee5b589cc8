/**
 * How a query runs: the Query node of each shard (and slice of a scan), the fan-out over the
 * target shards, and the merge of their pages into query order (src/query/fanout.ts). The builder
 * (src/query/query.ts) holds the options; this is what its terminal calls run.
 */
import type { TProperties } from 'typebox';
import { node as astNode, param, paramList, freezeDeep, type QueryAggregate, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { ModelCore } from '../model/contract.js';
import { guardOf } from '../model/reshard.js';
import { sweepSoon } from '../model/sweep.js';
import type { Condition } from '../ops/condition.js';
import { luaTypeOf } from '../schema/facts.js';
import { specAt } from '../schema/spec.js';
import { cursorOf, idRows, mergePage, mergeStreams, recordRows, type Row, type SortSpec } from './fanout.js';
import { indexesOf, isExact, planOf } from './plan.js';

export interface Options {
  /** The sort keys, in order (empty: by id). */
  readonly sort: readonly { field: string; desc: boolean }[];
  readonly offset: number;
  readonly limit?: number;
  /** Only these ids are candidates (bulk operations; see within). */
  readonly ids?: readonly string[];
  /** What the `aggregate` action computes. */
  readonly aggregate?: QueryAggregate;
}

/** One run of a query's terminal call, over its target shards. */
export class QueryRun<S extends TProperties> {
  constructor(
    private readonly model: ModelCore<S>,
    private readonly condition: Condition,
    private readonly options: Options,
  ) {}

  /** The model's shard count in effect (1 on a single node or an unsharded model). */
  get shards(): number {
    return this.model.keys.shards;
  }

  get sortSpec(): SortSpec {
    return this.options.sort.map(({ field, desc }) => ({ field, desc, numeric: luaTypeOf(specAt(this.model.spec, field)!) === 'num' }));
  }

  /**
   * Whether reads run as a scan in slices (no index narrows the condition): one script per
   * SCAN_SLICE ids, in id order, so no script holds Redis for long. Update and delete by query stay
   * one script per shard, to stay all or nothing.
   */
  get sliced(): boolean {
    return !this.options.ids && planOf(this.condition.expr, indexesOf(this.model.shardKeys(0).ix)).kind === 'PlanScan';
  }

  node(
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
  targetShards(): number[] {
    const all = Array.from({ length: this.shards }, (_, shard) => shard);
    if (!this.options.ids) return all;
    const held = new Set(this.options.ids.map((id) => this.model.keys.shardOf(id)));
    return all.filter((shard) => held.has(shard));
  }

  /**
   * Runs `action` on each target shard in parallel, one script each (or, for the reads of a sliced
   * scan, one per slice in turn); the decoded replies in shard (and slice) order.
   */
  async fanOut<T>(
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
  async slices<T>(shard: number, action: QueryNode['action'], as: decode.Decoder<T>, page?: { offset: number; limit?: number }, after?: Row): Promise<T[]> {
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
  async total(action: 'count' | 'update' | 'delete', body: readonly Stmt[] = []): Promise<number> {
    return (await this.fanOut(action, decode.count, body)).reduce((n, c) => n + c, 0);
  }

  /** One shard's matches `offset … offset+size` (after the row `after`, when given) in query order, with their records and sort values. */
  async shardPage(shard: number, offset: number, size: number, after?: Row): Promise<Row[]> {
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
  async rows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
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

  /**
   * The matches a page per script at a time: per shard page on a sharded model, merged. A single shard pages from the offset
   * itself; several are each read from their start.
   */
  async *stream(pageSize: number, signal?: AbortSignal): AsyncGenerator<Row> {
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
      if (i++ >= skip) yield row;
    }
  }
}
