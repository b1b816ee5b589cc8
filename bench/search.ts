/**
 * `npm run bench:search [-- --records=N] [-- --quick]`: what the word index costs and what a text
 * query costs.
 *
 * 1. Writes of a record with a 200-word text field (words drawn from a 5,000-word vocabulary), on a
 *    model with `search: ['bio']` and on the same model without: create, `bio.set` (a new 200-word
 *    text: about 200 words leave and 200 arrive), `bio.append` of one word (the script tokenizes
 *    the old and the new value).
 * 2. A two-word `matches` query with a sort and limit 50 on N records (default 200,000; 12 words
 *    each from a 200-word vocabulary, so each word is in ~6% of the records), against a
 *    hand-written Lua script over the same word sets (SINTER, read the sort field, sort, page).
 *    Both answers are checked equal before timing.
 *
 * Options: --quick (fewer calls, 20,000 records), --records=N, --only=writes or --only=query.
 * Prints a Markdown table and saves it under bench/results/search.md. REDIS_URL uses a running
 * server (its database is flushed); otherwise an embedded one is started.
 */
import { strictEqual, deepStrictEqual } from 'node:assert/strict';
import { createClient } from 'redis';
import { Type } from 'typebox';
import { connect, defineModel } from '../src/index.js';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { measure, printTable, saveFile, summarize, type Row } from './harness.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const RECORDS = Number(option('records') ?? (quick ? 20_000 : 200_000));
const WRITES: [number, number] = quick ? [300, 30] : [2_000, 100];
const QUERIES: [number, number] = quick ? [50, 5] : [300, 20];
const ONLY = option('only');

let state = 12345;
const rand = (n: number): number => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state % n;
};
const vocabulary = (n: number): string[] => Array.from({ length: n }, (_, i) => `w${i.toString(36)}x${(i * 7919 % 1000).toString(36)}`);
const BIG = vocabulary(5_000);
const SMALL = vocabulary(200);
const textOf = (vocab: readonly string[], n: number): string => Array.from({ length: n }, () => vocab[rand(vocab.length)]).join(' ');

/** The hand-written peer: SINTER of the word sets, the sort field of each id, sorted, paged. */
const HAND_LUA = `
local ids = redis.call('SINTER', KEYS[1], KEYS[2])
local rows = {}
for i, id in ipairs(ids) do
  rows[i] = { id = id, v = tonumber(redis.call('HGET', ARGV[1] .. id, 'stars')) }
end
table.sort(rows, function(a, b)
  if a.v ~= b.v then return a.v > b.v end
  return a.id > b.id
end)
local out = {}
for i = 1, math.min(#rows, tonumber(ARGV[2])) do out[i] = rows[i].id end
return out`;

const connectRaw = async (url: string) => {
  const client = createClient({ url });
  await client.connect();
  return client;
};
type Raw = Awaited<ReturnType<typeof connectRaw>>;

async function queryRows(raw: Raw, rows: Row[]): Promise<void> {
  const shape = { bio: Type.String({ default: '' }), stars: Type.Integer({ default: 0 }) };
  const Post = defineModel('BenchPost', shape, { search: ['bio'], indexes: ['stars'] });
  process.stdout.write(`seeding ${RECORDS} records...`);
  for (let at = 0; at < RECORDS; at += 5_000) {
    await Post.insertMany(Array.from({ length: Math.min(5_000, RECORDS - at) }, () => ({ bio: textOf(SMALL, 12), stars: rand(1_000) })));
  }
  process.stdout.write(' done\n');
  const [a, b] = [SMALL[17], SMALL[42]];
  const wordKey = (w: string) => `BenchPost#words:bio:${w}`;
  const [na, nb, both] = [await raw.sCard(wordKey(a)), await raw.sCard(wordKey(b)), (await raw.sInter([wordKey(a), wordKey(b)])).length];
  const query = Post.find((p) => p.bio.matches(`${a} ${b}`)).sort('stars', 'desc').limit(50);
  const hand = async () => (await raw.eval(HAND_LUA, { keys: [wordKey(a), wordKey(b)], arguments: ['BenchPost:', '50'] })) as string[];
  deepStrictEqual(await query.ids(), await hand());
  strictEqual((await query.ids()).length, 50);
  const [iterations, warmup] = QUERIES;
  const scenario = `matches(2 words) sort limit 50, ${RECORDS.toLocaleString('en')} records (sets ${na}/${nb}, ${both} match)`;
  rows.push(summarize(scenario, 'hand-written Lua', (await measure('hand', hand, { iterations, warmup })).us));
  rows.push(summarize(scenario, 'rapyer', (await measure('rapyer', () => query.ids(), { iterations, warmup })).us));

}

async function main(): Promise<void> {
  const server = await startRedis();
  const raw = await connectRaw(server.url);
  await raw.flushAll();
  const db = await connect({ url: server.url });
  const shape = { bio: Type.String({ default: '' }), stars: Type.Integer({ default: 0 }) };
  const rows: Row[] = [];

  // 1. writes of a 200-word text
  for (const [variant, options] of ONLY === 'query' ? [] : [['no search', {}], ['search: [bio]', { search: ['bio'] }]] as const) {
    const M = defineModel(variant === 'no search' ? 'BenchPlain' : 'BenchText', shape, { ...options });
    const created: string[] = [];
    const [iterations, warmup] = WRITES;
    const create = await measure('create', async () => { created.push((await M.create({ bio: textOf(BIG, 200) })).id); }, { iterations, warmup });
    rows.push(summarize('create, 200-word text', variant, create.us));
    const recs = await M.getMany(created.slice(0, iterations));
    let i = 0;
    const set = await measure('set', () => recs[i++ % recs.length].$.bio.set(textOf(BIG, 200)), { iterations, warmup });
    rows.push(summarize('bio.set(new 200-word text)', variant, set.us));
    i = 0;
    const append = await measure('append', () => recs[i++ % recs.length].$.bio.append(` ${BIG[rand(BIG.length)]}`), { iterations, warmup });
    rows.push(summarize('bio.append(one word) to 200 words', variant, append.us));
  }

  // 2. a two-word matches query, sorted, limit 50
  if (ONLY !== 'writes') await queryRows(raw, rows);
  const table = [
    '### Word index and text query',
    '',
    printTable(rows.filter((r) => !r.scenario.startsWith('matches')), 'no search', () => {}),
    '',
    printTable(rows.filter((r) => r.scenario.startsWith('matches')), 'hand-written Lua', () => {}),
    '',
    `Command: \`npm run bench:search${args.length ? ` -- ${args.join(' ')}` : ''}\`, ${new Date().toISOString()}.`,
  ].join('\n');
  console.log(table);
  console.log(`saved ${await saveFile('search.md', `${table}\n`)}`);
  await raw.flushAll();
  await raw.close();
  await db.close();
  await server.stop();
}

await main();
