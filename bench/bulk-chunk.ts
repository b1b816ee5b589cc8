/**
 * How long one bulk chunk script blocks Redis, by chunk size, and insertMany's throughput.
 * `npx tsx bench/bulk-chunk.ts [records=100000] [sizes=100,250,500,1000,2000]` (REDIS_URL or an embedded Redis).
 * Server time per script: the average is Redis's own `usec_per_call` for EVALSHA / EVALSHA_RO
 * (INFO commandstats), the maximum comes from the SLOWLOG (scripts over 0.5 ms; commands a script
 * calls are logged too, but they are far faster and filtered out): the time a script held the
 * server, without the network or the client. On a busy machine both include time the OS took
 * redis-server off the CPU mid-script.
 * The model and records: bench/bulk-model.ts.
 */
import { createClient } from 'redis';
import { connect } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { bulkRecord, defineBulkModel } from './bulk-model.js';

const Bench = defineBulkModel('BulkBench');

const total = Number(process.argv[2] ?? 100_000);
const sizes = (process.argv[3] ?? '100,250,500,1000,2000').split(',').map(Number);

const server = await startRedis();
const db = await connect({ url: server.url });
const raw = createClient({ url: server.url });
await raw.connect();

await raw.configSet({ 'slowlog-log-slower-than': '500', 'slowlog-max-len': '10000' });

/** Average server ms per script (commandstats, NOSCRIPT replies left out) and the slowest (slowlog). */
async function scriptTimes(): Promise<{ calls: number; avg: number; max: number }> {
  const info = await raw.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/cmdstat_evalsha(?:_ro)?:calls=(\d+),usec=(\d+).*?failed_calls=(\d+)/g)) {
    calls += Number(m[1]) - Number(m[3]);
    usec += Number(m[2]);
  }
  const log = (await raw.sendCommand(['SLOWLOG', 'GET', '-1'])) as [number, number, number, string[]][];
  const max = Math.max(0, ...log.filter((e) => /^EVALSHA/i.test(e[3][0])).map((e) => e[2]));
  return { calls, avg: usec / calls / 1000, max: max / 1000 };
}

async function measure(label: string, size: number, fn: () => Promise<unknown>): Promise<void> {
  await raw.configResetStat();
  await raw.sendCommand(['SLOWLOG', 'RESET']);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const t = await scriptTimes();
  console.log(`${label.padEnd(10)} chunk ${String(size).padStart(5)}: avg ${t.avg.toFixed(2).padStart(6)} ms, max ${t.max.toFixed(2).padStart(6)} ms per script `
    + `(${t.calls} scripts); ${Math.round(total / (ms / 1000))} records/s overall (${(ms / 1000).toFixed(2)} s)`);
}

const data = Array.from({ length: total }, (_, i) => bulkRecord(i));
try {
  for (const size of sizes) {
    await raw.flushAll();
    let ids: string[] = [];
    await measure('insertMany', size, async () => { ids = (await Bench.insertMany(data, { chunkSize: size })).map((r) => r.id); });
    await measure('getMany', size, () => Bench.getMany(ids, { chunkSize: size }));
    await measure('updateMany', size, () => Bench.updateMany(ids, (p) => { p.age.gt(40).ifTrue(() => p.counter.incr(1)); p.tags.append('x'); }, { chunkSize: size }));
    await measure('deleteMany', size, () => Bench.deleteMany(ids, { chunkSize: size }));
  }
} finally {
  await raw.quit();
  await db.close();
  await server.stop();
}
