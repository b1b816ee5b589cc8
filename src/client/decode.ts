/**
 * Reply decoders: each turns the reply of one kind of program into a typed value, so that no call
 * site casts a reply (node-redis's `transformReply`, applied to programs). The shapes come from
 * the compiler (src/compile/compiler.ts): a program replies with its result table R, one entry per
 * statement that has a result; an update program with `{ R, patch of record 1, ... }` (st_reply in
 * lua/lib/commit.lua), or for one record in straight-line code with its results alone (see
 * DERIVED); a query with what its
 * action returns (q_run in lua/lib/query.lua).
 */
import type { Raw } from '../schema/codec.js';
import type { Reply } from './executor.js';

export type Decoder<T> = (reply: Reply) => T;

/** Lua arrays arrive as arrays; every decoder below reads its reply through this one view. */
const list = (reply: Reply): Reply[] => (Array.isArray(reply) ? reply : []);
const text = (reply: Reply | undefined): string => (reply === null || reply === undefined ? '' : String(reply));

/** The result of a program's only statement (null when it returned nil). */
export const only: Decoder<Reply> = (reply) => list(reply)[0] ?? null;

/** A 1/0 result (exists, delete, expire, lock acquire and release) as a boolean. */
export const flag: Decoder<boolean> = (reply) => only(reply) === 1;

/** An integer result (a TTL). */
export const integer: Decoder<number> = (reply) => Number(only(reply));

/** A text result; '' for nil (a new record's version, a meta field). A straight-line create replies with the bare version. */
export const str: Decoder<string> = (reply) => text(Array.isArray(reply) ? reply[0] : reply);

/** A list of 1/0 results (owner swaps, held values) as booleans. */
export const flags: Decoder<boolean[]> = (reply) => list(only(reply)).map((x) => x === 1);

/** A list of texts ('' for nil). */
export const texts: Decoder<string[]> = (reply) => list(only(reply)).map(text);

/** uq_lease's reply: the values a record held before a write under claims, null where absent. */
const heldBefore = (reply: Reply | undefined): (string | null)[] => list(reply ?? null).map((v) => (v === null ? null : String(v)));

/**
 * A write under unique claims: uq_lease's reply (the values the record held before) and the
 * write's own result, decoded by `rest`.
 */
export const leased = <T>(rest: Decoder<T>): Decoder<{ old: (string | null)[][]; result: T }> => (reply) => {
  const all = list(reply);
  return { old: [heldBefore(all[0])], result: rest(all.slice(1)) };
};

/** A record's stored hash as a flat field/value list (ReadRecord); null when the record is absent. */
export const hash: Decoder<Raw[] | null> = (reply) => {
  const flat = list(only(reply)) as Raw[];
  return flat.length === 0 ? null : flat;
};

/** ReadMany: each id's hash in order, null where the record is absent. */
export const hashes: Decoder<(Raw[] | null)[]> = (reply) =>
  list(only(reply)).map((flat) => (list(flat).length === 0 ? null : (flat as Raw[])));

/** InsertMany: each item's new version in order, '' where it was skipped. */
export const versions: Decoder<string[]> = (reply) => list(only(reply)).map(text);

/** An update program: its statements' results and, per record, the patch that brings a copy up to date. */
export interface UpdateReply {
  readonly results: readonly Reply[];
  /**
   * `['p', field, value|null, ...]` (the changes), `['f', field, value, ...]` (the whole hash), or
   * {@link DERIVED}: the changes are the program's own operations with these results.
   */
  readonly patches: readonly (readonly Raw[])[];
}

/**
 * The patch of a copy that was current, left out of the reply: each operation's result is its
 * field's new value (an append's is the array's new length, its items the ones it sent) and the
 * version is the one seen plus one (derivedPatch in src/model/record.ts). A reply table costs Redis
 * more to send than a whole increment's arithmetic.
 */
export const DERIVED: readonly Raw[] = Object.freeze(['d']);
export const update: Decoder<UpdateReply> = (reply) => {
  // one record whose copy was current, in straight-line code (updateBody in src/compile/straight.ts):
  // the results alone, `r1` or `[n, r1..rn]`; its patch follows from the program and them
  if (!Array.isArray(reply)) return { results: [reply], patches: [DERIVED] };
  if (typeof reply[0] === 'number') return { results: reply.slice(1), patches: [DERIVED] };
  const [results, ...patches] = reply;
  return { results: list(results), patches: patches.map((p) => list(p) as Raw[]) };
};

/**
 * An update program that starts with `leases` uq_lease statements (top-level sets of unique values
 * across shards, see runUpdate in src/model/record.ts): per lease the values its record held
 * before, and the update reply without the leases' results, so that result i is still the i-th
 * statement the caller recorded.
 */
export const leasedUpdate = (leases: number): Decoder<{ old: (string | null)[][]; result: UpdateReply }> => (reply) => {
  const { results, patches } = update(reply);
  return { old: results.slice(0, leases).map(heldBefore), result: { results: results.slice(leases), patches } };
};

/** One statement's result in an update reply, as the handle that recorded it decodes it. */
export const result = (reply: UpdateReply, i: number): Raw | null => (reply.results[i] ?? null) as Raw | null;

/**
 * A query's reply `{ due, reply }` (q_run): whether the model's expiry set holds ids whose time
 * has come (a sweep has work), and the action's reply.
 */
export const queried = <T>(as: Decoder<T>): Decoder<{ due: boolean; value: T }> => (reply) => {
  const [due, value] = list(reply);
  return { due: Number(due) > 0, value: as(value ?? null) };
};

/** One chunk of an update or delete by query (q_chunk): records changed, candidates left and handled. */
export const chunkCount: Decoder<{ count: number; left: number; handled: number }> = (reply) => {
  const [count, left, handled] = list(reply);
  return { count: Number(count), left: Number(left), handled: Number(handled) };
};

/** One chunk of a sweep (exp_sweep): due ids handled, expired records dropped. */
export const sweepChunk: Decoder<{ handled: number; dropped: number }> = (reply) => {
  const [handled, dropped] = list(only(reply));
  return { handled: Number(handled), dropped: Number(dropped) };
};

/** A query's count, or how many records its update or delete changed. */
export const count: Decoder<number> = (reply) => Number(reply);

/** A query's ids, in query order. */
export const ids: Decoder<string[]> = (reply) => list(reply).map(text);

/** A query's aggregate partials, a flat list of text (see agg_collect in lua/lib/aggregate.lua). */
export const partials: Decoder<string[]> = ids;

/** One slice of a scan (see QueryNode.slice): the id to go on after ('' when done) and the action's reply. */
export const slice = <T>(as: Decoder<T>): Decoder<{ next: string; value: T }> => (reply) => {
  const [next, value] = list(reply);
  return { next: text(next), value: as(value ?? null) };
};

/** One record of a query page: its id and its stored hash. */
export interface PageRow {
  readonly id: Raw;
  readonly flat: Raw[];
}

/** A query's page of records, `[id, hash, id, hash, ...]`. */
export const page: Decoder<PageRow[]> = (reply) => {
  const flat = list(reply);
  const rows: PageRow[] = [];
  for (let i = 0; i < flat.length; i += 2) rows.push({ id: flat[i] as Raw, flat: list(flat[i + 1]) as Raw[] });
  return rows;
};

/** A query's page of rows (the `rows` action): each match's id, then its `width` sort keys' stored values (null where absent). */
export const rows = (width: number): Decoder<{ id: Raw; stored: (Raw | null)[] }[]> => (reply) => {
  const flat = list(reply);
  const out: { id: Raw; stored: (Raw | null)[] }[] = [];
  for (let i = 0; i < flat.length; i += 1 + width) {
    out.push({ id: flat[i] as Raw, stored: flat.slice(i + 1, i + 1 + width) as (Raw | null)[] });
  }
  return out;
};

/** One chunk of an index check over the ids (ix_fill): the next cursor ('' when done), records walked, entries missing. */
export const fillChunk: Decoder<{ cursor: string; scanned: number; missing: number }> = (reply) => {
  const [cursor, scanned, missing] = list(only(reply));
  return { cursor: text(cursor), scanned: Number(scanned), missing: Number(missing) };
};

/** One chunk of an index check over an index's entries (ix_prune): the next cursor ('0' when done), stale entries. */
export const pruneChunk: Decoder<{ cursor: string; stale: number }> = (reply) => {
  const [cursor, stale] = list(only(reply));
  return { cursor: text(cursor), stale: Number(stale) };
};

/** A statement without a result (a meta write). */
export const none: Decoder<void> = () => undefined;

/** The model-wide shard meta (ShardMeta): the recorded shard count, and the reshard in progress ('' for none). */
export const shardMeta: Decoder<{ shards: number; move: string }> = (reply) => {
  const [shards, move] = list(only(reply));
  return { shards: Number(text(shards)), move: text(move) };
};

/** One chunk of a shard's records (ShardTake): the next cursor ('' when done), each record's id, PTTL and hash. */
export const shardChunk: Decoder<{ cursor: string; records: { id: string; pttl: string; flat: Raw[] }[] }> = (reply) => {
  const [cursor, ...rest] = list(only(reply));
  const records: { id: string; pttl: string; flat: Raw[] }[] = [];
  for (let i = 0; i < rest.length; i += 3) records.push({ id: text(rest[i]), pttl: text(rest[i + 1]), flat: list(rest[i + 2]) as Raw[] });
  return { cursor: text(cursor), records };
};
