/**
 * What every peer of the benchmark implements, and the data they all store.
 *
 * A peer is one way of doing the benchmark's jobs against the same Redis: rapyer itself, node-redis
 * written by hand, one hand-written Lua script per job, redis-om and nohm. Each lives in its own
 * key namespace (`keyPatterns`), so the runner can measure its Redis memory and clean up after it.
 * A method a peer lacks is a scenario it cannot do; `notes` says why, or what it does differently.
 */
import { newId } from '../../src/model/ids.js';

/** One user record: 8 scalars (3 of them indexed: age, score, status), a string array, a dict. */
export interface BenchUserData {
  name: string;
  age: number;
  score: number;
  status: 'new' | 'adult' | 'minor';
  level: string;
  balance: number;
  active: boolean;
  lastSeen: Date;
  tags: string[];
  notifications: Record<string, string>;
}

/** The indexed fields, for every peer that can index: numbers by score, strings lexicographically. */
export const INDEXED = ['age', 'score', 'status'] as const;
/** `name` has a limit, so the pipeline's append is a checked write where the peer can check. */
export const NAME_MAX = 5_000;
/**
 * The client options of the hand-written peers: no per-command queue timeout, as rapyer's own
 * client (node-redis's default arms an AbortSignal.timeout per command, a cost that is not the
 * work being compared).
 */
export const HAND_COMMAND_OPTIONS = { commandOptions: { timeout: 0 } } as const;

export type ScenarioId = 'create' | 'get' | 'incr' | 'pipeline5' | 'loop' | 'insertMany' | 'getMany' | 'query' | 'updateMany' | 'deleteMany' | 'bigLoop';

/**
 * The query scenario: `age` in [ageMin, ageMax] and `status` = status, sorted by `score` descending
 * (ties: id descending), the first `limit` records.
 */
export interface QuerySpec { ageMin: number; ageMax: number; status: BenchUserData['status']; limit: number }

/** A second way a peer can run a scenario (its own row), e.g. nohm's documented find + sort. */
export interface ExtraVariant<A extends unknown[], R> { variant: string; note: string; run(...args: A): Promise<R> }

export interface LoopItem { sku: string; qty: number; expired: boolean }

/** The loop scenarios: remove the expired items of a stored array (1,000 items; 100,000 for scenario 11), in one program. */
export interface LoopJob {
  /** Untimed: (re)writes the array as `items`. */
  refill(): Promise<void>;
  /** Timed: removes every expired item. */
  run(): Promise<unknown>;
  /** The items the peer now stores, to check the job before timing. */
  read(): Promise<LoopItem[]>;
}

export interface Peer {
  readonly name: string;
  /** Per scenario: what this peer does differently, or why it cannot do it. */
  readonly notes: Partial<Record<ScenarioId, string>>;
  /** The keys of this peer's user records and their indexes (SCAN patterns): its Redis memory. */
  readonly keyPatterns: string[];
  /** Other keys it writes (the loop scenario's cart), removed at the end. */
  readonly otherPatterns?: string[];
  /** Writes a new record (with its index entries where the peer indexes); returns its id. */
  createOne(data: BenchUserData): Promise<string>;
  /** Reads a record back as typed data. */
  getOne(id: string): Promise<BenchUserData>;
  /** score += 1; returns the new score. */
  incrementOne?(id: string): Promise<number>;
  /** score += 10, name += 'x', tags.push('new'), age += 1, active = !active. */
  pipeline5?(id: string): Promise<unknown>;
  /** Another way of running the pipeline (a row of its own; `reset` puts its target back too). */
  extraPipeline5?: ExtraVariant<[string], unknown>;
  /** Puts the pipeline's target back to `data` (untimed, between rounds). */
  reset?(id: string, data: BenchUserData): Promise<void>;
  /** The loop scenario over `items`, where the peer can express it. */
  loop?(items: LoopItem[]): Promise<LoopJob>;
  /** Writes all `items` as new records (indexes included); resolves to how many were written. */
  insertMany?(items: BenchUserData[], onProgress?: (done: number) => void): Promise<number>;
  /**
   * Writes the data set of scenarios 7-10 (untimed): all `items` as new records, indexes included;
   * resolves to their ids in item order.
   */
  seed?(items: BenchUserData[], onProgress?: (done: number) => void): Promise<string[]>;
  /** Reads these records, in order. */
  getMany?(ids: string[]): Promise<BenchUserData[]>;
  /** The query scenario; resolves to the page of records, in order. */
  query?(q: QuerySpec): Promise<BenchUserData[]>;
  /** Another way of running the query (a row of its own). */
  extraQuery?: ExtraVariant<[QuerySpec], BenchUserData[]>;
  /**
   * score += 1 on every record with age < ageBelow; resolves to how many changed. `ids` are those
   * records' ids, for a peer that cannot query (it says so in its note); peers that can query ignore them.
   */
  updateMany?(ageBelow: number, ids: string[]): Promise<number>;
  /** Deletes every record with age < ageBelow (indexes included); resolves to how many. `ids`: as for updateMany. */
  deleteMany?(ageBelow: number, ids: string[]): Promise<number>;
  /** How many records the peer stores now. */
  count(): Promise<number>;
  close(): Promise<void>;
}

export const sample: BenchUserData = {
  name: 'Ada', age: 36, score: 95.5, status: 'adult', level: 'gold', balance: 120, active: true,
  lastSeen: new Date('2026-01-02T03:04:05.678Z'),
  tags: ['early', 'beta', 'vip'],
  notifications: { welcome: 'hello', promo: '10% off' },
};

const STATUSES = ['new', 'adult', 'minor'] as const;

/** The i-th record of a bulk insert: distinct values on the 3 indexed fields, a 3-item array, a 2-entry dict. */
export function bulkItem(i: number): BenchUserData {
  return {
    name: `user-${i}`, age: i % 90, score: (i * 37) % 10_000 + 0.5, status: STATUSES[i % 3],
    level: i % 10 === 0 ? 'gold' : 'basic', balance: i % 1000, active: i % 2 === 0,
    lastSeen: new Date(1_767_225_600_000 + i * 1000),
    tags: ['t' + (i % 7), 't' + (i % 11), 't' + (i % 13)],
    notifications: { welcome: 'hello', seq: String(i) },
  };
}

/** Sorts records like the query: score descending, then id descending (the ids are given alongside). */
export function byScoreDesc<T extends { score: number }>(rows: [string, T][]): [string, T][] {
  return rows.sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
}

/** rapyer's ids (ULID layout), for the hand-written peers, so ids cost the same bytes everywhere. */
export { newId };

/** The hash rapyer writes for a user (src/model/layout.ts), by hand: `#v` version, arrays and dicts flattened. */
export function layoutFields(d: BenchUserData): Record<string, string> {
  const h: Record<string, string> = {
    '#v': '1', name: d.name, age: String(d.age), score: String(d.score), status: d.status, level: d.level,
    balance: String(d.balance), active: d.active ? 'true' : 'false', lastSeen: String(d.lastSeen.getTime()),
    tags: String(d.tags.length), notifications: String(Object.keys(d.notifications).length),
  };
  d.tags.forEach((tag, i) => (h[`tags[${i}]`] = tag));
  for (const [k, v] of Object.entries(d.notifications)) h[`notifications.${k}`] = v;
  return h;
}

/** The reverse of layoutFields: what a careful hand-written client decodes an HGETALL into. */
export function fromLayout(h: Record<string, string>): BenchUserData {
  const head = Number(h['tags@'] ?? 0);
  const tags = Array.from({ length: Number(h.tags ?? 0) }, (_, i) => h[`tags[${head + i}]`]);
  const notifications: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('notifications.')) notifications[k.slice(14)] = v;
  return {
    name: h.name, age: Number(h.age), score: Number(h.score), status: h.status as BenchUserData['status'],
    level: h.level, balance: Number(h.balance), active: h.active === 'true', lastSeen: new Date(Number(h.lastSeen)),
    tags, notifications,
  };
}

/** The index entries rapyer's layout keeps for a record (lua/lib/index.lua): [key, score, member]. */
export function indexEntries(prefix: string, id: string, d: BenchUserData): [string, number, string][] {
  return [
    [`${prefix}#ids`, 0, id],
    [`${prefix}#idx:age`, d.age, id],
    [`${prefix}#idx:score`, d.score, id],
    [`${prefix}#idx:status`, 0, `${d.status}\0${id}`],
  ];
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function withConcurrency<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
