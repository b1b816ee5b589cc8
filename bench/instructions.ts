/**
 * `npx tsx bench/instructions.ts [create|incr|pipeline5|get|insertMany|updateMany|deleteMany ...] [--peers=rapyer,lua,node-redis]
 * [--n1=1000] [--n2=4000] [--in-flight=50]`: redis-server instructions per operation, counted by
 * valgrind's callgrind, for rapyer, the hand-written Lua and node-redis by hand (bench/peers/).
 *
 * Why instructions: server time from INFO commandstats moves by more than 10% between runs on a
 * shared 2-core machine; the instructions the server executes for the same work are the same
 * whatever the load (two runs of the default bench agreed within 1.5%, most rows within 0.5%; what
 * still moves is how many calls one socket read brings), so generated and hand-written Lua compare
 * well below the 10% level. The counts are the server's alone: the client's work is not in them.
 *
 * What is counted: every instruction of the redis-server process (all threads) between two markers,
 * so for node-redis all the commands of one operation, and for the scripts the network, parsing,
 * EVALSHA dispatch and the script itself. Each peer gets its own redis-server under callgrind, started
 * with `--dump-before=lastsaveCommand`: every LASTSAVE (sent by this file only, once all calls of a
 * window are answered) writes the counts since the previous one, so one server serves every scenario.
 * Per scenario: untimed preparation (the target records, then WARMUP calls that load and compile the
 * scripts), a window of n1 calls, a window of n2 calls; reported is (I(n2) - I(n1)) / (n2 - n1), so
 * what every window pays once (the marker, the first and last round trip) cancels out. The server runs
 * with `--hz 1`: its cron work (~120k instructions a tick) grows with the wall time of a window, not
 * with its calls, and one tick a second makes that a few instructions per call.
 *
 * Every server first gets BASE_RECORDS records (untimed), so each scenario's count is the same
 * whichever scenarios ran before it.
 *
 * Scenarios: create = createOne(sample) (the data set grows, as in real use); incr = incrementOne and
 * get = getOne, each lane on its own record; pipeline5 = pipeline5 on a record still in its `sample`
 * state: each call has its own record, created during preparation (on one record the name and the
 * tags grow with every call, and resets between batches would be counted too).
 * Calls run on `--in-flight` lanes, each lane's calls one after another, all on the peer's one
 * connection (50 in flight by default; `--in-flight=1` gives each call its own round trip, which
 * moved incr and pipeline5 by under 2%).
 *
 * Needs valgrind (Debian package `valgrind`) and redis-server on PATH. Writes
 * bench/results/instructions.md and .json (not the main bench's latest.*) when run with no argument,
 * instructions-partial.* (not committed) otherwise, so a quick look does not replace the full run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { freePort } from '../test/helpers/ports.js';
import { fmt, Progress, saveResults } from './harness.js';
import { luaPeer } from './peers/lua.js';
import { nodeRedisPeer } from './peers/node-redis.js';
import { rapyerPeer } from './peers/rapyer.js';
import { bulkItem, sample, withConcurrency, type Peer } from './peers/types.js';

/** Calls of each scenario before its windows: loads and compiles the peer's scripts, fills caches. */
const WARMUP = 50;
/**
 * Records every server holds before the first scenario: the indexes are then past Redis's small
 * listpack encoding (128 entries), whose O(n) updates would make a scenario's count depend on how
 * many records the scenarios before it created.
 */
const BASE_RECORDS = 1_000;
/** The only command this file sends to mark a window's end (the peers never send it). */
const MARKER = 'lastsaveCommand';

/** Call number i (0-based over the scenario) on lane `lane`: each lane runs its calls one after another. */
type Op = (i: number, lane: number) => Promise<unknown>;
/** Untimed: whatever `calls` calls of the scenario on `lanes` lanes need; resolves to the call. */
type Prepare = (peer: Peer, calls: number, lanes: number) => Promise<Op>;

/** `count` new `sample` records, created `lanes` at a time; resolves to their ids. */
async function records(peer: Peer, count: number, lanes: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => '');
  await withConcurrency(ids, lanes, async (_, i) => void (ids[i] = await peer.createOne(sample)));
  return ids;
}

const SCENARIOS: Record<string, Prepare> = {
  create: async (p) => () => p.createOne(sample),
  // one record per lane: concurrent calls on one record would find rapyer's copy stale, and its
  // script then returns the whole hash (a refresh a single caller never pays)
  incr: async (p, _, lanes) => {
    const ids = await records(p, lanes, lanes);
    return (_i, lane) => p.incrementOne!(ids[lane]);
  },
  pipeline5: async (p, calls, lanes) => {
    const ids = await records(p, calls, lanes);
    return (i) => p.pipeline5!(ids[i]);
  },
  get: async (p, _, lanes) => {
    const ids = await records(p, lanes, lanes);
    return (_i, lane) => p.getOne(ids[lane]);
  },
};

/**
 * Bulk scenarios, counted per record: each call is one bulk operation, the calls run one after
 * another, and `before` (untimed) runs in a window of its own ahead of its call, which is left out.
 * A call resolves to the records it handled; reported is (I(n2) - I(n1)) / (records(n2) - records(n1)).
 */
interface Bulk {
  /** Untimed, once: what every call needs. */
  prepare?(peer: Peer): Promise<void>;
  before?(peer: Peer, i: number): Promise<void>;
  op(peer: Peer, i: number): Promise<number>;
}

/** Records per bulk call: one default chunk of rapyer's insertMany and of its update/delete by query. */
const BULK = 1_000;
/** updateMany and deleteMany by query act on age < AGE_BELOW: half of bulkItem's ages (i % 90). */
const AGE_BELOW = 45;
/** The records of bulk call i: BULK of them, numbered apart from every other call's. */
const bulkItems = (i: number): ReturnType<typeof bulkItem>[] => Array.from({ length: BULK }, (_, k) => bulkItem(i * BULK + k));
/** Bulk calls: WARMUP_BULK before the windows (the first update and delete also take the base records), then N1_BULK and N2_BULK. */
const [WARMUP_BULK, N1_BULK, N2_BULK] = [1, 2, 6];

const BULK_SCENARIOS: Record<string, Bulk> = {
  insertMany: { op: (p, i) => p.insertMany!(bulkItems(i)) },
  // every call updates the same 2 * BULK matches (BULK of the seeded 2 * BULK, plus the base records)
  updateMany: {
    prepare: async (p) => void (await p.seed!([...bulkItems(1_000_000), ...bulkItems(1_000_001)])),
    op: (p) => p.updateMany!(AGE_BELOW, []),
  },
  // every call deletes the BULK matches seeded (untimed) just before it
  deleteMany: {
    before: async (p, i) => void (await p.seed!([...bulkItems(2_000_000 + 2 * i), ...bulkItems(2_000_001 + 2 * i)])),
    op: (p) => p.deleteMany!(AGE_BELOW, []),
  },
};

const PEERS: Record<string, { label: string; create(url: string): Promise<Peer> }> = {
  rapyer: { label: 'rapyer', create: rapyerPeer },
  lua: { label: 'Lua by hand', create: luaPeer },
  'node-redis': { label: 'node-redis', create: nodeRedisPeer },
};

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N1 = Number(option('n1', '1000'));
const N2 = Number(option('n2', '4000'));
const IN_FLIGHT = Number(option('in-flight', '50'));
const scenarios = args.filter((a) => !a.startsWith('--'));
const peerNames = option('peers', Object.keys(PEERS).join(',')).split(',');
if (scenarios.length === 0) scenarios.push(...Object.keys(SCENARIOS), ...Object.keys(BULK_SCENARIOS));
const known = [...Object.keys(SCENARIOS), ...Object.keys(BULK_SCENARIOS)];
for (const s of scenarios) if (!known.includes(s)) throw new Error(`unknown scenario ${s}; known: ${known.join(', ')}`);
for (const p of peerNames) if (!PEERS[p]) throw new Error(`unknown peer ${p}; known: ${Object.keys(PEERS).join(', ')}`);
if (!(N2 > N1 && N1 >= 0 && IN_FLIGHT >= 1)) throw new Error('need 0 <= n1 < n2 and in-flight >= 1');

function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

for (const [binary, hint] of [['valgrind', 'install the Debian package: apt-get install valgrind'], ['redis-server', 'install Redis 7']]) {
  if (!which(binary)) {
    console.error(`bench/instructions.ts counts instructions with valgrind's callgrind and needs ${binary} on PATH: ${hint}`);
    process.exit(1);
  }
}

/** No reconnection: a refused connection means the server is not up yet, or gone. */
const plainClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });

/** A client once the server accepts connections (redis-server starts slowly under valgrind). */
async function connectWhenUp(url: string, proc: ChildProcess): Promise<ReturnType<typeof plainClient>> {
  for (let waited = 0; waited < 120_000; waited += 300) {
    if (proc.exitCode !== null) throw new Error(`valgrind exited with ${proc.exitCode} before redis-server answered`);
    const client = plainClient(url);
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch {
      await sleep(300);
    }
  }
  throw new Error(`redis-server under valgrind did not answer on ${url} within 120 s`);
}

/** The counts of a dump: the `totals:` line of a callgrind file (what callgrind_annotate calls PROGRAM TOTALS). */
function parseDump(text: string): { part: number; instructions: number } {
  const part = /^part: (\d+)$/m.exec(text);
  const totals = /^totals: (\d+)/m.exec(text);
  if (!part || !totals) throw new Error('callgrind output without part or totals line');
  return { part: Number(part[1]), instructions: Number(totals[1]) };
}

/** redis-server under callgrind; `mark(label)` closes a window, `stop()` resolves to each window's instructions. */
async function startCallgrind(): Promise<{ url: string; mark(label: string): Promise<void>; stop(): Promise<Map<string, number>> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rapyer-cg-'));
  const port = await freePort();
  const proc = spawn('valgrind', [
    '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.out')}`, `--dump-before=${MARKER}`, '--dump-line=no',
    'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--hz', '1', '--dir', dir,
  ], { stdio: 'ignore' });
  const exited = new Promise((ok) => proc.once('exit', ok));
  const url = `redis://127.0.0.1:${port}`;
  const marker = await connectWhenUp(url, proc);
  // window k (1-based) is the callgrind part ended by the k-th marker; the first ends the server's start
  const labels = ['(start)'];
  await marker.sendCommand(['LASTSAVE']);
  return {
    url,
    async mark(label) {
      labels.push(label);
      await marker.sendCommand(['LASTSAVE']);
    },
    async stop() {
      await marker.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => undefined); // the connection drops as it exits
      await exited;
      const out = new Map<string, number>();
      for (const file of (await readdir(dir)).filter((f) => /^cg\.out\.\d+$/.test(f))) {
        const { part, instructions } = parseDump(await readFile(join(dir, file), 'utf8'));
        out.set(labels[part - 1], instructions);
      }
      await rm(dir, { recursive: true, force: true });
      return out;
    },
  };
}

interface Result {
  scenario: string; peer: string;
  /** Instructions per call, or per record for a bulk scenario. */
  perCall: number;
  windows: { calls: number; records?: number; instructions: number }[];
}

/** Calls op(from) .. op(from + n - 1) on IN_FLIGHT lanes, so IN_FLIGHT calls are in flight at a time. */
async function calls(op: Op, from: number, n: number): Promise<void> {
  const lane = async (w: number): Promise<void> => {
    for (let i = from + w; i < from + n; i += IN_FLIGHT) await op(i, w);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, (_, w) => lane(w)));
}

async function measurePeer(name: string, progress: Progress): Promise<Result[]> {
  const { label, create } = PEERS[name];
  const server = await startCallgrind();
  const peer = await create(server.url);
  progress.update(`${label}: ${BASE_RECORDS} records to start with`, true);
  await records(peer, BASE_RECORDS, IN_FLIGHT);
  const bulkWindows = new Map<string, { calls: number; records: number; labels: string[] }[]>();
  // node-redis by hand cannot query: its update and delete take ids, which these scenarios do not keep
  for (const scenario of scenarios.filter((s) => BULK_SCENARIOS[s] && name !== 'node-redis')) {
    const bulk = BULK_SCENARIOS[scenario];
    progress.update(`${label}: ${scenario}, preparing`, true);
    await bulk.prepare?.(peer);
    let i = 0;
    const call = async (label: string): Promise<number> => {
      if (bulk.before) {
        await bulk.before(peer, i);
        await server.mark(`${label} before ${i}`);
      }
      const records = await bulk.op(peer, i++);
      await server.mark(`${label} ${i}`);
      return records;
    };
    for (let w = 0; w < WARMUP_BULK; w++) await call(`${scenario} warmup`);
    const windows = [];
    for (const n of [N1_BULK, N2_BULK]) {
      progress.update(`${label}: ${scenario}, ${n} calls`, true);
      const window = { calls: n, records: 0, labels: [] as string[] };
      for (let k = 0; k < n; k++) {
        window.labels.push(`${scenario} w${n} ${i + 1}`);
        window.records += await call(`${scenario} w${n}`);
      }
      windows.push(window);
    }
    bulkWindows.set(scenario, windows);
  }
  for (const scenario of scenarios.filter((s) => SCENARIOS[s])) {
    progress.update(`${label}: ${scenario}, preparing`, true);
    const op = await SCENARIOS[scenario](peer, WARMUP + N1 + N2, IN_FLIGHT);
    await calls(op, 0, WARMUP);
    await server.mark(`${scenario} prepare`);
    progress.update(`${label}: ${scenario}, ${N1} calls`, true);
    await calls(op, WARMUP, N1);
    await server.mark(`${scenario} n1`);
    progress.update(`${label}: ${scenario}, ${N2} calls`, true);
    await calls(op, WARMUP + N1, N2);
    await server.mark(`${scenario} n2`);
  }
  await peer.close();
  const counts = await server.stop();
  progress.done(`${label}: done`);
  return scenarios.filter((s) => SCENARIOS[s] || bulkWindows.has(s)).map((scenario) => {
    const bulk = bulkWindows.get(scenario);
    if (bulk) {
      const windows = bulk.map((w) => ({ calls: w.calls, records: w.records, instructions: w.labels.reduce((sum, l) => sum + counts.get(l)!, 0) }));
      const [a, b] = windows;
      return { scenario, peer: label, perCall: (b.instructions - a.instructions) / (b.records - a.records), windows };
    }
    const [i1, i2] = [counts.get(`${scenario} n1`)!, counts.get(`${scenario} n2`)!];
    return {
      scenario, peer: label, perCall: (i2 - i1) / (N2 - N1),
      windows: [{ calls: N1, instructions: i1 }, { calls: N2, instructions: i2 }],
    };
  });
}

/** The Markdown table: one row per scenario, one column per peer, and rapyer over the hand-written Lua. */
function table(results: Result[]): string {
  const peers = peerNames.map((p) => PEERS[p].label);
  const ratio = peers.includes('rapyer') && peers.includes('Lua by hand');
  const lines = [
    `| scenario | ${peers.join(' | ')} |${ratio ? ' rapyer / Lua by hand |' : ''}`,
    `|---|${peers.map(() => '--:|').join('')}${ratio ? '--:|' : ''}`,
  ];
  for (const scenario of scenarios) {
    const per = (peer: string): number => results.find((r) => r.scenario === scenario && r.peer === peer)?.perCall ?? NaN;
    const cells = peers.map((p) => (Number.isNaN(per(p)) ? '–' : fmt(per(p))));
    if (ratio) cells.push(`${fmt(per('rapyer') / per('Lua by hand'), 2)}×`);
    lines.push(`| ${scenario}${BULK_SCENARIOS[scenario] ? ' (per record)' : ''} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const started = Date.now();
const progress = new Progress();
const results: Result[] = [];
for (const name of peerNames) results.push(...(await measurePeer(name, progress)));
const seconds = (Date.now() - started) / 1000;
const command = `npx tsx bench/instructions.ts${args.length ? ` ${args.join(' ')}` : ''}`;
const redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1];
const valgrind = execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
const bulkNote = scenarios.some((s) => BULK_SCENARIOS[s])
  ? `; bulk rows: per record, ${BULK.toLocaleString('en-US')} records per call, calls one at a time, windows of ${N1_BULK} and ${N2_BULK} calls after ${WARMUP_BULK}`
  : '';
const markdown = `redis-server instructions per operation (callgrind; (I(n2) - I(n1)) / (n2 - n1), n1 = ${N1}, n2 = ${N2}, ` +
  `${IN_FLIGHT} in flight${bulkNote})\n\n${table(results)}\n\nCommand: \`${command}\`, ${new Date().toISOString()}, ${seconds.toFixed(0)} s; ` +
  `Redis ${redis}, ${valgrind}.`;
console.log(`\n${markdown}`);
const [md, json] = await saveResults(args.length ? 'instructions-partial' : 'instructions', markdown, {
  date: new Date().toISOString(), command, n1: N1, n2: N2, inFlight: IN_FLIGHT, warmup: WARMUP, seconds, redis, valgrind, results,
});
console.log(`\nsaved ${md} and ${json}`);
