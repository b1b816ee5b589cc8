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
 * Options: --quick (under two minutes), --only=rapyer,nohm (a subset of the peers),
 * --bulk=N (records per insertMany). REDIS_URL uses a running server instead of an embedded one;
 * only this benchmark's keys are touched and they are removed at the end.
 */
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient } from 'redis';
import { startRedis } from '../test/helpers/embedded-redis.js';
import { barChart } from './chart.js';
import {
  HeapSampler, Progress, interleave, printTable, saveFile, saveResults, skippedRow, type Case, type Row,
} from './harness.js';
import { luaPeer } from './peers/lua.js';
import { nodeRedisPeer } from './peers/node-redis.js';
import { nohmPeer } from './peers/nohm.js';
import { rapyerPeer } from './peers/rapyer.js';
import { redisOmPeer } from './peers/redis-om.js';
import { bulkItem, sample, type LoopItem, type LoopJob, type Peer, type ScenarioId } from './peers/types.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// per case: [iterations, warmup]; the loop case is ~1000x the work per call, so it gets fewer calls
const SIMPLE: [number, number] = quick ? [2_000, 200] : [20_000, 1_000];
const LOOP: [number, number] = quick ? [40, 4] : [400, 20];
const ROUNDS = quick ? 5 : 10;
const BULK_N = Number(option('bulk') ?? (quick ? 10_000 : 100_000));
const BULK_ROUNDS = quick ? 2 : 3;
const INVENTORY = 1_000;
const EXPIRED_EVERY = 10; // every 10th item is expired: the loop removes 100 of 1,000
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
};
const PENDING = [
  '7. getMany of 10,000', '8. range + equality query, sorted, limit 50, on 200,000 records',
  '9. updateMany by query on 100,000 records', '10. deleteMany of 100,000',
];

/** A full GC before each slice, where V8 lets us have one, so heap peaks compare across cases. */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const inventory: LoopItem[] = Array.from({ length: INVENTORY }, (_, i) => ({ sku: `sku-${i}`, qty: i % 7, expired: i % EXPIRED_EVERY === 3 }));
/** Compares typed records as JSON (Dates as ISO text), whatever class or prototype holds them. */
const plainData = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
const message = (err: unknown): string => String((err as Error)?.message ?? err).split('\n')[0].slice(0, 160);

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
    const pipeTargets = new Map<Peer, string>();
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

      const pipeline5 = peer.pipeline5?.bind(peer);
      if (!pipeline5 || !peer.reset) skip('pipeline5', peer.notes.pipeline5 ?? 'not supported');
      else {
        const target = await peer.createOne(sample);
        if (await guard('pipeline5', async () => {
          await pipeline5(target);
          const after = await peer.getOne(target);
          deepStrictEqual(
            { score: after.score, name: after.name, age: after.age, active: after.active },
            { score: sample.score + 10, name: `${sample.name}x`, age: sample.age + 1, active: !sample.active },
          );
          // node-redis keeps the appended tags in a separate list (see its note)
          if (peer.name !== 'node-redis') deepStrictEqual(after.tags, [...sample.tags, 'new']);
          await peer.reset!(target, sample);
          deepStrictEqual(plainData(await peer.getOne(target)), plainData(sample), 'reset');
        })) {
          pipeTargets.set(peer, target);
          cases.push({ scenario: SCENARIOS.pipeline5, variant: peer.name, fn: () => pipeline5(target), iterations: n, warmup: w });
        }
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
    const started = Date.now();
    const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const singleRows = await interleave(cases, ROUNDS, {
      heap,
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
      heap,
      onCall: (r, c) => progress.update(`[round ${r}/${BULK_ROUNDS}] ${c.scenario} · ${c.variant} · done · ${((Date.now() - bulkStarted) / 1000).toFixed(1)} s`, true),
      onRound: (r) => {
        progress.done(`[round ${r}/${BULK_ROUNDS}] insertMany: ${bulkCases.length} cases done · ${((Date.now() - bulkStarted) / 1000).toFixed(1)} s`);
        current.round = r + 1;
      },
    });
    heap.stop();
    const bulkSeconds = (Date.now() - bulkStarted) / 1000;
    // each peer still holds its last round's records: measure them
    for (const row of bulkRows) {
      const peer = peers.find((p) => p.name === row.variant)!;
      row.redisBytesPerRecord = await perRecord(peer);
    }

    // ---------------------------------------------------------------------------------------------
    // report
    // ---------------------------------------------------------------------------------------------
    const order = Object.values(SCENARIOS);
    const variants = FACTORIES.map(([name]) => name);
    const sortRows = (rows: Row[]): Row[] => rows.sort((a, b) =>
      order.indexOf(a.scenario) - order.indexOf(b.scenario) || variants.indexOf(a.variant) - variants.indexOf(b.variant));
    const single = sortRows([...singleRows, ...skipped, ...failed.filter((r) => r.scenario !== SCENARIOS.insertMany)]);
    const bulk = sortRows([...bulkRows, ...bulkSkipped, ...failed.filter((r) => r.scenario === SCENARIOS.insertMany)]);
    const rows = [...single, ...bulk];

    const machine = `Redis ${redisVersion}, Node ${process.version}, ${cpus().length}x ${cpus()[0]?.model.trim() ?? '?'}`;
    const header = `rapyer and its peers, ${quick ? 'quick' : 'full'} run. Single-record scenarios: ${ROUNDS} interleaved rounds, ` +
      `${n.toLocaleString('en-US')} calls per case (${ln} for the loop), ${singleSeconds.toFixed(1)} s. ` +
      `insertMany: ${BULK_ROUNDS} interleaved rounds of ${BULK_N.toLocaleString('en-US')} records, ${bulkSeconds.toFixed(1)} s. ${machine}.`;
    console.log(`\n${header}\n`);
    const table = printTable(rows, BASELINE);

    const peerNotes = (Object.keys(SCENARIOS) as ScenarioId[]).map((id) => {
      const lines = peers.filter((p) => p.notes[id]).map((p) => `  - ${p.name}: ${p.notes[id]}`);
      return lines.length ? `- ${SCENARIOS[id]}\n${lines.join('\n')}` : '';
    }).filter(Boolean).join('\n');
    const notes = `Notes
- Every call is timed on its own; throughput = calls (records for insertMany) / summed call time, one client,
  sequential calls; p50/p99 are nearest-rank percentiles of the per-call times (insertMany: of ${BULK_ROUNDS} calls, so p99 = the slowest).
- ratio = p50 of the row / p50 of the ${BASELINE} row of the same scenario (above 1: slower).
- Cases are interleaved: each round runs a slice of every case, the starting case rotating per round.
- peak Node heap: the highest process.memoryUsage().heapUsed sampled after every call and every 5 ms while the
  case ran${gc ? ', after a forced full GC at the start of each slice' : ''}. The process is shared by all peers, so this
  is the level the case drove the heap to, not its own allocations alone; it matters most for insertMany
  (the ${BULK_N.toLocaleString('en-US')} input items, ~${Math.round((BULK_N * 600) / 1_048_576)} MB, are live throughout).
- Redis / record: MEMORY USAGE (SAMPLES 0) summed over every key of the peer's records and indexes (its id set,
  index sorted sets or sets, per peer), divided by its record count: for scenarios 1-5 after the single-record
  rounds (records that all hold the same sample values), for insertMany after the last round (distinct values).
  Every peer stores the same data: 8 scalars (age, score, status indexed where the peer can index),
  a 3-item string array and a 2-entry dict.
- All peers are checked before timing: each reads back exactly what it wrote and computes the same new values.
${peerNotes}
- Not run yet (rapyer's bulk operations and queries are being built): ${PENDING.join('; ')}.
`;
    console.log(`\n${notes}`);

    const subtitle = `${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 10)}; bar = 1/p50 (longer is faster), label = throughput, p50 and p50 ratio to ${BASELINE}; ${machine}`;
    const svgSingle = await saveFile('single-record.svg', `${barChart('rapyer vs peers: single-record scenarios', single, BASELINE, subtitle)}\n`);
    const svgBulk = await saveFile('bulk.svg', `${barChart(`rapyer vs peers: bulk (${BULK_N.toLocaleString('en-US')} records)`, bulk, BASELINE, subtitle)}\n`);
    const [md, json] = await saveResults('latest',
      `${header}\n\n${table}\n\n![single-record scenarios](single-record.svg)\n\n![bulk](bulk.svg)\n\n${notes}`, {
        date: new Date().toISOString(), mode: quick ? 'quick' : 'full', rounds: ROUNDS, bulkRounds: BULK_ROUNDS, bulkRecords: BULK_N,
        redis: redisVersion, node: process.version, cpu: cpus()[0]?.model.trim(), cores: cpus().length,
        seconds: { single: singleSeconds, bulk: bulkSeconds }, baseline: BASELINE,
        notes: Object.fromEntries(peers.map((p) => [p.name, p.notes])), rows,
      });
    console.log(`saved ${md}, ${json}, ${svgSingle} and ${svgBulk}`);
  } finally {
    // leave a shared server (REDIS_URL) as we found it: our keys only
    await unlink(allPatterns());
    for (const peer of peers) await peer.close().catch(() => undefined);
    await plain.quit();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
