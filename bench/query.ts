/**
 * `npm run bench:query [-- --records=N] [-- --quick]`: scenario 8 of `npm run bench` alone (the
 * range + equality query, sorted by score desc, limit 50), rapyer beside the hand-written Lua peer
 * on the same data set size, interleaved in one run, with the server time per script (INFO
 * commandstats). Also rapyer's count and findOne of the same condition, so a change to the query
 * script shows on every path that runs it.
 *
 * Options: --records=N (default 200,000; --quick: 20,000), --rounds=N (default 5), --calls=N per case, --reuse (with
 * REDIS_URL: keep the data set, and use the one an earlier --reuse run left, when its size matches).
 * REDIS_URL uses a running server (its database is flushed); otherwise an embedded one is started.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { createClient } from 'redis';
import { and, connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { ServerTime, interleave, printTable, type Case } from './harness.js';
import { luaPeer } from './peers/lua.js';
import { rapyerPeer, shape } from './peers/rapyer.js';
import { INDEXED, bulkItem, type QuerySpec } from './peers/types.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RECORDS = Number(option('records') ?? (quick ? 20_000 : 200_000));
const ROUNDS = Number(option('rounds') ?? 5);
const CALLS = Number(option('calls') ?? (quick ? 100 : 300));
const QUERY: QuerySpec = { ageMin: 25, ageMax: 40, status: 'adult', limit: 50 };

const server = process.env.REDIS_URL ? undefined : await startRedis();
const url = process.env.REDIS_URL ?? server!.url;
const raw = createClient({ url });
await raw.connect();
// --reuse (with REDIS_URL): keeps the data set of an earlier run with the same --records
const reuse = args.includes('--reuse') && (await raw.zCard('BenchUser#ids')) === RECORDS && (await raw.zCard('BenchLua#ids')) === RECORDS;
if (!reuse) await raw.flushAll();
const rapyer = await rapyerPeer(url);
const hand = await luaPeer(url);
const items = Array.from({ length: RECORDS }, (_, i) => bulkItem(i));
if (!reuse) {
  process.stdout.write(`seeding ${RECORDS} records per peer...`);
  await rapyer.seed!(items);
  await hand.seed!(items);
  process.stdout.write(' done\n');
}

// the same page from both (scores are unique per record here, so the order is one)
const scores = (rows: { score: number }[]): number[] => rows.map((r) => r.score);
deepStrictEqual(scores(await rapyer.query!(QUERY)), scores(await hand.query!(QUERY)));

const db = await connect({ url });
const User = defineModel('BenchUser', shape, { indexes: INDEXED }).withDb(db);
const matching = () => User.find((u) => and(u.age.between(QUERY.ageMin, QUERY.ageMax), u.status.eq(QUERY.status)));
const findOne = () => User.findOne((u) => and(u.age.between(QUERY.ageMin, QUERY.ageMax), u.status.eq(QUERY.status)));
const count = await matching().count();
const first = await findOne();
if (!first || count !== items.filter((d) => d.age >= QUERY.ageMin && d.age <= QUERY.ageMax && d.status === QUERY.status).length) throw new Error('count or findOne is wrong');
const scenario = `range + equality, sort score desc, limit 50, ${RECORDS.toLocaleString('en-US')} records`;
const cases: Case[] = [
  { scenario, variant: 'hand-written Lua', fn: () => hand.query!(QUERY), iterations: CALLS, warmup: 10 },
  { scenario, variant: 'rapyer', fn: () => rapyer.query!(QUERY), iterations: CALLS, warmup: 10 },
  { scenario, variant: 'rapyer count', fn: () => matching().count(), iterations: CALLS, warmup: 10 },
  { scenario, variant: 'rapyer findOne', fn: () => findOne(), iterations: CALLS, warmup: 10 },
];
const serverTime = new ServerTime(raw);
const rows = await interleave(cases, ROUNDS, { server: serverTime });
console.log(printTable(rows, 'hand-written Lua', () => {}));
for (const r of rows) console.log(`${r.variant}: p50 ${(r.medianUs / 1000).toFixed(2)} ms, server ${((r.serverUs ?? NaN) / 1000).toFixed(2)} ms/script`);
const [h, ...rs] = rows;
for (const r of rs) console.log(`${r.variant} / hand query: p50 ${(r.medianUs / h.medianUs).toFixed(2)}x, server ${(r.serverUs! / h.serverUs!).toFixed(2)}x`);
await db.close();
await rapyer.close();
await hand.close();
if (!args.includes('--reuse')) await raw.flushAll();
await raw.quit();
await server?.stop();
