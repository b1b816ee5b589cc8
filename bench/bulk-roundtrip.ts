/**
 * insertMany, getMany and deleteMany over many records, timed, with the round trip checked: every
 * record read back equals what was inserted, and nothing but the model's meta hash and description is left.
 * `npx tsx bench/bulk-roundtrip.ts [records=100000]` (REDIS_URL or an embedded Redis).
 * (The test suite checks the same round trip on a few thousand records, without timings.)
 */
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { createClient } from 'redis';
import { connect } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { bulkRecord, defineBulkModel } from './bulk-model.js';

const Member = defineBulkModel('Member');
const plain = (r: object): unknown => JSON.parse(JSON.stringify(r));

const many = Number(process.argv[2] ?? 100_000);
const server = await startRedis();
const db = await connect({ url: server.url });
const raw = createClient({ url: server.url });
await raw.connect();
await raw.flushAll();
try {
  const data = Array.from({ length: many }, (_, i) => bulkRecord(i));
  const started = performance.now();
  const recs = await Member.insertMany(data);
  const inserted = performance.now();
  const ids = recs.map((r) => r.id);
  const back = await Member.getMany(ids);
  const read = performance.now();
  deepStrictEqual(back.map(plain), data.map(plain));
  strictEqual(await Member.deleteMany(ids), many);
  const deleted = performance.now();
  // only the model's bookkeeping hash and its description for tools are left
  deepStrictEqual((await raw.keys('*')).sort(), ['Member#meta', 'Member#schema']);
  const ms = (a: number, b: number): string => `${Math.round(b - a)} ms`;
  console.log(`${many} records: insertMany ${ms(started, inserted)}, getMany ${ms(inserted, read)}, deleteMany ${ms(read, deleted)}`);
} finally {
  await raw.close();
  await db.close();
  await server.stop();
}
