/**
 * 1,000,000-item arrays and dicts, end to end (too slow for the test suite on a loaded machine,
 * where the tests check the typed-error path of a million items instead): create, read back,
 * a field operation, a server-side loop, for an array and a dict. Prints the wall time of each
 * step and checks every result.
 * `npx tsx bench/million.ts [items=1000000]` (REDIS_URL or an embedded Redis).
 */
import { strictEqual } from 'node:assert/strict';
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';

const n = Number(process.argv[2] ?? 1_000_000);
const server = await startRedis();
const db = await connect({ url: server.url });
const Big = defineModel('BenchMillion', {
  list: Type.Array(Type.Integer(), { default: [] }),
  dict: Type.Record(Type.String(), Type.Integer(), { default: {} }),
});

let started = Date.now();
const step = (what: string): void => {
  console.log(`| ${what} | ${((Date.now() - started) / 1000).toFixed(1)} s |`);
  started = Date.now();
};
try {
  console.log(`| ${n.toLocaleString('en-US')} items | wall time |\n|---|---|`);
  const a = await Big.create({ list: Array.from({ length: n }, (_, i) => i) });
  step('create with an array');
  strictEqual((await Big.get(a.id)).list.length, n);
  step('get it back');
  await a.$.list.append(-1);
  strictEqual(a.list.at(-1), -1);
  step('append one item');
  await a.pipeline((p) => p.list.removeWhere((x) => x.lt(n / 10)));
  strictEqual(a.list.length, n - n / 10); // the appended -1 goes too
  step('removeWhere 10% + 1 (one script)');
  const dict: Record<string, number> = {};
  for (let i = 0; i < n; i++) dict[`k${i}`] = i;
  const d = await Big.create({ dict });
  step('create with a dict');
  strictEqual(Object.keys((await Big.get(d.id)).dict).length, n);
  step('get it back');
  strictEqual(await d.$.dict.incr('k1', 1), 2);
  step('one dict entry increment');
} finally {
  await db.close();
  await server.stop();
}
