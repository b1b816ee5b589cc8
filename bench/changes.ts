/**
 * The cost of `changes: true`: create, increment and insertMany on a model with a change stream,
 * against the same model without one (target: under 1.25× its median). Cases interleave (see
 * harness.ts), so drift of the machine lands on both alike.
 * `npx tsx bench/changes.ts [--quick]` (REDIS_URL or an embedded Redis); prints a Markdown table
 * and saves it to bench/results/changes.md and .json.
 * The model: 2 indexed fields, an array and a record (dict) field; the stream keeps its default
 * length (100,000 entries, trimmed approximately), which these runs exceed, so trimming is measured too.
 */
import { cpus } from 'node:os';
import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel, type Rec } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { interleave, printTable, saveResults, type Case } from './harness.js';

const quick = process.argv.includes('--quick');
const shape = {
  name: Type.String(),
  age: Type.Integer({ minimum: 0 }),
  score: Type.Number({ default: 0 }),
  tags: Type.Array(Type.String(), { default: [] }),
  notes: Type.Record(Type.String(), Type.String(), { default: {} }),
};
const options = { indexes: ['age', 'score'] } as const;
const variants = [
  { name: 'changes: false', model: defineModel('BenchNoChanges', shape, options) },
  { name: 'changes: true', model: defineModel('BenchChanges', shape, { ...options, changes: true }) },
];
const BULK = 1_000;
const [SIMPLE, SIMPLE_WARMUP] = quick ? [2_000, 200] : [20_000, 1_000];
const [BULK_CALLS, BULK_WARMUP] = quick ? [10, 2] : [60, 4];

let n = 0;
const item = () => {
  const i = n++;
  return { name: `user${i}`, age: i % 90, score: (i % 1000) / 10, tags: [`t${i % 7}`, 'all'], notes: { k: `v${i}`, city: 'Paris' } };
};

const external = process.env.REDIS_URL;
const server = external ? undefined : await startRedis();
const url = external ?? server!.url;
await connect({ url });
const raw = createClient({ url });
await raw.connect();
await raw.flushAll();

const cases: Case[] = [];
for (const { name, model } of variants) {
  let rec: Rec<typeof shape> | undefined;
  cases.push(
    { scenario: 'create', variant: name, fn: () => model.create(item()), iterations: SIMPLE, warmup: SIMPLE_WARMUP },
    {
      scenario: 'increment', variant: name, iterations: SIMPLE, warmup: SIMPLE_WARMUP,
      before: async () => void (rec ??= await model.create(item())),
      fn: () => rec!.$.score.incr(1),
    },
    {
      scenario: `insertMany (${BULK.toLocaleString('en-US')} records)`, variant: name, per: BULK, unit: 'records',
      iterations: BULK_CALLS, warmup: BULK_WARMUP,
      fn: () => model.insertMany(Array.from({ length: BULK }, item)),
    },
  );
}

const rows = await interleave(cases, quick ? 4 : 10);
console.log(`\nchanges: true vs false, ${cpus().length} CPUs, ${quick ? 'quick' : 'full'} run\n`);
const table = printTable(rows, 'changes: false');
const stream = await raw.xLen('BenchChanges#changes');
console.log(`\nstream length at the end: ${stream.toLocaleString('en-US')} entries (maxLen 100,000, trimmed approximately)`);
const [md] = await saveResults('changes', `${table}\n`, { quick, cpus: cpus().length, rows, stream });
console.log(`saved ${md}`);
await raw.flushAll();
await raw.close();
process.exit(0);
