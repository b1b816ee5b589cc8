/**
 * Throughput under concurrency for bench/cluster.ts: 64 callers at once (each awaits its call, then
 * makes the next), rapyer beside node-redis written by hand on the same layout (the record hash,
 * the id set and the three indexes, under hash tags on the cluster), on one node and on the
 * cluster. Workloads: creates; increments of a numeric indexed field; a mix of reads and
 * increments (3 reads : 1 increment).
 *
 * The hand-written side does what rapyer's scripts do, minus what a script adds (validation,
 * existence checks, the layout check): create = MULTI of HSET + ZADD id set + ZADD per index;
 * increment = MULTI of HINCRBYFLOAT + ZINCRBY on the index + HINCRBY of the version; read = HGETALL.
 */
import { createClient, createCluster } from 'redis';
import { shardOf } from '../src/model/keys.js';
import { HAND_COMMAND_OPTIONS } from './peers/types.js';

/** One side of the bench: create returns a handle (a record, an id) that incr and get take. */
export interface Side<H = unknown> {
  create(data: Item): Promise<H>;
  incr(handle: H): Promise<unknown>;
  get(handle: H): Promise<unknown>;
}

export interface Item { name: string; age: number; score: number; city: string; active: boolean }

const CALLERS = 64;
const SHARDS = 16;

/** Runs `n` calls of `fn` with CALLERS callers; calls per second. */
async function rate(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (next < n) await fn(next++);
  }));
  return n / ((performance.now() - t0) / 1000);
}

type Multi = { hSet(k: string, v: Record<string, string>): Multi; zAdd(k: string, m: { score: number; value: string }): Multi;
  hIncrByFloat(k: string, f: string, n: number): Multi; zIncrBy(k: string, n: number, m: string): Multi; hIncrBy(k: string, f: string, n: number): Multi;
  exec(): Promise<unknown> };
interface HandClient { multi(): Multi; hGetAll(key: string): Promise<Record<string, string>>; close(): Promise<void> }

/** node-redis by hand: the same keys rapyer uses, under the model name `BenchHand`. */
function handSide(client: HandClient, cluster: boolean): Side<string> {
  const tag = (id: string) => (cluster ? `{BenchHand:${shardOf(id, SHARDS)}}` : 'BenchHand');
  let seq = 0;
  return {
    async create(d: Item): Promise<string> {
      const id = `h${process.pid}-${seq++}`;
      const t = tag(id);
      await client.multi()
        .hSet(`${t}:${id}`, { '#v': '1', name: d.name, age: String(d.age), score: String(d.score), city: d.city, active: String(d.active) })
        .zAdd(`${t}#ids`, { score: 0, value: id })
        .zAdd(`${t}#idx:age`, { score: d.age, value: id })
        .zAdd(`${t}#idx:score`, { score: d.score, value: id })
        .zAdd(`${t}#idx:city`, { score: 0, value: `${d.city}\0${id}` })
        .exec();
      return id;
    },
    incr: (id: string) => {
      const t = tag(id);
      return client.multi().hIncrByFloat(`${t}:${id}`, 'score', 1).zIncrBy(`${t}#idx:score`, 1, id).hIncrBy(`${t}:${id}`, '#v', 1).exec();
    },
    get: (id: string) => client.hGetAll(`${tag(id)}:${id}`),
  };
}

/**
 * The table rows: per workload, rapyer and node-redis calls per second on each side, and
 * rapyer / node-redis (the target: at least 1 / 1.2 = 0.83).
 */
export async function concurrencyRows(
  sides: { name: string; rapyer: Side<any>; url?: string; rootNodes?: { url: string }[] }[],
  n: number,
  item: (i: number) => Item,
): Promise<string[]> {
  const results = new Map<string, { rapyer: number; hand: number }[]>();
  for (const side of sides) {
    const raw = side.url
      ? createClient({ url: side.url, ...HAND_COMMAND_OPTIONS })
      : createCluster({ rootNodes: side.rootNodes! });
    await raw.connect();
    const hand = handSide(raw as unknown as HandClient, !side.url);
    const peers: Record<'rapyer' | 'hand', Side<any>> = { rapyer: side.rapyer, hand };
    const made: Record<'rapyer' | 'hand', unknown[]> = { rapyer: [], hand: [] };
    const pick = (p: 'rapyer' | 'hand', i: number) => made[p][(i * 7919) % made[p].length];
    const workloads: [string, (p: 'rapyer' | 'hand') => Promise<number>][] = [
      ['create', (p) => rate(n, async (i) => made[p].push(await peers[p].create(item(i))))],
      ['increment', (p) => rate(n, (i) => peers[p].incr(pick(p, i)))],
      ['mixed: 3 reads : 1 increment', (p) => rate(n, (i) => (i % 4 === 3 ? peers[p].incr(pick(p, i)) : peers[p].get(pick(p, i))))],
    ];
    for (const [label, run] of workloads) {
      if (label !== 'create') {
        // untimed: both sides' code paths compiled by the JIT, every record's handles made once
        await rate(made.rapyer.length, (i) => peers.rapyer.incr(made.rapyer[i]));
        await rate(made.hand.length, (i) => peers.hand.incr(made.hand[i]));
      }
      // alternate which goes first, so neither always meets a warmer server
      const r1 = await run('rapyer');
      const h = await run('hand');
      const r2 = await run('rapyer');
      const row = results.get(label) ?? [];
      row.push({ rapyer: (r1 + r2) / 2, hand: h });
      results.set(label, row);
    }
    await raw.close();
  }
  const lines = [
    `| ${CALLERS} concurrent callers (calls/s) | ${sides.map((s) => `${s.name}: rapyer | ${s.name}: node-redis | rapyer / node-redis`).join(' | ')} |`,
    `|---|${sides.map(() => '---:|---:|---:').join('|')}|`,
  ];
  for (const [label, row] of results) {
    lines.push(`| ${label} | ${row.map((r) => `${r.rapyer.toFixed(0)} | ${r.hand.toFixed(0)} | ${(r.rapyer / r.hand).toFixed(2)}`).join(' | ')} |`);
  }
  return lines;
}
