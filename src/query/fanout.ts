/**
 * Fan-out of a query over the shards it targets: every shard runs the same script (same shape, its
 * own keys) in parallel, and the replies are merged here in the order one script would have
 * produced (a single shard's reply is that order already, and passes through unsorted) — the order of `q_sort` in lua/lib/query.lua: by the sort field's stored value (numbers
 * numerically, everything else bytewise; absent values last in both directions), ties and
 * unsorted queries by id (bytewise) in the sort direction.
 */
import type { PageRow } from '../client/decode.js';

export interface SortSpec {
  readonly field: string;
  readonly desc: boolean;
  /** Compare as numbers (Lua `tonumber`) rather than as bytes. */
  readonly numeric: boolean;
}

/** Replies carry text, or Buffers for models holding bytes: both are compared as UTF-8 bytes. */
type Blob = Buffer | string;

/** One match of one shard: its id, its stored hash (when the shard sent records) and its sort value. */
export interface Row {
  readonly id: Buffer;
  readonly flat?: Blob[];
  readonly value: number | Buffer | null;
}

/** The stored value of `field` in a flat HGETALL reply, as `q_sort` compares it (null = absent). */
export function sortValue(flat: readonly Blob[], field: string, numeric: boolean): number | Buffer | null {
  for (let i = 0; i < flat.length; i += 2) {
    if (String(flat[i]) !== field) continue;
    const raw = flat[i + 1];
    if (!numeric) return toBuffer(raw);
    const text = String(raw).trim();
    const n = Number(text);
    return text === '' || Number.isNaN(n) ? null : n;
  }
  return null;
}

/** Rows of a shard's page of records; `sort`: the sort values a merge compares (none for one shard). */
export function recordRows(page: readonly PageRow[], sort?: SortSpec): Row[] {
  return page.map(({ id, flat }) => ({ id: toBuffer(id), flat, value: sort ? sortValue(flat, sort.field, sort.numeric) : null }));
}

/** Rows of a shard's ids (a merge of them is in query order only when unsorted: ids are the order). */
export function idRows(ids: readonly string[]): Row[] {
  return ids.map((id) => ({ id: toBuffer(id), value: null }));
}

const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));

/** The query order of two rows (negative: `a` first). */
export function comparator(sort?: SortSpec): (a: Row, b: Row) => number {
  const desc = sort?.desc ?? false;
  return (a, b) => {
    if (sort) {
      const x = a.value;
      const y = b.value;
      if (x === null && y !== null) return 1;
      if (y === null && x !== null) return -1;
      if (x !== null && y !== null) {
        const c = typeof x === 'number' ? x - (y as number) : Buffer.compare(x, y as Buffer);
        if (c !== 0) return desc ? -Math.sign(c) : Math.sign(c);
      }
    }
    const c = Buffer.compare(a.id, b.id);
    return desc ? -c : c;
  };
}

/** Merges per-shard lists (each already in query order) and keeps `offset … offset+limit`. */
export function mergePage(lists: readonly Row[][], sort: SortSpec | undefined, offset: number, limit?: number): Row[] {
  const all = lists.length === 1 ? lists[0] : lists.flat().sort(comparator(sort));
  return all.slice(offset, limit === undefined ? undefined : offset + limit);
}

/**
 * Streams the merge of per-shard streams: `pageOf(shard, offset, size)` reads one page of one
 * shard (in query order); each shard is read a page at a time as its head is consumed, and the
 * smallest head goes next. No shard is asked for more than `need` rows in all.
 */
export async function* mergeStreams(
  shards: readonly number[],
  pageOf: (shard: number, offset: number, size: number) => Promise<Row[]>,
  sort: SortSpec | undefined,
  pageSize: number,
  need = Infinity,
): AsyncGenerator<Row> {
  const cmp = comparator(sort);
  const state = shards.map((shard) => ({ shard, rows: [] as Row[], pos: 0, read: 0, done: need <= 0 }));
  const refill = async (s: (typeof state)[number]): Promise<void> => {
    const size = Math.min(pageSize, need - s.read);
    s.rows = await pageOf(s.shard, s.read, size);
    s.pos = 0;
    s.read += s.rows.length;
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
