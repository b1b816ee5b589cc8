/**
 * `npx tsx bench/cluster.ts [--records=N] [--queries=N] [--calls=N]`: one sharded model (`shards: 16`)
 * on a local 3-master cluster (test/helpers/cluster.ts) side by side with the same model on a
 * single node, in one run: create throughput while seeding (chunks alternate between the two, 64
 * creates in flight), insertMany when the model has it, query latency (p50/p99, each query
 * alternating between the two), then throughput with 64 concurrent callers beside node-redis by
 * hand (bench/concurrency.ts). Both run on this one machine: the cluster's three redis-server processes get
 * three cores, the single node one; the client is one Node process either way.
 */
import { Type } from 'typebox';
import { connect, defineModel, and, type Connection } from '../src/index.js';
import { startCluster } from '../test/helpers/cluster.js';
import { concurrencyRows, type Side } from './concurrency.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const RECORDS = option('records', 50_000);
const QUERIES = option('queries', 300);
const CALLS = option('calls', 20_000);
const CHUNK = 5_000;
const IN_FLIGHT = 64;

const shape = {
  name: Type.String(),
  age: Type.Integer(),
  score: Type.Number(),
  city: Type.String(),
  active: Type.Boolean(),
};
const CITIES = ['Paris', 'Lyon', 'Nice', 'Lille', 'Pau', 'Metz', 'Caen', 'Brest'];
const item = (i: number) => ({
  name: `user${i}`, age: i % 90, score: (i * 7919) % 10_000 / 10, city: CITIES[i % CITIES.length], active: i % 3 !== 0,
});
const Bench = defineModel('BenchShard', shape, { indexes: ['age', 'score', 'city'], shards: 16 });
const Unique = defineModel('BenchUnique', { email: Type.String(), n: Type.Integer() }, { unique: ['email'], shards: 16 });
type M = typeof Bench;
type R = Awaited<ReturnType<M['create']>>;

async function pool(n: number, from: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  const end = from + n;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < end) await fn(next++);
  }));
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number): string => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`);

async function main(): Promise<void> {
  console.log(`starting a single node and a 3-master cluster (${RECORDS} records, ${QUERIES} runs per query)...`);
  const [single, cluster] = await Promise.all([startRedis(), startCluster()]);
  const dbs: Connection[] = [];
  try {
    const one = await connect({ url: single.url });
    const many = await connect({ cluster: { rootNodes: cluster.rootNodes } });
    dbs.push(one, many);
    const sides: [string, M][] = [['single node', Bench.withDb(one)], ['cluster, shards: 16', Bench.withDb(many)]];
    const lines: string[] = [];

    // create throughput, chunks alternating between the two
    const createMs = new Map<string, number>(sides.map(([n]) => [n, 0]));
    for (let from = 0; from < RECORDS; from += CHUNK) {
      for (const [name, model] of sides) {
        const t0 = performance.now();
        await pool(Math.min(CHUNK, RECORDS - from), from, (i) => model.create(item(i)));
        createMs.set(name, createMs.get(name)! + performance.now() - t0);
      }
      process.stdout.write(`\r  seeded ${Math.min(RECORDS, from + CHUNK)} / ${RECORDS}`);
    }
    process.stdout.write('\n');
    lines.push('| measure | single node | cluster, shards: 16 | cluster / single |', '|---|---:|---:|---:|');
    const rate = (name: string) => RECORDS / (createMs.get(name)! / 1000);
    const [r1, r2] = sides.map(([n]) => rate(n));
    lines.push(`| create, ${IN_FLIGHT} in flight (records/s) | ${r1.toFixed(0)} | ${r2.toFixed(0)} | ${(r2 / r1).toFixed(2)}x |`);

    // unique values: on one node the record's script checks them; on the cluster (16 shards) each
    // create claims its value in the value's owner bucket and confirms it (src/model/unique.ts), and
    // a set of the field claims the new value and releases the old one
    const uniques = sides.map(([name, model]) => [name, Unique.withDb(model.db)] as const);
    const uniqueN = Math.min(RECORDS, 5_000);
    const made = new Map<string, Awaited<ReturnType<typeof Unique.create>>[]>();
    const uniqueRow = async (label: string, run: (name: string, model: typeof Unique, i: number) => Promise<unknown>) => {
      const rates: number[] = [];
      for (const [name, model] of uniques) {
        const t0 = performance.now();
        await pool(uniqueN, 0, (i) => run(name, model, i));
        rates.push(uniqueN / ((performance.now() - t0) / 1000));
      }
      lines.push(`| ${label} (records/s) | ${rates[0].toFixed(0)} | ${rates[1].toFixed(0)} | ${(rates[1] / rates[0]).toFixed(2)}x |`);
    };
    await uniqueRow(`create with a unique email, ${IN_FLIGHT} in flight`, async (name, model, i) => {
      const rec = await model.create({ email: `u${i}@x`, n: i });
      if (!made.has(name)) made.set(name, []);
      made.get(name)!.push(rec);
    });
    await uniqueRow(`u.$.email.set(new value), ${IN_FLIGHT} in flight`, (name, _model, i) => made.get(name)![i].$.email.set(`v${i}@x`));

    const bulk = (Bench as unknown as { insertMany?: (items: unknown[]) => Promise<unknown> }).insertMany;
    if (typeof bulk === 'function') {
      const n = Math.min(RECORDS, 20_000);
      const times: number[] = [];
      for (const [, model] of sides) {
        const t0 = performance.now();
        await (model as unknown as { insertMany(items: unknown[]): Promise<unknown> }).insertMany(Array.from({ length: n }, (_, i) => item(RECORDS + i)));
        times.push(performance.now() - t0);
      }
      const [b1, b2] = times.map((t) => n / (t / 1000));
      lines.push(`| insertMany ${n} (records/s) | ${b1.toFixed(0)} | ${b2.toFixed(0)} | ${(b2 / b1).toFixed(2)}x |`);
    } else {
      lines.push('| insertMany | not on main yet | | |');
    }

    const queries: [string, (m: M) => Promise<unknown>][] = [
      ['count age in [30, 40] (index range)', (m) => m.find((u) => u.age.between(30, 40)).count()],
      ['sorted page: age >= 50 by score desc, limit 50', (m) => m.find((u) => u.age.gte(50)).sort('score', 'desc').limit(50).toArray()],
      ['city = Paris and age = 33 (small result)', (m) => m.find((u) => and(u.city.eq('Paris'), u.age.eq(33))).toArray()],
      ['findOne by index (age = 7)', (m) => m.findOne((u) => u.age.eq(7))],
      ['unsorted page: active, offset 100 limit 20 (scan)', (m) => m.find((u) => u.active.eq(true)).offset(100).limit(20).ids()],
    ];
    for (const [label, run] of queries) {
      const samples = new Map<string, number[]>(sides.map(([n]) => [n, []]));
      for (const [, model] of sides) await run(model); // warm: scripts loaded, indexes checked
      for (let i = 0; i < QUERIES; i++) {
        for (const [name, model] of i % 2 === 0 ? sides : [...sides].reverse()) {
          const t0 = performance.now();
          await run(model);
          samples.get(name)!.push(performance.now() - t0);
        }
      }
      const [a, b] = sides.map(([n]) => samples.get(n)!);
      lines.push(`| ${label}: p50 / p99 | ${ms(pct(a, 50))} / ${ms(pct(a, 99))} | ${ms(pct(b, 50))} / ${ms(pct(b, 99))} | ${(pct(b, 50) / pct(a, 50)).toFixed(2)}x |`);
    }
    const rapyer = (m: M): Side<R> => ({
      create: (d) => m.create(d),
      incr: (rec) => rec.$.score.incr(1),
      get: (rec) => m.get(rec.id),
    });
    const throughput = await concurrencyRows([
      { name: 'single node', rapyer: rapyer(sides[0][1]), url: single.url },
      { name: 'cluster', rapyer: rapyer(sides[1][1]), rootNodes: cluster.rootNodes },
    ], CALLS, item);
    console.log(`\n${RECORDS} records; Node ${process.version}; same machine for both\n`);
    console.log(lines.join('\n'));
    console.log(`\n${CALLS} calls per workload and run\n`);
    console.log(throughput.join('\n'));
  } finally {
    for (const d of dbs) await d.close();
    await Promise.all([single.stop(), cluster.stop()]);
  }
}

await main();
