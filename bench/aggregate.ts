/**
 * Aggregates computed by the query's script against the same numbers computed in JavaScript from
 * the records a query ships: `npx tsx bench/aggregate.ts [records=50000] [rounds=5]`
 * (REDIS_URL or an embedded Redis). Both read every record of the model (no condition), so the
 * difference is what shipping and decoding the records costs. Reports the median wall time per call.
 */
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const Row = defineModel('AggBench', {
  name: Type.String(),
  status: Type.Union([Type.Literal('new'), Type.Literal('adult'), Type.Literal('minor')]),
  score: Type.Number(),
  age: Type.Integer(),
  tags: Type.Array(Type.String(), { default: [] }),
});

const total = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const server = await startRedis();
const db = await connect({ url: server.url });
await Row.find().delete();
await Row.insertMany(Array.from({ length: total }, (_, i) => ({
  name: `r${i}`, status: (['new', 'adult', 'minor'] as const)[i % 3], score: (i % 1000) / 4, age: i % 90, tags: ['a', 'b'],
})));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

const specs = { n: 'count', total: ['sum', 'score'], mean: ['avg', 'score'], low: ['min', 'age'] } as const;
const server1 = await time(() => Row.find().groupBy('status').aggregate(specs));
const client = await time(async () => {
  const groups = new Map<string, { n: number; total: number; low: number }>();
  for (const r of await Row.find().toArray()) {
    const g = groups.get(r.status) ?? { n: 0, total: 0, low: Infinity };
    g.n++, g.total += r.score, g.low = Math.min(g.low, r.age);
    groups.set(r.status, g);
  }
  return groups;
});
console.log(`${total} records, median of ${rounds}: groupBy('status').aggregate ${server1.toFixed(1)} ms; find().toArray() + the same in JS ${client.toFixed(1)} ms (${(client / server1).toFixed(1)}x)`);
await db.close();
await server.stop();
