/**
 * `node dist-bench/bench/compare.js <other dist-bench> [calls] [rounds]`: rapyer of this build against
 * rapyer of another build (e.g. a `git worktree` of an older commit, built with
 * `npx tsc -p tsconfig.bench.json`), in one run on one Redis, interleaved with node-redis by hand
 * (and its checked MULTI/EXEC pipeline) and the hand-written Lua: the single-record scenarios
 * (create, get, increment, 5-op pipeline), p50 and server time per script (INFO commandstats).
 * Both builds run in the same conditions, so the before/after ratios hold on a noisy machine.
 *
 * @example
 * git worktree add --detach /tmp/base c03920b && ln -s "$PWD/node_modules" /tmp/base/node_modules
 * (cd /tmp/base && npm run build:lua && npx tsc -p tsconfig.bench.json)
 * npx tsc -p tsconfig.bench.json && node dist-bench/bench/compare.js /tmp/base/dist-bench 3000 6
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { interleave, printTable, ServerTime, type Case, type Row } from './harness.js';
import { luaPeer } from './peers/lua.js';
import { nodeRedisPeer } from './peers/node-redis.js';
import { rapyerPeer } from './peers/rapyer.js';
import { sample, type Peer } from './peers/types.js';

const [otherDir, callsArg, roundsArg] = process.argv.slice(2);
if (!otherDir) throw new Error('usage: node dist-bench/bench/compare.js <other dist-bench> [calls] [rounds]');
const CALLS = Number(callsArg ?? 3_000);
const ROUNDS = Number(roundsArg ?? 6);
const OTHER = `rapyer ${otherDir}`;

const other = (await import(pathToFileURL(join(resolve(otherDir), 'bench/peers/rapyer.js')).href)) as { rapyerPeer: typeof rapyerPeer };
const server = await startRedis();
const plain = createClient({ url: server.url });
await plain.connect();
const peers: [string, Peer][] = [
  ['rapyer', await rapyerPeer(server.url)], [OTHER, await other.rapyerPeer(server.url)],
  ['node-redis', await nodeRedisPeer(server.url)], ['Lua by hand', await luaPeer(server.url)],
];
const cases: Case[] = [];
const resets: (() => Promise<void>)[] = [];
const add = (scenario: string, variant: string, fn: () => Promise<unknown>): void =>
  void cases.push({ scenario, variant, fn, iterations: CALLS, warmup: 200 });
for (const [name, p] of peers) {
  const read = await p.createOne(sample);
  const incr = await p.createOne(sample);
  const pipe = await p.createOne(sample);
  resets.push(() => p.reset!(pipe, sample));
  add('1. create', name, () => p.createOne(sample));
  add('2. get', name, () => p.getOne(read));
  add('3. incr', name, () => p.incrementOne!(incr));
  add('4. pipeline5', name, () => p.pipeline5!(pipe));
  const extra = p.extraPipeline5;
  if (extra) {
    const target = await p.createOne(sample);
    resets.push(() => p.reset!(target, sample));
    add('4. pipeline5', extra.variant, () => extra.run(target));
  }
}
cases.sort((a, b) => a.scenario.localeCompare(b.scenario));
const rows = await interleave(cases, ROUNDS, {
  server: new ServerTime(plain),
  onRound: async () => {
    for (const reset of resets) await reset();
  },
});
printTable(rows, 'node-redis');
console.log(`\nrapyer (this build) against ${OTHER}; server µs per script against the hand-written Lua:`);
for (const scenario of new Set(rows.map((r) => r.scenario))) {
  const row = (variant: string): Row | undefined => rows.find((r) => r.scenario === scenario && r.variant === variant);
  const [now, before, hand, lua] = ['rapyer', OTHER, 'node-redis', 'Lua by hand'].map(row) as Row[];
  const checked = row('MULTI/EXEC checked');
  const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  console.log(`${scenario}: p50 ${x(now.medianUs, before.medianUs)} of before; vs node-redis ${x(now.medianUs, hand.medianUs)} ` +
    `(before ${x(before.medianUs, hand.medianUs)})${checked ? `; vs MULTI/EXEC checked ${x(now.medianUs, checked.medianUs)}` : ''}; ` +
    `server ${now.serverUs?.toFixed(1)} µs, before ${before.serverUs?.toFixed(1)} µs, hand Lua ${lua.serverUs?.toFixed(1)} µs ` +
    `(${x(now.serverUs!, lua.serverUs!)}, before ${x(before.serverUs!, lua.serverUs!)})`);
}
for (const [, p] of peers) await p.close();
await plain.quit();
await server.stop();
