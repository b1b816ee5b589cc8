/**
 * Fan-out of a query over the shards it targets: every shard runs the same script (same shape, its
 * own keys) in parallel, and the replies are merged here in the order one script would have
 * produced (a single shard's reply is that order already, and passes through unsorted) — the
 * order of `q_before` in lua/lib/query.lua: by each sort key's stored value in its direction
 * (numbers numerically, everything else bytewise; absent values last in both directions), then
 * by id (bytewise) in the direction of the last key (ascending when unsorted).
 *
 * Streams page by cursor: each page of a shard asks for the matches after the last row it read
 * (its sort values and id, see {@link cursorOf}), so rows written or deleted meanwhile shift no
 * page.
 */
import type { PageRow } from '../client/decode.js';

/** One sort key. */
export interface SortKey {
  readonly field: string;
  readonly desc: boolean;
  /** Compare as numbers (Lua `tonumber`) rather than as bytes. */
  readonly numeric: boolean;
}

/** The sort keys of a query, in order (empty: by id). */
export type SortSpec = readonly SortKey[];

/** Replies carry text, or Buffers for models holding bytes: both are compared as UTF-8 bytes. */
type Blob = Buffer | string;

/** One match of one shard: its id, its stored hash (when the shard sent records), its sort values and their stored text. */
export interface Row {
  readonly id: Buffer;
  readonly flat?: Blob[];
  readonly values: readonly (number | Buffer | null)[];
  readonly stored: readonly (Blob | null)[];
}

/** The values the merge compares, from the sort keys' stored text (null = absent), as `q_sort_values` reads them. */
function valuesOf(stored: readonly (Blob | null)[], keys: SortSpec): Row['values'] {
  return keys.map((k, i) => {
    const raw = stored[i] ?? null;
    if (raw === null) return null;
    if (!k.numeric) return toBuffer(raw);
    const text = String(raw).trim();
    const n = Number(text);
    return text === '' || Number.isNaN(n) ? null : n;
  });
}

/** The stored values of the sort keys in a flat HGETALL reply (null = absent). */
function storedOf(flat: readonly Blob[], keys: SortSpec): (Blob | null)[] {
  const at = new Map<string, Blob>();
  for (let i = 0; i < flat.length; i += 2) at.set(String(flat[i]), flat[i + 1]);
  return keys.map((k) => at.get(k.field) ?? null);
}

/** Rows of a shard's page of records, with the values of the sort keys (for a merge or a cursor). */
export function recordRows(page: readonly PageRow[], keys: SortSpec): Row[] {
  return page.map(({ id, flat }) => {
    const stored = storedOf(flat, keys);
    return { id: toBuffer(id), flat, stored, values: valuesOf(stored, keys) };
  });
}

/** Rows of a shard's `rows` reply: ids with their sort keys' stored values, no record. */
export function sortRows(page: readonly { id: Blob; stored: readonly (Blob | null)[] }[], keys: SortSpec): Row[] {
  return page.map(({ id, stored }) => ({ id: toBuffer(id), stored, values: valuesOf(stored, keys) }));
}

/** Rows of a shard's ids (a merge of them is in query order only when unsorted: ids are the order). */
export function idRows(ids: readonly string[]): Row[] {
  return ids.map((id) => ({ id: toBuffer(id), values: [], stored: [] }));
}

/** Whether a record read after its row still holds the sort values the row was merged by. */
export function sameSortValues(row: Row, flat: readonly Blob[], keys: SortSpec): boolean {
  const now = storedOf(flat, keys);
  return row.stored.every((v, i) => {
    const w = now[i];
    return v === null || w === null ? v === w : toBuffer(v).equals(toBuffer(w));
  });
}

const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));

/** The query order of two rows (negative: `a` first). */
export function comparator(keys: SortSpec): (a: Row, b: Row) => number {
  const idDesc = keys.at(-1)?.desc ?? false;
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a.values[i];
      const y = b.values[i];
      if (x === null && y === null) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      const c = typeof x === 'number' ? Math.sign(x - (y as number)) : Buffer.compare(x, y as Buffer);
      if (c !== 0) return keys[i].desc ? -c : c;
    }
    const c = Buffer.compare(a.id, b.id);
    return idDesc ? -c : c;
  };
}

/** A stream's cursor after `row`, as the query script reads it (`after`, see QueryNode). */
export function cursorOf(row: Row): Blob[] {
  return [...row.stored.flatMap((v): Blob[] => (v === null ? ['0', ''] : ['1', v])), row.id];
}

/**
 * How many of its first matches each of `shards` shards is first asked for when a merged page
 * needs `need` (at most `need`): its even share with a margin of three standard deviations and
 * three rows, so that a shard rarely holds more of the page than that (ids spread evenly over
 * the shards: a shard's part of the page is about binomial) and needs asking again.
 */
export function shareOf(need: number, shards: number): number {
  const mean = need / Math.max(1, shards);
  return Math.min(need, Math.ceil(mean + 3 * Math.sqrt(mean)) + 3);
}

/** Merges per-shard lists (each already in query order) and keeps `offset … offset+limit`. */
export function mergePage(lists: readonly Row[][], keys: SortSpec, offset: number, limit?: number): Row[] {
  const all = lists.length === 1 ? lists[0] : lists.flat().sort(comparator(keys));
  return all.slice(offset, limit === undefined ? undefined : offset + limit);
}

/**
 * Streams the merge of per-shard streams: `pageOf(shard, after, size)` reads one page of one shard
 * (in query order, after the row `after` when given); each shard is read a page at a time as its
 * head is consumed, and the smallest head goes next. No shard is asked for more than `need` rows.
 */
export async function* mergeStreams(
  shards: readonly number[],
  pageOf: (shard: number, after: Row | undefined, size: number) => Promise<Row[]>,
  keys: SortSpec,
  pageSize: number,
  need = Infinity,
): AsyncGenerator<Row> {
  const cmp = comparator(keys);
  const state = shards.map((shard) => ({ shard, rows: [] as Row[], pos: 0, read: 0, last: undefined as Row | undefined, done: need <= 0 }));
  const refill = async (s: (typeof state)[number]): Promise<void> => {
    const size = Math.min(pageSize, need - s.read);
    s.rows = await pageOf(s.shard, s.last, size);
    s.pos = 0;
    s.read += s.rows.length;
    s.last = s.rows.at(-1) ?? s.last;
    if (s.rows.length < size || s.read >= need) s.done = true;
  };
  for (;;) {
    const empty = state.filter((s) => s.pos >= s.rows.length && !s.done);
    if (empty.length > 0) await Promise.all(empty.map(refill));
    let best: (typeof state)[number] | undefined;
    for (const s of state) {
      if (s.pos < s.rows.length && (!best || cmp(s.rows[s.pos], best.rows[best.pos]) < 0)) best = s;
    }
    if (!best) return;
    yield best.rows[best.pos++];
  }
}

/** One aggregate's partial state over a group of matches (see agg_collect in lua/lib/aggregate.lua). */
export interface AggPartial {
  n: number;
  sum: number;
  min: number | null;
  max: number | null;
}

/** A group of matches: its stored group value (null: none), how many matched, and each aggregate's partial. */
export interface AggGroup {
  readonly value: string | null;
  count: number;
  readonly parts: AggPartial[];
}

const numOrNull = (raw: unknown): number | null => (String(raw) === '' ? null : Number(String(raw)));

/**
 * Merges the `aggregate` replies of one or more shards (each a flat list: per group its value
 * flag and value, its count, then n/sum/min/max per aggregate) into one group per value: counts
 * and sums add up, mins and maxes take the extreme.
 */
export function mergeAggregates(replies: readonly (readonly unknown[])[], width: number): AggGroup[] {
  const groups = new Map<string, AggGroup>();
  for (const reply of replies) {
    for (let i = 0; i < reply.length; i += 3 + 4 * width) {
      const value = String(reply[i]) === '1' ? String(reply[i + 1]) : null;
      const key = value === null ? '' : `=${value}`;
      let group = groups.get(key);
      if (!group) {
        group = { value, count: 0, parts: Array.from({ length: width }, () => ({ n: 0, sum: 0, min: null, max: null })) };
        groups.set(key, group);
      }
      group.count += Number(String(reply[i + 2]));
      for (let k = 0; k < width; k++) {
        const at = i + 3 + 4 * k;
        const part = group.parts[k];
        part.n += Number(String(reply[at]));
        part.sum += Number(String(reply[at + 1]));
        const min = numOrNull(reply[at + 2]);
        const max = numOrNull(reply[at + 3]);
        if (min !== null && (part.min === null || min < part.min)) part.min = min;
        if (max !== null && (part.max === null || max > part.max)) part.max = max;
      }
    }
  }
  return [...groups.values()];
}
