/**
 * How a query runs: the Query node of each shard (and slice of a scan), the fan-out over the
 * target shards, and the merge of their pages into query order (src/query/fanout.ts). The builder
 * (src/query/query.ts) holds the options; this is what its terminal calls run.
 */
import type { TProperties } from 'typebox';
import { freezeDeep, make, param, paramList, type QueryAggregate, type QueryNode, type Stmt } from '../ast/nodes.js';
import * as decode from '../client/decode.js';
import { runProgram } from '../client/run.js';
import { ensureIndexes } from '../index/maintenance.js';
import type { ModelCore } from '../model/contract.js';
import { guardOf } from '../model/reshard.js';
import { sweepSoon } from '../model/sweep.js';
import type { Condition } from '../ops/condition.js';
import { luaTypeOf } from '../schema/facts.js';
import { specAt } from '../schema/spec.js';
import {
  comparator, cursorOf, idRows, mergePage, mergeStreams, recordRows, sameSortValues, shareOf, sortRows, type Row, type SortSpec,
} from './fanout.js';
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
        ? make('PlanIds', { ids: paramList(this.options.ids.filter((id) => this.model.keys.shardOf(id) === shard)) })
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
    return this.shardRows(shard, 'records', offset, size, after);
  }

  /**
   * One shard's matches `offset … offset+size` (all from `offset` when size is undefined; after the
   * row `after`, when given), in query order: with their records, or (`rows`) ids and sort values only.
   */
  private async shardRows(shard: number, action: 'records' | 'rows', offset: number, size: number | undefined, after?: Row): Promise<Row[]> {
    const keys = this.sortSpec;
    const read = async <T>(as: decode.Decoder<T>, rowsOf: (reply: T) => Row[]): Promise<Row[]> => {
      if (this.sliced) {
        const parts = await this.slices(shard, action, as, { offset: 0, limit: size === undefined ? undefined : offset + size }, after);
        return mergePage(parts.map(rowsOf), keys, offset, size);
      }
      return rowsOf(await this.run(shard, this.node(action, [], { offset, limit: size }, shard, after), as));
    };
    return action === 'records' ? read(decode.page, (p) => recordRows(p, keys)) : read(decode.rows(keys.length), (p) => sortRows(p, keys));
  }

  /**
   * The matches `offset … offset+limit`, in query order. A single shard pages itself, one script.
   * Several (or the slices of a scan) first give the ids and sort values of their first
   * offset+limit matches at most ({@link firstRows}), merged here; then only the records of the
   * merged page are read, one script per shard holding some of them ({@link recordsOf}).
   */
  async rows(offset: number, limit: number | undefined, idsOnly: boolean): Promise<Row[]> {
    if (this.targetShards().length <= 1 && !this.sliced) {
      const page = { offset, limit };
      if (idsOnly) return (await this.fanOut('ids', decode.ids, [], page)).flatMap(idRows);
      return (await this.fanOut('records', decode.page, [], page)).flatMap((p) => recordRows(p, []));
    }
    const need = limit === undefined ? undefined : offset + limit;
    // every match (no limit) is in the page: ids first would only add a step; and for a page of
    // one (first, findOne), a record from each shard costs less than a second round trip
    if ((need === undefined || need === 1) && !idsOnly) return this.mergedRecords(offset, need);
    const order = (await this.firstRows(need)).slice(offset);
    if (idsOnly) return order;
    return (await this.recordsOf(order)) ?? this.mergedRecords(offset, need);
  }

  /**
   * The first `need` matches over the target shards (every match when undefined), as ids and sort
   * values, exact: each shard is first asked for its share of `need` with a margin
   * ({@link shareOf}); a shard that filled its share while its last row still falls inside the
   * merged first `need` may hold more of them, and only such a shard is asked again, for the
   * `need - share` matches after that row (what it can still contribute at most).
   */
  private async firstRows(need: number | undefined): Promise<Row[]> {
    await ensureIndexes(this.model);
    const keys = this.sortSpec;
    const shards = this.targetShards();
    const share = need === undefined ? undefined : Math.min(need, shareOf(need, shards.length));
    const lists = await Promise.all(shards.map((shard) => this.shardRows(shard, 'rows', 0, share)));
    if (need === undefined || share === need) return mergePage(lists, keys, 0, need);
    const merged = mergePage(lists, keys, 0, need);
    const edge = merged.length < need ? undefined : merged[need - 1];
    const cmp = comparator(keys);
    await Promise.all(lists.map(async (list, i) => {
      const last = list.at(-1);
      if (list.length < share! || (edge && cmp(last!, edge) >= 0)) return;
      lists[i] = [...list, ...await this.shardRows(shards[i], 'rows', 0, need - share!, last)];
    }));
    return mergePage(lists, keys, 0, need);
  }

  /**
   * The records of `rows`, in their order: the query again, on these ids only, one script per
   * shard holding some (read-only unless records slide their TTL, which only the page's do).
   * Undefined when a row's record is gone since it was merged (deleted, expired, changed so it no
   * longer matches) or its sort values changed: the merged page would then not be exact.
   */
  private async recordsOf(rows: readonly Row[]): Promise<Row[] | undefined> {
    if (rows.length === 0) return [];
    const read = new QueryRun(this.model, this.condition, { sort: [], offset: 0, ids: rows.map((r) => String(r.id)) });
    const found = new Map((await read.fanOut('records', decode.page)).flat().map((p) => [String(p.id), p.flat]));
    const out: Row[] = [];
    for (const row of rows) {
      const flat = found.get(String(row.id));
      if (!flat || !sameSortValues(row, flat, this.sortSpec)) return undefined;
      out.push({ ...row, flat });
    }
    return out;
  }

  /**
   * The page read in one step (every match, a page of one, or when the two-step read saw a record
   * change in between): every shard returns the records of its first offset+limit matches (one
   * script each, its own snapshot), merged here.
   */
  private async mergedRecords(offset: number, need: number | undefined): Promise<Row[]> {
    const pages = await this.fanOut('records', decode.page, [], { offset: 0, limit: need });
    return mergePage(pages.map((p) => recordRows(p, this.sortSpec)), this.sortSpec, offset, need === undefined ? undefined : need - offset);
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
