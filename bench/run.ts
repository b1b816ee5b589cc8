/**
 * `npm run bench [-- --quick]`: rapyer and its peers doing the same jobs against the same Redis,
 * all cases interleaved in one run (see harness.ts), printed as one Markdown table and saved to
 * bench/results/latest.md and .json, with an SVG chart per scenario group (single-record.svg,
 * bulk.svg).
 *
 * Peers (bench/peers/): node-redis by hand and one hand-written Lua script per job, both on
 * rapyer's layout (src/model/layout.ts) with the same id set and index entries, so the difference
 * is rapyer's own cost; redis-om (hashes, no index: its search needs RediSearch) and nohm (an
 * indexed mapper on plain Redis), each through its normal path. Before timing, every peer's result
 * is checked: the record it reads back, the new values after an increment or a pipeline, the loop's
 * remaining items, the count after a bulk insert. A peer that cannot do a job gets a skipped row
 * and a note.
 *
 * Scenarios 7-10 share one data set per peer, seeded untimed (`Peer.seed`): 200,000 records (20,000
 * with --quick). getMany reads 10,000 of them (2,000), the query filters and sorts them, updateMany
 * and deleteMany act on the half with age < 45 (100,000; 10,000); deleteMany's records are written
 * again, untimed and outside the heap sampling, before each of its calls.
 *
 * Options: --quick (under two minutes), --only=rapyer,nohm (a subset of the peers),
 * --bulk=N (records per insertMany), --records=N (the data set of scenarios 7-10), --charts (only
 * draw the SVG charts again from bench/results/latest.json). REDIS_URL uses a
 * running server instead of an embedded one; only this benchmark's keys are touched and they are
 * removed at the end. A full run with no option also rewrites the Benchmarks section of README.md
 * (between its bench markers) with the table, the charts and the targets.
 */
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient } from 'redis';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { barChart } from './chart.js';
import {
  HeapSampler, Progress, RESULTS_DIR, ServerTime, fmtTime, interleave, printTable, saveFile, saveResults, skippedRow, type Case, type Row,
} from './harness.js';
import { luaPeer } from './peers/lua.js';
import { nodeRedisPeer } from './peers/node-redis.js';
import { nohmPeer } from './peers/nohm.js';
import { rapyerPeer } from './peers/rapyer.js';
import { redisOmPeer } from './peers/redis-om.js';
import {
  bulkItem, sample, type BenchUserData, type LoopItem, type LoopJob, type Peer, type QuerySpec, type ScenarioId,
} from './peers/types.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// per case: [iterations, warmup]; the loop case is ~1000x the work per call, so it gets fewer calls
const SIMPLE: [number, number] = quick ? [1_200, 100] : [20_000, 1_000];
const LOOP: [number, number] = quick ? [24, 4] : [400, 20];
const ROUNDS = quick ? 4 : 10;
const BULK_N = Number(option('bulk') ?? (quick ? 10_000 : 100_000));
const BULK_ROUNDS = quick ? 2 : 3;
// scenarios 7-10: one data set per peer
const DATA_N = Number(option('records') ?? (quick ? 20_000 : 200_000));
const GET_N = Math.min(DATA_N, quick ? 2_000 : 10_000);
const AGE_BELOW = 45; // updateMany and deleteMany: age < 45, half the data set (ages are i % 90)
const TARGET_IDX = Array.from({ length: DATA_N }, (_, i) => i).filter((i) => bulkItem(i).age < AGE_BELOW);
const TARGET_N = TARGET_IDX.length;
const QUERY: QuerySpec = { ageMin: 25, ageMax: 40, status: 'adult', limit: 50 };
/** Timed time per query / getMany case: its calls are counted from the time of its check call. */
const CASE_BUDGET_MS = quick ? 1_000 : 10_000;
const QUERY_ROUNDS = quick ? 3 : 5;
const MANY_ROUNDS = 2; // updateMany and deleteMany: each call is a whole 100,000-record job
const INVENTORY = 1_000;
const EXPIRED_EVERY = 10; // every 10th item is expired: the loop removes 100 of 1,000
/** Scenario 11: the loop on a 100,000-item array (10,000 removed), rapyer against the same job in hand-written Lua. */
const BIG_INVENTORY = 100_000;
const BIG_LOOP_PEERS = ['rapyer', 'Lua by hand'];
const BIG_LOOP_CALLS = quick ? 2 : 3;
const BASELINE = 'node-redis';

const FACTORIES: [string, (url: string) => Promise<Peer>][] = [
  ['rapyer', rapyerPeer],
  ['node-redis', nodeRedisPeer],
  ['Lua by hand', luaPeer],
  ['redis-om', redisOmPeer],
  ['nohm', nohmPeer],
];

const SCENARIOS: Record<ScenarioId, string> = {
  create: '1. create one record',
  get: '2. get one record',
  incr: '3. one field increment',
  pipeline5: '4. pipeline of 5 ops',
  loop: '5. loop over 1,000 items',
  insertMany: `6. insertMany of ${BULK_N.toLocaleString('en-US')}`,
  getMany: `7. getMany of ${GET_N.toLocaleString('en-US')}`,
  query: `8. range + equality query, sorted, limit 50, on ${DATA_N.toLocaleString('en-US')} records`,
  updateMany: `9. updateMany by query on ${TARGET_N.toLocaleString('en-US')} records`,
  deleteMany: `10. deleteMany of ${TARGET_N.toLocaleString('en-US')}`,
  bigLoop: `11. loop over ${BIG_INVENTORY.toLocaleString('en-US')} items, remove 10% (one script)`,
};
const DATA_SCENARIOS: ScenarioId[] = ['getMany', 'query', 'updateMany', 'deleteMany'];
/** The README section a full run rewrites: everything between these two lines. */
const README_START = '<!-- bench:start (written by `npm run bench`; edit bench/run.ts, not this block) -->';
const README_END = '<!-- bench:end -->';

/** A full GC before each slice, where V8 lets us have one, so heap peaks compare across cases. */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const inventoryOf = (n: number): LoopItem[] => Array.from({ length: n }, (_, i) => ({ sku: `sku-${i}`, qty: i % 7, expired: i % EXPIRED_EVERY === 3 }));
const inventory = inventoryOf(INVENTORY);
/** Compares typed records as JSON (Dates as ISO text), whatever class or prototype holds them. */
const plainData = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
const message = (err: unknown): string => String((err as Error)?.message ?? err).split('\n')[0].slice(0, 160);

/** The two SVG charts: scenarios 1-5, and the bulk scenarios with the query (6-10). */
async function writeCharts(single: Row[], bulk: Row[], subtitle: string): Promise<[string, string]> {
  return [
    await saveFile('single-record.svg', `${barChart('rapyer vs peers: single-record scenarios', single, BASELINE, subtitle)}\n`),
    await saveFile('bulk.svg', `${barChart('rapyer vs peers: bulk operations and the query', bulk, BASELINE, subtitle)}\n`),
  ];
}

/** `--charts`: draws the charts again from bench/results/latest.json (after a change to chart.ts), without running anything. */
async function chartsFromSaved(): Promise<void> {
  const saved = JSON.parse(await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8')) as {
    date: string; mode: string; redis: string; node: string; cpu: string; cores: number; baseline: string; rows: Row[];
  };
  const machine = `Redis ${saved.redis}, Node ${saved.node}, ${saved.cores}x ${saved.cpu}`;
  const subtitle = `${saved.mode} run, ${saved.date.slice(0, 10)}; bar = 1/p50 (longer is faster), label = throughput, p50 and p50 ratio to ${saved.baseline}; ${machine}`;
  // JSON turned NaN into null: skipped rows carry no numbers anyway
  const number = (r: Row): number => Number.parseInt(r.scenario, 10);
  const paths = await writeCharts(saved.rows.filter((r) => number(r) <= 5), saved.rows.filter((r) => number(r) > 5), subtitle);
  console.log(`drew ${paths.join(' and ')} from ${saved.mode} run of ${saved.date}`);
}

/** The targets of issues 7 and 12, each with what this run measured: met, not met, or not measured. */
function targetTable(rows: Row[]): string {
  const row = (scenario: ScenarioId, variant: string): Row | undefined =>
    rows.find((r) => r.scenario === SCENARIOS[scenario] && r.variant === variant && !r.skipped);
  const x = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)}×`;
  const lines = ['| target | measured | met |', '|---|---|---|'];
  const add = (target: string, measured: string | undefined, met: boolean | undefined): void =>
    void lines.push(`| ${target} | ${measured ?? 'not measured (a row is skipped)'} | ${met === undefined ? '–' : met ? 'yes' : '**no**'} |`);
  const rate = (r: Row): string => `${Math.round(r.opsPerSec).toLocaleString('en-US')} records/s`;

  const ins = row('insertMany', 'rapyer');
  add('insertMany (3 indexes) ≥ 150,000 records/s', ins && rate(ins), ins && ins.opsPerSec >= 150_000);
  for (const [peer, factor, label] of [['redis-om', 10, '≥ 10× redis-om save'], ['nohm', 20, '≥ 20× nohm save']] as const) {
    const other = row('insertMany', peer);
    add(`insertMany ${label}`, ins && other && `${x(ins.opsPerSec / other.opsPerSec)} (${rate(ins)} vs ${rate(other)})`,
      ins && other && ins.opsPerSec >= factor * other.opsPerSec);
  }
  const lua = row('insertMany', 'Lua by hand');
  add('insertMany ≥ 60% of hand-written Lua', ins && lua && `${Math.round((100 * ins.opsPerSec) / lua.opsPerSec)}% (${rate(ins)} vs ${rate(lua)})`,
    ins && lua && ins.opsPerSec >= 0.6 * lua.opsPerSec);
  for (const id of ['create', 'get', 'incr', 'pipeline5', 'loop'] as const) {
    const r = row(id, 'rapyer');
    const b = row(id, BASELINE);
    add(`${SCENARIOS[id].replace(/^\d+\. /, '')}: p50 within 1.3× of node-redis by hand`,
      r && b && `${x(r.medianUs / b.medianUs)} (${fmtTime(r.medianUs)} vs ${fmtTime(b.medianUs)})`, r && b && r.medianUs <= 1.3 * b.medianUs);
  }
  const loop = row('bigLoop', 'rapyer');
  const plainLoop = row('bigLoop', 'Lua by hand');
  add(`loop over ${BIG_INVENTORY.toLocaleString('en-US')} items, remove 10%: server time < 200 ms`,
    loop?.serverUs !== undefined ? `${fmtTime(loop.serverUs)}${plainLoop?.serverUs ? ` (${x(loop.serverUs / plainLoop.serverUs)} hand-written Lua's ${fmtTime(plainLoop.serverUs)})` : ''}` : undefined,
    loop?.serverUs !== undefined ? loop.serverUs < 200_000 : undefined);
  const q = row('query', 'rapyer');
  add(`query on ${DATA_N.toLocaleString('en-US')} records: p50 < 5 ms`, q && fmtTime(q.medianUs), q && q.medianUs < 5_000);
  const nq = row('query', 'nohm');
  add('query ≥ 10× faster (p50) than nohm find + loadMany (JS sort)', q && nq && `${x(nq.medianUs / q.medianUs)} (${fmtTime(q.medianUs)} vs ${fmtTime(nq.medianUs)})`,
    q && nq && nq.medianUs >= 10 * q.medianUs);
  const ns = row('query', 'nohm (find + sort)');
  if (ns) add('(not a target) query vs nohm find + sort(ids) + loadMany(50)', q && `${x(ns.medianUs / q.medianUs)} (${fmtTime(q.medianUs)} vs ${fmtTime(ns.medianUs)})`, undefined);

  // issue 12: p50 against the hand-written client, and server time against hand-written Lua
  const p50 = (id: ScenarioId, peer: string, label: string, limit: number): void => {
    const r = row(id, 'rapyer');
    const b = row(id, peer);
    add(`${SCENARIOS[id].replace(/^\d+\. /, '')}: p50 ≤ ${limit.toFixed(2)}× ${label}`,
      r && b && `${x(r.medianUs / b.medianUs)} (${fmtTime(r.medianUs)} vs ${fmtTime(b.medianUs)})`, r && b && r.medianUs <= limit * b.medianUs);
  };
  for (const id of ['create', 'get', 'incr', 'getMany'] as const) p50(id, BASELINE, 'node-redis by hand', 1.1);
  p50('pipeline5', BASELINE, 'MULTI/EXEC (node-redis row)', 1.2);
  for (const id of ['insertMany', 'query'] as const) p50(id, 'Lua by hand', 'hand-written Lua', 1.0);
  for (const id of ['updateMany', 'deleteMany'] as const) p50(id, 'Lua by hand', 'hand-written Lua', 1.3);
  for (const id of ['incr', 'pipeline5', 'insertMany', 'updateMany', 'deleteMany', 'query'] as const) {
    const r = row(id, 'rapyer');
    const l = row(id, 'Lua by hand');
    const us = (v: Row): string => `${v.serverUs!.toFixed(1)} µs`;
    add(`${SCENARIOS[id].replace(/^\d+\. /, '')}: server time ≤ 1.20× hand-written Lua`,
      r?.serverUs && l?.serverUs ? `${x(r.serverUs / l.serverUs)} (${us(r)} vs ${us(l)})` : undefined,
      r?.serverUs && l?.serverUs ? r.serverUs <= 1.2 * l.serverUs : undefined);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = option('only')?.split(',');
  const server = await startRedis();
  const plain = createClient({ url: server.url });
  await plain.connect();
  const progress = new Progress();
  const gc = exposeGc();
  const peers: Peer[] = [];
  const failed: Row[] = [];

  /** Every key of these patterns: MEMORY USAGE (all nested values sampled) summed. */
  const redisBytes = async (patterns: string[]): Promise<number> => {
    let bytes = 0;
    for (const pattern of patterns) {
      for await (const keys of plain.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
        const sizes = await Promise.all(keys.map((k) => plain.memoryUsage(k, { SAMPLES: 0 })));
        for (const s of sizes) bytes += Number(s ?? 0);
      }
    }
    return bytes;
  };
  const unlink = async (patterns: string[]): Promise<void> => {
    for (const pattern of patterns) {
      for await (const keys of plain.scanIterator({ MATCH: pattern, COUNT: 1000 })) if (keys.length) await plain.unlink(keys);
    }
  };
  const allPatterns = (): string[] => peers.flatMap((p) => [...p.keyPatterns, ...(p.otherPatterns ?? [])]);
  const perRecord = async (p: Peer): Promise<number | undefined> => {
    const n = await p.count();
    return n > 0 ? (await redisBytes(p.keyPatterns)) / n : undefined;
  };

  try {
    const info = await plain.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    console.log(`rapyer bench (${quick ? 'quick' : 'full'}) on ${server.url}, Redis ${redisVersion}, Node ${process.version}` +
      `${gc ? '' : ' (no forced GC: heap peaks are noisier)'}`);

    for (const [name, make] of FACTORIES) {
      if (only && !only.includes(name)) continue;
      try {
        peers.push(await make(server.url));
      } catch (err) {
        console.warn(`  ${name}: could not start (${message(err)}); its rows are skipped`);
        for (const title of Object.values(SCENARIOS)) failed.push(skippedRow(title, name, `could not start: ${message(err)}`));
      }
    }
    await unlink(allPatterns()); // leftovers of an interrupted run on a shared server

    // ---------------------------------------------------------------------------------------------
    // 1-5. single-record scenarios, every peer checked before timing
    // ---------------------------------------------------------------------------------------------
    const [n, w] = SIMPLE;
    const [ln, lw] = LOOP;
    const cases: Case[] = [];
    const skipped: Row[] = [];
    const pipeTargets: [Peer, string][] = [];
    /** Notes of the extra variants (a peer's second row of a scenario). */
    const extraNotes: Partial<Record<ScenarioId, string[]>> = {};
    const noteExtra = (id: ScenarioId, extra: { variant: string; note: string }): void =>
      void (extraNotes[id] ??= []).push(`  - ${extra.variant}: ${extra.note}`);
    for (const peer of peers) {
      const skip = (id: ScenarioId, why: string): void => void skipped.push(skippedRow(SCENARIOS[id], peer.name, why));
      const guard = async (id: ScenarioId, check: () => Promise<void>): Promise<boolean> => {
        try {
          await check();
          return true;
        } catch (err) {
          console.warn(`  ${peer.name}: ${SCENARIOS[id]}: check failed (${message(err)}); skipped`);
          skip(id, `check failed: ${message(err)}`);
          return false;
        }
      };
      let stored = '';
      const created = await guard('create', async () => {
        stored = await peer.createOne(sample);
        deepStrictEqual(plainData(await peer.getOne(stored)), plainData(sample), 'reads back what it wrote');
      });
      if (!created) {
        skip('get', 'create failed');
        continue;
      }
      cases.push({ scenario: SCENARIOS.create, variant: peer.name, fn: () => peer.createOne(sample), iterations: n, warmup: w });
      cases.push({ scenario: SCENARIOS.get, variant: peer.name, fn: () => peer.getOne(stored), iterations: n, warmup: w });

      const incrementOne = peer.incrementOne?.bind(peer);
      if (!incrementOne) skip('incr', peer.notes.incr ?? 'not supported');
      else {
        const target = await peer.createOne(sample);
        if (await guard('incr', async () => {
          strictEqual(await incrementOne(target), sample.score + 1);
          strictEqual((await peer.getOne(target)).score, sample.score + 1);
        })) cases.push({ scenario: SCENARIOS.incr, variant: peer.name, fn: () => incrementOne(target), iterations: n, warmup: w });
      }

      /** A pipeline variant of this peer: checked on its own record, then timed on it (reset between rounds). */
      const pipelineCase = async (variant: string, run: (id: string) => Promise<unknown>, tagsInHash: boolean): Promise<void> => {
        const target = await peer.createOne(sample);
        if (await guard('pipeline5', async () => {
          await run(target);
          const after = await peer.getOne(target);
          deepStrictEqual(
            { score: after.score, name: after.name, age: after.age, active: after.active },
            { score: sample.score + 10, name: `${sample.name}x`, age: sample.age + 1, active: !sample.active },
          );
          if (tagsInHash) deepStrictEqual(after.tags, [...sample.tags, 'new']);
          await peer.reset!(target, sample);
          deepStrictEqual(plainData(await peer.getOne(target)), plainData(sample), 'reset');
        })) {
          pipeTargets.push([peer, target]);
          cases.push({ scenario: SCENARIOS.pipeline5, variant, fn: () => run(target), iterations: n, warmup: w });
        }
      };
      const pipeline5 = peer.pipeline5?.bind(peer);
      if (!pipeline5 || !peer.reset) skip('pipeline5', peer.notes.pipeline5 ?? 'not supported');
      // node-redis keeps the appended tags in a separate list (see its note)
      else await pipelineCase(peer.name, pipeline5, peer.name !== 'node-redis');
      const extra = peer.extraPipeline5;
      if (extra && peer.reset) {
        noteExtra('pipeline5', extra);
        await pipelineCase(extra.variant, extra.run, true);
      }

      if (!peer.loop) skip('loop', peer.notes.loop ?? 'not supported');
      else {
        let job: LoopJob | undefined;
        if (await guard('loop', async () => {
          job = await peer.loop!(inventory);
          await job.refill();
          await job.run();
          deepStrictEqual(await job.read(), inventory.filter((i) => !i.expired));
        })) cases.push({ scenario: SCENARIOS.loop, variant: peer.name, fn: job!.run, before: job!.refill, iterations: ln, warmup: lw });
      }
    }
    // rapyer's indexes are being built: say so when this build does not write them yet
    const rapyer = peers.find((p) => p.name === 'rapyer');
    if (rapyer && (await plain.exists('BenchUser#idx:age')) === 0) {
      rapyer.notes.create = `${rapyer.notes.create ?? ''} (this build wrote no index entries: its Redis / record has no indexes)`;
    }

    const heap = new HeapSampler(gc);
    const serverTime = new ServerTime(plain);
    const started = Date.now();
    const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const singleRows = await interleave(cases, ROUNDS, {
      heap, server: serverTime,
      onCall: (r, c, done, share) => progress.update(`[round ${r}/${ROUNDS}] ${c.scenario} · ${c.variant} · ${done}/${share} calls · ${elapsed()}`),
      onRound: async (r) => {
        progress.done(`[round ${r}/${ROUNDS}] single-record scenarios: ${cases.length} cases done · ${elapsed()}`);
        // the pipeline's name grows by a character per call: back to the sample, untimed
        for (const [peer, id] of pipeTargets) await peer.reset!(id, sample);
      },
    });
    const singleSeconds = (Date.now() - started) / 1000;
    for (const peer of peers) {
      const bytes = await perRecord(peer);
      for (const row of [...singleRows, ...skipped]) if (row.variant === peer.name) row.redisBytesPerRecord = bytes;
    }
    await unlink(allPatterns());

    // ---------------------------------------------------------------------------------------------
    // 11. the loop on 100,000 items: server time of one script, against the same job in plain Lua
    // ---------------------------------------------------------------------------------------------
    const big = inventoryOf(BIG_INVENTORY);
    const bigCases: Case[] = [];
    const bigSkipped: Row[] = [];
    for (const peer of peers.filter((p) => BIG_LOOP_PEERS.includes(p.name))) {
      try {
        const job = await peer.loop!(big);
        await job.refill();
        await job.run();
        deepStrictEqual(await job.read(), big.filter((i) => !i.expired));
        bigCases.push({ scenario: SCENARIOS.bigLoop, variant: peer.name, fn: job.run, before: job.refill, iterations: BIG_LOOP_CALLS, warmup: 0, unit: 'scripts' });
      } catch (err) {
        bigSkipped.push(skippedRow(SCENARIOS.bigLoop, peer.name, `check failed: ${message(err)}`));
      }
    }
    const bigRows = await interleave(bigCases, BIG_LOOP_CALLS, {
      server: serverTime,
      onCall: (r, c) => progress.update(`[round ${r}/${BIG_LOOP_CALLS}] ${c.scenario} · ${c.variant}`, true),
    });
    progress.done(`${SCENARIOS.bigLoop}: done`);
    await unlink(allPatterns());

    // ---------------------------------------------------------------------------------------------
    // 6. insertMany: N records, 3 indexed fields, an array and a dict each
    // ---------------------------------------------------------------------------------------------
    const items = Array.from({ length: BULK_N }, (_, i) => bulkItem(i));
    const bulkCases: Case[] = [];
    const bulkSkipped: Row[] = [];
    const current = { round: 1 };
    const bulkStarted = Date.now();
    for (const peer of peers) {
      const insertMany = peer.insertMany?.bind(peer);
      if (!insertMany) {
        bulkSkipped.push(skippedRow(SCENARIOS.insertMany, peer.name, peer.notes.insertMany ?? 'not supported'));
        continue;
      }
      try {
        strictEqual(await insertMany(items.slice(0, 1_000)), 1_000);
        strictEqual(await peer.count(), 1_000);
        await unlink(peer.keyPatterns);
      } catch (err) {
        console.warn(`  ${peer.name}: ${SCENARIOS.insertMany}: check failed (${message(err)}); skipped`);
        bulkSkipped.push(skippedRow(SCENARIOS.insertMany, peer.name, `check failed: ${message(err)}`));
        continue;
      }
      bulkCases.push({
        scenario: SCENARIOS.insertMany, variant: peer.name, iterations: BULK_ROUNDS, warmup: 0, per: BULK_N, unit: 'records',
        before: () => unlink(peer.keyPatterns), // each round starts from an empty keyspace for this peer
        fn: () => insertMany(items, (done) => progress.update(
          `[round ${current.round}/${BULK_ROUNDS}] ${SCENARIOS.insertMany} · ${peer.name} · ${done.toLocaleString('en-US')}/${BULK_N.toLocaleString('en-US')} records · ` +
          `${((Date.now() - bulkStarted) / 1000).toFixed(1)} s`)),
      });
    }
    const bulkRows = await interleave(bulkCases, BULK_ROUNDS, {
      heap, server: serverTime,
      onCall: (r, c) => progress.update(`[round ${r}/${BULK_ROUNDS}] ${c.scenario} · ${c.variant} · done · ${((Date.now() - bulkStarted) / 1000).toFixed(1)} s`, true),
      onRound: (r) => {
        progress.done(`[round ${r}/${BULK_ROUNDS}] insertMany: ${bulkCases.length} cases done · ${((Date.now() - bulkStarted) / 1000).toFixed(1)} s`);
        current.round = r + 1;
      },
    });
    const bulkSeconds = (Date.now() - bulkStarted) / 1000;
    // each peer still holds its last round's records: measure them
    for (const row of bulkRows) {
      const peer = peers.find((p) => p.name === row.variant)!;
      row.redisBytesPerRecord = await perRecord(peer);
    }
    await unlink(allPatterns());

    // ---------------------------------------------------------------------------------------------
    // 7-10. one data set per peer (seeded untimed): getMany, the query, updateMany, deleteMany
    // ---------------------------------------------------------------------------------------------
    const dataStarted = Date.now();
    const since = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)} s`;
    const dataSkipped: Row[] = [];
    const skipData = (peer: string, id: ScenarioId, why: string): void => void dataSkipped.push(skippedRow(SCENARIOS[id], peer, why));
    /** Per seeded peer: the ids getMany reads, the ids of the age < 45 half (update/delete targets), one id outside it. */
    const seeded = new Map<Peer, { sample: string[]; targets: string[]; keep: string }>();
    const seedSeconds: Record<string, number> = {};
    const dataBytes = new Map<string, number | undefined>();
    const sampleIdx = Array.from({ length: GET_N }, (_, k) => Math.floor((k * DATA_N) / GET_N));
    const keepIdx = Array.from({ length: DATA_N }, (_, i) => i).find((i) => bulkItem(i).age >= AGE_BELOW)!;
    {
      const items = Array.from({ length: DATA_N }, (_, i) => bulkItem(i));
      for (const peer of peers) {
        if (!peer.seed) {
          for (const id of DATA_SCENARIOS) skipData(peer.name, id, 'cannot write the data set');
          continue;
        }
        const t0 = Date.now();
        try {
          const ids = await peer.seed(items, (done) => progress.update(
            `[seed] ${peer.name} · ${done.toLocaleString('en-US')}/${DATA_N.toLocaleString('en-US')} records (untimed) · ${since(dataStarted)}`));
          strictEqual(ids.length, DATA_N);
          strictEqual(await peer.count(), DATA_N);
          seeded.set(peer, { sample: sampleIdx.map((i) => ids[i]), targets: TARGET_IDX.map((i) => ids[i]), keep: ids[keepIdx] });
          seedSeconds[peer.name] = (Date.now() - t0) / 1000;
          progress.done(`[seed] ${peer.name}: ${DATA_N.toLocaleString('en-US')} records in ${seedSeconds[peer.name].toFixed(1)} s (untimed)`);
          dataBytes.set(peer.name, await perRecord(peer));
        } catch (err) {
          progress.done(`[seed] ${peer.name}: failed (${message(err)}); its rows 7-10 are skipped`);
          for (const id of DATA_SCENARIOS) skipData(peer.name, id, `seeding failed: ${message(err)}`);
        }
      }
    }

    // the query's expected page, from the data itself (scores only: ties may order differently per peer)
    const expectedScores = Array.from({ length: DATA_N }, (_, i) => bulkItem(i))
      .filter((d) => d.age >= QUERY.ageMin && d.age <= QUERY.ageMax && d.status === QUERY.status)
      .map((d) => d.score).sort((a, b) => b - a).slice(0, QUERY.limit);
    const checkPage = (page: BenchUserData[]): void => {
      deepStrictEqual(page.map((d) => d.score), expectedScores, 'the 50 best scores, in order');
      for (const d of page) ok(d.age >= QUERY.ageMin && d.age <= QUERY.ageMax && d.status === QUERY.status, 'every record matches');
    };
    const expectedSample = sampleIdx.map((i) => plainData(bulkItem(i)));

    /** A case whose calls fail while timed turns into a skipped row instead of ending the run. */
    const broken = new Map<string, string>();
    const guarded = (c: Case): Case => ({
      ...c,
      fn: async () => {
        const k = `${c.scenario}\u0000${c.variant}`;
        if (broken.has(k)) return;
        try {
          await c.fn();
        } catch (err) {
          broken.set(k, message(err));
        }
      },
    });
    const unbreak = (rows: Row[]): Row[] => rows.map((r) => {
      const why = broken.get(`${r.scenario}\u0000${r.variant}`);
      return why ? { ...skippedRow(r.scenario, r.variant, `failed while timed: ${why}`), redisBytesPerRecord: r.redisBytesPerRecord } : r;
    });
    /** Calls per case from the duration of one call, so a 1 s call and a 1 ms call both fit the budget. */
    const budget = (ms: number): { iterations: number; warmup: number } => {
      const iterations = Math.max(2 * QUERY_ROUNDS, Math.min(quick ? 300 : 2_000, Math.round(CASE_BUDGET_MS / Math.max(ms, 0.01))));
      return { iterations, warmup: Math.max(1, Math.min(20, Math.ceil(iterations / 10))) };
    };
    /**
     * Checks the case, then times one more call for its budget: the checked call may carry one-time
     * work (a first query builds indexes recorded as missing), which sized rapyer's query case to
     * its minimum of 10 calls in one full run, each the first after a getMany slice.
     */
    const timedCheck = async (what: string, peer: string, id: ScenarioId, check: () => Promise<void>, run: () => Promise<unknown>): Promise<number | undefined> => {
      try {
        await check();
        const t0 = performance.now();
        await run();
        return performance.now() - t0;
      } catch (err) {
        console.warn(`  ${what}: ${SCENARIOS[id]}: check failed (${message(err)}); skipped`);
        skipData(peer, id, `check failed: ${message(err)}`);
        return undefined;
      }
    };

    // 7 and 8: getMany and the query, interleaved together
    const readCases: Case[] = [];
    for (const [peer, data] of seeded) {
      if (!peer.query) skipData(peer.name, 'query', peer.notes.query ?? 'not supported');
      else {
        const ms = await timedCheck(peer.name, peer.name, 'query', async () => checkPage(await peer.query!(QUERY)), () => peer.query!(QUERY));
        if (ms !== undefined) readCases.push({ scenario: SCENARIOS.query, variant: peer.name, fn: () => peer.query!(QUERY), ...budget(ms) });
      }
      if (peer.extraQuery) {
        const extra = peer.extraQuery;
        noteExtra('query', extra);
        const ms = await timedCheck(extra.variant, extra.variant, 'query', async () => checkPage(await extra.run(QUERY)), () => extra.run(QUERY));
        if (ms !== undefined) readCases.push({ scenario: SCENARIOS.query, variant: extra.variant, fn: () => extra.run(QUERY), ...budget(ms) });
      }
      if (!peer.getMany) skipData(peer.name, 'getMany', peer.notes.getMany ?? 'not supported');
      else {
        const ms = await timedCheck(peer.name, peer.name, 'getMany', async () =>
          deepStrictEqual((await peer.getMany!(data.sample)).map(plainData), expectedSample, 'the records, in order'), () => peer.getMany!(data.sample));
        if (ms !== undefined) {
          readCases.push({
            scenario: SCENARIOS.getMany, variant: peer.name, per: GET_N, unit: 'records', fn: () => peer.getMany!(data.sample), ...budget(ms),
          });
        }
      }
    }
    const readStarted = Date.now();
    const readRows = unbreak(await interleave(readCases.map(guarded), QUERY_ROUNDS, {
      heap, server: serverTime,
      onCall: (r, c, done, share) => progress.update(`[round ${r}/${QUERY_ROUNDS}] ${c.scenario} · ${c.variant} · ${done}/${share} calls · ${since(readStarted)}`),
      onRound: (r) => progress.done(`[round ${r}/${QUERY_ROUNDS}] getMany and query: ${readCases.length} cases done · ${since(readStarted)}`),
    }));
    const readSeconds = (Date.now() - readStarted) / 1000;

    // 9. updateMany: score += 1 on the age < 45 half; checked after the rounds (each call is a whole job)
    const current9 = { round: 1 };
    const updateCases: Case[] = [];
    const updateCalls = new Map<Peer, number>();
    for (const [peer, data] of seeded) {
      if (!peer.updateMany) {
        skipData(peer.name, 'updateMany', peer.notes.updateMany ?? 'not supported');
        continue;
      }
      updateCalls.set(peer, 0);
      updateCases.push({
        scenario: SCENARIOS.updateMany, variant: peer.name, iterations: MANY_ROUNDS, warmup: 0, per: TARGET_N, unit: 'records',
        fn: async () => {
          progress.update(`[round ${current9.round}/${MANY_ROUNDS}] ${SCENARIOS.updateMany} · ${peer.name} · running · ${since(dataStarted)}`, true);
          const n = await peer.updateMany!(AGE_BELOW, data.targets);
          updateCalls.set(peer, updateCalls.get(peer)! + 1);
          strictEqual(n, TARGET_N, 'records changed');
        },
      });
    }
    const updateStarted = Date.now();
    const updateRows = unbreak(await interleave(updateCases.map(guarded), MANY_ROUNDS, {
      heap, server: serverTime,
      onRound: (r) => {
        progress.done(`[round ${r}/${MANY_ROUNDS}] updateMany: ${updateCases.length} cases done · ${since(updateStarted)}`);
        current9.round = r + 1;
      },
    }));
    const updateSeconds = (Date.now() - updateStarted) / 1000;
    for (const [peer, calls] of updateCalls) {
      const data = seeded.get(peer)!;
      try {
        strictEqual((await peer.getOne(data.targets[0])).score, bulkItem(TARGET_IDX[0]).score + calls, 'a target record got +1 per call');
        strictEqual((await peer.getOne(data.keep)).score, bulkItem(keepIdx).score, 'a record outside the query is unchanged');
      } catch (err) {
        const i = updateRows.findIndex((r) => r.variant === peer.name);
        if (i >= 0 && !updateRows[i].skipped) updateRows[i] = skippedRow(SCENARIOS.updateMany, peer.name, `check after the rounds failed: ${message(err)}`);
      }
    }

    // 10. deleteMany of the age < 45 half; before each call the half is written again (untimed, outside the heap peaks)
    const current10 = { round: 1 };
    const deleteCases: Case[] = [];
    for (const [peer, data] of seeded) {
      if (!peer.deleteMany) {
        skipData(peer.name, 'deleteMany', peer.notes.deleteMany ?? 'not supported');
        continue;
      }
      deleteCases.push({
        scenario: SCENARIOS.deleteMany, variant: peer.name, iterations: MANY_ROUNDS, warmup: 0, per: TARGET_N, unit: 'records',
        before: () => heap.exclude(async () => {
          if ((await peer.count()) === DATA_N) return;
          progress.update(`[round ${current10.round}/${MANY_ROUNDS}] ${SCENARIOS.deleteMany} · ${peer.name} · re-seeding (untimed) · ${since(dataStarted)}`, true);
          data.targets = await peer.seed!(TARGET_IDX.map((i) => bulkItem(i)));
          strictEqual(await peer.count(), DATA_N, 're-seeded');
        }),
        fn: async () => {
          progress.update(`[round ${current10.round}/${MANY_ROUNDS}] ${SCENARIOS.deleteMany} · ${peer.name} · running · ${since(dataStarted)}`, true);
          strictEqual(await peer.deleteMany!(AGE_BELOW, data.targets), TARGET_N, 'records deleted');
        },
      });
    }
    const deleteStarted = Date.now();
    const deleteRows = unbreak(await interleave(deleteCases.map(guarded), MANY_ROUNDS, {
      heap, server: serverTime,
      onRound: (r) => {
        progress.done(`[round ${r}/${MANY_ROUNDS}] deleteMany: ${deleteCases.length} cases done · ${since(deleteStarted)}`);
        current10.round = r + 1;
      },
    }));
    const deleteSeconds = (Date.now() - deleteStarted) / 1000;
    for (let i = 0; i < deleteRows.length; i++) {
      const row = deleteRows[i];
      const peer = peers.find((p) => p.name === row.variant)!;
      if (row.skipped) continue;
      try {
        strictEqual(await peer.count(), DATA_N - TARGET_N, 'records left');
        strictEqual((await peer.getOne(seeded.get(peer)!.keep)).score, bulkItem(keepIdx).score, 'a record outside the query is still there');
      } catch (err) {
        deleteRows[i] = skippedRow(SCENARIOS.deleteMany, peer.name, `check after the rounds failed: ${message(err)}`);
      }
    }
    heap.stop();
    const dataRows = [...readRows, ...updateRows, ...deleteRows, ...dataSkipped];
    for (const row of dataRows) row.redisBytesPerRecord = dataBytes.get(row.variant === 'nohm (find + sort)' ? 'nohm' : row.variant);
    const dataSeconds = (Date.now() - dataStarted) / 1000;

    // ---------------------------------------------------------------------------------------------
    // report
    // ---------------------------------------------------------------------------------------------
    const order = Object.values(SCENARIOS);
    const variants = [...FACTORIES.map(([name]) => name), 'nohm (find + sort)'];
    const bulkIds = [SCENARIOS.insertMany, ...DATA_SCENARIOS.map((id) => SCENARIOS[id]), SCENARIOS.bigLoop];
    const sortRows = (rows: Row[]): Row[] => rows.sort((a, b) =>
      order.indexOf(a.scenario) - order.indexOf(b.scenario) || variants.indexOf(a.variant) - variants.indexOf(b.variant));
    const single = sortRows([...singleRows, ...skipped, ...failed.filter((r) => !bulkIds.includes(r.scenario))]);
    const bulk = sortRows([...bulkRows, ...bulkSkipped, ...dataRows, ...bigRows, ...bigSkipped, ...failed.filter((r) => bulkIds.includes(r.scenario))]);
    const rows = [...single, ...bulk];

    const machine = `Redis ${redisVersion}, Node ${process.version}, ${cpus().length}x ${cpus()[0]?.model.trim() ?? '?'}`;
    const header = `rapyer and its peers, ${quick ? 'quick' : 'full'} run. Single-record scenarios: ${ROUNDS} interleaved rounds, ` +
      `${n.toLocaleString('en-US')} calls per case (${ln} for the loop), ${singleSeconds.toFixed(1)} s. ` +
      `insertMany: ${BULK_ROUNDS} interleaved rounds of ${BULK_N.toLocaleString('en-US')} records, ${bulkSeconds.toFixed(1)} s. ` +
      `Scenarios 7-10 on ${DATA_N.toLocaleString('en-US')} records per peer (seeded untimed: ` +
      `${Object.entries(seedSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}): getMany and the query ${QUERY_ROUNDS} interleaved rounds ` +
      `(calls per case sized to ~${CASE_BUDGET_MS / 1000} s of calls), ${readSeconds.toFixed(1)} s; updateMany ${MANY_ROUNDS} rounds, ${updateSeconds.toFixed(1)} s; ` +
      `deleteMany ${MANY_ROUNDS} rounds, ${deleteSeconds.toFixed(1)} s (re-seeding included); ${dataSeconds.toFixed(1)} s in all. ${machine}.`;
    console.log(`\n${header}\n`);
    const table = printTable(rows, BASELINE);
    const targets = targetTable(rows);
    console.log(`\n${targets}`);

    const peerNotes = (Object.keys(SCENARIOS) as ScenarioId[]).map((id) => {
      const lines = peers.filter((p) => p.notes[id]).map((p) => `  - ${p.name}: ${p.notes[id]}`);
      lines.push(...(extraNotes[id] ?? []));
      return lines.length ? `- ${SCENARIOS[id]}\n${lines.join('\n')}` : '';
    }).filter(Boolean).join('\n');
    const notes = `Notes
- Every call is timed on its own; throughput = calls (records for the bulk scenarios) / summed call time, one client,
  sequential calls; p50/p99 are nearest-rank percentiles of the per-call times (insertMany: of ${BULK_ROUNDS} calls,
  updateMany and deleteMany: of ${MANY_ROUNDS} calls, so p99 = the slowest).
- ratio = p50 of the row / p50 of the ${BASELINE} row of the same scenario (above 1: slower).
- Cases are interleaved: each round runs a slice of every case, the starting case rotating per round.
- peak Node heap: the highest process.memoryUsage().heapUsed sampled after every call and every 5 ms while the
  case ran${gc ? ', after a forced full GC at the start of each slice' : ''}. The process is shared by all peers, so this
  is the level the case drove the heap to, not its own allocations alone; it matters most for insertMany
  (the ${BULK_N.toLocaleString('en-US')} input items, ~${Math.round((BULK_N * 600) / 1_048_576)} MB, are live throughout).
  For 7-10 the runner keeps only the ids it needs (the getMany sample and the ${TARGET_N.toLocaleString('en-US')} target ids per peer);
  deleteMany's re-seeding is excluded from its peak.
- Redis / record: MEMORY USAGE (SAMPLES 0) summed over every key of the peer's records and indexes (its id set,
  index sorted sets or sets, per peer), divided by its record count: for scenarios 1-5 after the single-record
  rounds (records that all hold the same sample values), for insertMany after the last round (distinct values),
  for 7-10 after seeding the data set. Every peer stores the same data: 8 scalars (age, score, status indexed
  where the peer can index), a 3-item string array and a 2-entry dict.
- All peers are checked before timing: each reads back exactly what it wrote and computes the same new values;
  getMany must return the exact records in order, the query the 50 best scores in order (every record matching).
  updateMany and deleteMany are whole jobs per call, so they are checked after their rounds (every call must
  report ${TARGET_N.toLocaleString('en-US')} records; a target's score is +1 per call; the other half is untouched;
  deleteMany leaves ${(DATA_N - TARGET_N).toLocaleString('en-US')} records).
${peerNotes}
`;
    console.log(`\n${notes}`);

    const date = new Date().toISOString().slice(0, 10);
    const subtitle = `${quick ? 'quick' : 'full'} run, ${date}; bar = 1/p50 (longer is faster), label = throughput, p50 and p50 ratio to ${BASELINE}; ${machine}`;
    const [svgSingle, svgBulk] = await writeCharts(single, bulk, subtitle);
    const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
    const [md, json] = await saveResults('latest',
      `${header}\n\nCommand: \`${command}\`, ${date}.\n\n${table}\n\n![single-record scenarios](single-record.svg)\n\n![bulk](bulk.svg)\n\n` +
      `Targets (issue 7)\n\n${targets}\n\n${notes}`, {
        date: new Date().toISOString(), mode: quick ? 'quick' : 'full', command, rounds: ROUNDS, bulkRounds: BULK_ROUNDS, bulkRecords: BULK_N,
        dataRecords: DATA_N, getMany: GET_N, targetRecords: TARGET_N, queryRounds: QUERY_ROUNDS, manyRounds: MANY_ROUNDS,
        redis: redisVersion, node: process.version, cpu: cpus()[0]?.model.trim(), cores: cpus().length,
        seconds: { single: singleSeconds, bulk: bulkSeconds, seed: seedSeconds, read: readSeconds, update: updateSeconds, delete: deleteSeconds },
        baseline: BASELINE, notes: Object.fromEntries(peers.map((p) => [p.name, p.notes])), rows,
      });
    console.log(`saved ${md}, ${json}, ${svgSingle} and ${svgBulk}`);

    // a full run with no option is the one the README shows
    if (args.length === 0) {
      const readme = join(RESULTS_DIR, '..', '..', 'README.md');
      const text = await readFile(readme, 'utf8');
      const start = text.indexOf(README_START);
      const end = text.indexOf(README_END);
      if (start < 0 || end < start) console.warn(`README.md has no bench markers: not updated`);
      else {
        const block = [
          README_START,
          '',
          `Command: \`${command}\`, ${date}. Machine: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), shared with the Redis ` +
            `server the benchmark starts and with whatever else runs there, so numbers move between runs; ${machine.split(', ').slice(0, 2).join(', ')}.`,
          '',
          header,
          '',
          table,
          '',
          '![single-record scenarios](bench/results/single-record.svg)',
          '',
          '![bulk operations and the query](bench/results/bulk.svg)',
          '',
          'Targets from issue 7, as measured by this run:',
          '',
          targets,
          '',
          'What every peer does in every scenario: the notes in [bench/results/latest.md](bench/results/latest.md).',
          '',
          README_END,
        ].join('\n');
        await writeFile(readme, text.slice(0, start) + block + text.slice(end + README_END.length));
        console.log(`updated the Benchmarks section of ${readme}`);
      }
    }
  } finally {
    // leave a shared server (REDIS_URL) as we found it: our keys only
    await unlink(allPatterns());
    for (const peer of peers) await peer.close().catch(() => undefined);
    await plain.quit();
    await server.stop();
  }
}

(args.includes('--charts') ? chartsFromSaved() : main()).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
