import { createClient } from 'redis';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { connect, defineModel } from '../src/index.js';
import { shape } from './peers/rapyer.js';
import { INDEXED, bulkItem } from './peers/types.js';
const server = await startRedis();
const plain = createClient({ url: server.url }); await plain.connect();
const db = await connect({ url: server.url });
const User = defineModel('BenchUser', shape, { indexes: INDEXED }).withDb(db);
const N = Number(process.argv[2] ?? 40000);
async function stat() { const info = String(await plain.sendCommand(['INFO', 'commandstats'])); let c = 0, u = 0; for (const m of info.matchAll(/^cmdstat_(evalsha|evalsha_ro):calls=(\d+),usec=(\d+)/gm)) { c += +m[2]; u += +m[3]; } return { c, u }; }
for (const size of (process.argv[3] ?? '200,1000').split(',').map(Number)) for (let r = 0; r < 2; r++) {
  await plain.flushAll();
  await (User as any).insertMany(Array.from({ length: N }, (_, i) => bulkItem(i)));
  await plain.sendCommand(['CONFIG', 'RESETSTAT']);
  const n = await (User as any).updateMany((u: any) => u.age.lt(45), (p: any) => p.score.incr(1), { chunkSize: size });
  const a = await stat();
  await plain.sendCommand(['CONFIG', 'RESETSTAT']);
  const d = await (User as any).deleteMany((u: any) => u.age.lt(45), { chunkSize: size });
  const b = await stat();
  console.log(`chunk ${size}: update ${n} ${(a.u / n).toFixed(1)} µs/rec (${a.c} scripts)  delete ${d} ${(b.u / d).toFixed(1)} µs/rec (${b.c})`);
}
await db.close(); await plain.quit(); await server.stop();
