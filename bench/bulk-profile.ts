/**
 * Where a bulk job's time goes, rapyer beside the hand-written Lua peer (bench/peers/lua.ts) on one
 * Redis: insertMany of N records (3 indexed fields, the bench's record), then updateMany and
 * deleteMany by query (age < 45: half of them). Per job and peer: wall time, client CPU per record
 * (process.cpuUsage: this process only, the peers run one after another) and server time
 * (INFO commandstats: µs per script, scripts per job, µs per record).
 *
 * `npx tsc -p tsconfig.bench.json && node dist-bench/bench/bulk-profile.js [records=100000] [peers=rapyer,lua] [rounds=2]`
 * For a CPU profile of rapyer alone: `node --cpu-prof --cpu-prof-dir=/tmp/prof dist-bench/bench/bulk-profile.js 100000 rapyer 1`.
 */
import { createClient } from 'redis';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { luaPeer } from './peers/lua.js';
import { rapyerPeer } from './peers/rapyer.js';
import { bulkItem, type Peer } from './peers/types.js';

const total = Number(process.argv[2] ?? 100_000);
const wanted = (process.argv[3] ?? 'rapyer,lua').split(',');
const rounds = Number(process.argv[4] ?? 2);
const AGE_BELOW = 45;

const server = await startRedis();
const plain = createClient({ url: server.url });
await plain.connect();

/** Script calls and their server µs since the last CONFIG RESETSTAT. */
async function scripts(): Promise<{ calls: number; usec: number }> {
  const info = String(await plain.sendCommand(['INFO', 'commandstats']));
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|evalsha_ro|eval|eval_ro):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(m[2]);
    usec += Number(m[3]);
  }
  return { calls, usec };
}

async function measure(label: string, peer: string, records: number, fn: () => Promise<unknown>): Promise<void> {
  await plain.sendCommand(['CONFIG', 'RESETSTAT']);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const s = await scripts();
  const fmt = (n: number, w = 8): string => n.toFixed(1).padStart(w);
  console.log(`${label.padEnd(10)} ${peer.padEnd(12)} wall ${fmt(ms, 9)} ms  ${String(Math.round(records / (ms / 1000))).padStart(7)} rec/s  ` +
    `client cpu ${fmt((used.user + used.system) / records, 6)} µs/rec  server ${fmt(s.usec / Math.max(1, s.calls), 9)} µs/script ` +
    `× ${String(s.calls).padStart(4)}  = ${fmt(s.usec / records, 6)} µs/rec`);
}

const makers: Record<string, (url: string) => Promise<Peer>> = { rapyer: rapyerPeer, lua: luaPeer };
const peers = await Promise.all(wanted.map(async (name) => [name, await makers[name](server.url)] as const));
const items = Array.from({ length: total }, (_, i) => bulkItem(i));
const half = items.filter((d) => d.age < AGE_BELOW).length;
try {
  for (let round = 1; round <= rounds; round++) {
    for (const [name, peer] of peers) {
      await plain.flushAll();
      await measure('insertMany', name, total, () => peer.insertMany!(items));
      await measure('updateMany', name, half, () => peer.updateMany!(AGE_BELOW, []));
      await measure('deleteMany', name, half, () => peer.deleteMany!(AGE_BELOW, []));
      if ((await peer.count()) !== total - half) throw new Error(`${name}: ${await peer.count()} records left, expected ${total - half}`);
    }
  }
} finally {
  for (const [, peer] of peers) await peer.close();
  await plain.quit();
  await server.stop();
}
