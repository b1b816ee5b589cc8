/**
 * insertMany, getMany and deleteMany over many records, timed, with the round trip checked: every
 * record read back equals what was inserted, and nothing but the model's meta hash is left.
 * `npx tsx bench/bulk-roundtrip.ts [records=100000]` (REDIS_URL or an embedded Redis).
 * (The test suite checks the same round trip on a few thousand records, without timings.)
 */
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const Member = defineModel('Member', {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')], { default: 'new' }),
  counter: Type.Integer({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
}, { indexes: ['age', 'score', 'status'], unique: ['name'] });

const member = (i: number) => ({
  name: `user${i}`, age: i % 90, score: (i % 1000) / 10, status: (['new', 'adult', 'minor'] as const)[i % 3],
  counter: 0, tags: [`t${i % 7}`, 'all'], notes: { k: `v${i}`, 'a.b': 'x' },
});
const plain = (r: object): unknown => JSON.parse(JSON.stringify(r));

const many = Number(process.argv[2] ?? 100_000);
const server = await startRedis();
const db = await connect({ url: server.url });
const raw = createClient({ url: server.url });
await raw.connect();
await raw.flushAll();
try {
  const data = Array.from({ length: many }, (_, i) => member(i));
  const started = performance.now();
  const recs = await Member.insertMany(data);
  const inserted = performance.now();
  const ids = recs.map((r) => r.id);
  const back = await Member.getMany(ids);
  const read = performance.now();
  deepStrictEqual(back.map(plain), data.map(plain));
  strictEqual(await Member.deleteMany(ids), many);
  const deleted = performance.now();
  strictEqual(await raw.dbSize(), 1); // only the model's bookkeeping hash (Member#meta) is left
  const ms = (a: number, b: number): string => `${Math.round(b - a)} ms`;
  console.log(`${many} records: insertMany ${ms(started, inserted)}, getMany ${ms(inserted, read)}, deleteMany ${ms(read, deleted)}`);
} finally {
  await raw.close();
  await db.close();
  await server.stop();
}
