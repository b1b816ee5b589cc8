/**
 * Server time of one array program: `removeWhere` removing 10% of a 100,000-item array (every tenth item), in one
 * script. Server time is the EVALSHA/EVAL `usec` delta of INFO commandstats around the call, so
 * client work and the network are left out; a quadratic loop shows here as seconds of a blocked Redis.
 * `npx tsx bench/array-remove.ts [items=100000] [runs=3]` (REDIS_URL or an embedded Redis).
 * Target: under 200 ms of server time (issue 13).
 */
import { strictEqual } from 'node:assert/strict';
import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const Holder = defineModel('BenchArray', { items: Type.Array(Type.Integer(), { default: [] }) });

const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 3);
const server = await startRedis();
const db = await connect({ url: server.url });
const raw = createClient({ url: server.url });
await raw.connect();

/** Total usec of script commands so far (INFO commandstats). */
async function scriptUsec(): Promise<number> {
  const info = await raw.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval|evalsha_ro|eval_ro):calls=\d+,usec=(\d+)/gm)) total += Number(m[2]);
  return total;
}

try {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const rec = await Holder.create({ items: Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 0 : i)) });
    const before = await scriptUsec();
    await rec.pipeline((p) => p.items.removeWhere((x) => x.eq(Number(process.env.BENCH_REMOVE ?? 0))));
    times.push((await scriptUsec()) - before);
    if (!process.env.BENCH_REMOVE) strictEqual(rec.items.length, n - Math.ceil(n / 10));
    strictEqual(rec.items[0], process.env.BENCH_REMOVE ? 0 : 1);
  }
  times.sort((a, b) => a - b);
  console.log(`| removeWhere, ${n.toLocaleString('en')} items, remove 10% (one script) | ${(times[Math.floor(runs / 2)] / 1000).toFixed(1)} ms server time (median of ${runs}) |`);
} finally {
  await raw.close();
  await db.close();
  await server.stop();
}
