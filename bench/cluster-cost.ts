/**
 * `npx tsx bench/cluster-cost.ts [--records=N] [--runs=N]`: what each query of bench/cluster.ts
 * costs, measured in work rather than in time, so that a loaded machine (other processes on the
 * same cores) skews it less than latencies: scripts per call and Redis time per call (from
 * INFO commandstats, EVALSHA and EVALSHA_RO: summed over the masters, and on the busiest one), and
 * the client's CPU time per call, on one node and on the 3-master cluster (`shards: 16`).
 * Redis time still counts the time a server waited for a core, so compare it within one run.
 */
import { Type } from 'typebox';
import { createClient, type RedisClientType } from 'redis';
import { connect, defineModel, and } from '../src/index.js';
import { startCluster } from '../test/helpers/cluster.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const RECORDS = option('records', 50_000);
const RUNS = option('runs', 100);
// the records and model of bench/cluster.ts
const CITIES = ['Paris', 'Lyon', 'Nice', 'Lille', 'Pau', 'Metz', 'Caen', 'Brest'];
const shape = { name: Type.String(), age: Type.Integer(), score: Type.Number(), city: Type.String(), active: Type.Boolean() };
const item = (i: number) => ({ name: `user${i}`, age: i % 90, score: (i * 7919) % 10_000 / 10, city: CITIES[i % CITIES.length], active: i % 3 !== 0 });
const Bench = defineModel('BenchShard', shape, { indexes: ['age', 'score', 'city'], shards: 16 });
type M = typeof Bench;
const [single, cluster] = await Promise.all([startRedis(), startCluster()]);
const one = await connect({ url: single.url });
const many = await connect({ cluster: { rootNodes: cluster.rootNodes } });

/** A plain client per server, for INFO commandstats. */
async function clientsOf(urls: string[]): Promise<RedisClientType[]> {
  return Promise.all(urls.map(async (url) => {
    const c = createClient({ url }) as RedisClientType;
    await c.connect();
    return c;
  }));
}
const singleNodes = await clientsOf([single.url]);
const clusterNodes = await clientsOf(cluster.rootNodes.map((n) => n.url));
const sides: [string, M, RedisClientType[]][] = [['single node', Bench.withDb(one), singleNodes], ['cluster, shards: 16', Bench.withDb(many), clusterNodes]];
for (const [, m] of sides) {
  for (let i = 0; i < RECORDS; i += 5000) await m.insertMany(Array.from({ length: Math.min(5000, RECORDS - i) }, (_, j) => item(i + j)));
}

/** Per server: EVALSHA and EVALSHA_RO calls and microseconds so far. */
const stats = (nodes: RedisClientType[]) => Promise.all(nodes.map(async (c) => {
  const info = await c.info('commandstats');
  let usec = 0;
  let calls = 0;
  for (const m of info.matchAll(/cmdstat_(evalsha|evalsha_ro):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[2]);
    usec += Number(m[3]);
  }
  return { usec, calls };
}));

const queries: [string, (m: M) => Promise<unknown>][] = [
  ['count age in [30, 40]', (m) => m.find((u) => u.age.between(30, 40)).count()],
  ['sorted page: age >= 50 by score desc, limit 50', (m) => m.find((u) => u.age.gte(50)).sort('score', 'desc').limit(50).toArray()],
  ['sorted page: every record by score desc, offset 100 limit 50', (m) => m.find().sort('score', 'desc').offset(100).limit(50).toArray()],
  ['city = Paris and age = 33', (m) => m.find((u) => and(u.city.eq('Paris'), u.age.eq(33))).toArray()],
  ['findOne (age = 7)', (m) => m.findOne((u) => u.age.eq(7))],
];
console.log(`${RECORDS} records, ${RUNS} runs per query and side; Node ${process.version}\n`);
console.log('| query | side | scripts / call | Redis µs / call (all) | Redis µs / call (busiest server) | client CPU µs / call | wall ms / call |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [label, run] of queries) {
  for (const [name, m, nodes] of sides) {
    for (let i = 0; i < 10; i++) await run(m); // warm: scripts loaded, indexes checked
    const before = await stats(nodes);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < RUNS; i++) await run(m);
    const wall = (performance.now() - t0) / RUNS;
    const cpu = process.cpuUsage(cpu0);
    const per = (await stats(nodes)).map((s, i) => ({ usec: (s.usec - before[i].usec) / RUNS, calls: (s.calls - before[i].calls) / RUNS }));
    const all = per.reduce((n, p) => n + p.usec, 0);
    const busiest = Math.max(...per.map((p) => p.usec));
    const scripts = per.reduce((n, p) => n + p.calls, 0);
    console.log(`| ${label} | ${name} | ${scripts.toFixed(1)} | ${all.toFixed(0)} | ${busiest.toFixed(0)} | ${((cpu.user + cpu.system) / RUNS).toFixed(0)} | ${wall.toFixed(2)} |`);
  }
}
for (const c of [...singleNodes, ...clusterNodes]) await c.close();
await one.close();
await many.close();
await Promise.all([single.stop(), cluster.stop()]);
