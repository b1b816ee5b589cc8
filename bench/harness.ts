/**
 * A tiny benchmark harness: per-call latencies, interleaved rounds, a Markdown table, saved results.
 *
 * Every call is timed on its own (not a batch divided by n) so the table can show a tail (p99), not
 * just an average; the calls of one client are sequential, so ops/s is single-client throughput.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MeasureOptions {
  /** Timed calls. */
  iterations: number;
  /** Untimed calls first, so JIT, connection buffers and the Redis script cache are warm. */
  warmup: number;
  /** Runs before every call, outside the timing (e.g. re-filling data the call consumes). */
  before?: () => Promise<void>;
  /** Runs after every call, outside the timing, with the number of calls done (progress, heap sampling). */
  after?: (done: number) => void;
}

export interface Samples {
  name: string;
  /** One latency per timed call, in microseconds. */
  us: number[];
}

/** Times `fn` call by call. */
export async function measure(name: string, fn: () => Promise<unknown>, options: MeasureOptions): Promise<Samples> {
  const us: number[] = [];
  for (let i = 0; i < options.warmup + options.iterations; i++) {
    if (options.before) await options.before();
    const start = process.hrtime.bigint();
    await fn();
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    if (i >= options.warmup) us.push(elapsed);
    options.after?.(i + 1);
  }
  return { name, us };
}

/** One line of a comparison: `variant` of `scenario`, compared with the scenario's baseline variant. */
export interface Case extends MeasureOptions {
  scenario: string;
  variant: string;
  fn: () => Promise<unknown>;
  /** Units of work per call (records of a bulk call); throughput counts these. Default 1. */
  per?: number;
  /** The unit of the throughput column: 'ops' (default) or e.g. 'records'. */
  unit?: string;
}

export interface Row {
  scenario: string;
  variant: string;
  calls: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  /** Calls per second of summed call time, times `per`: units of work per second. */
  opsPerSec: number;
  unit?: string;
  /** Highest `heapUsed` sampled while this case ran (after a forced GC where available), in bytes. */
  peakHeap?: number;
  /**
   * Redis server time per unit of work (per call, or per record of a bulk call), in microseconds:
   * the `usec` of INFO commandstats summed over every command the case sent, divided by its calls
   * (warmup included) times `per`. Independent of client and network noise.
   */
  serverUs?: number;
  /** Redis bytes per stored record: MEMORY USAGE of the variant's record and index keys / its records. */
  redisBytesPerRecord?: number;
  /** The variant could not run this scenario: why (the row then has no numbers). */
  skipped?: string;
}

/** Nearest-rank percentile (no interpolation: every reported value is one that was measured). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(scenario: string, variant: string, us: number[], per = 1): Row {
  const sorted = [...us].sort((a, b) => a - b);
  const total = us.reduce((a, b) => a + b, 0);
  return {
    scenario, variant, calls: us.length,
    medianUs: percentile(sorted, 50), p99Us: percentile(sorted, 99),
    meanUs: total / us.length, opsPerSec: (us.length * per * 1e6) / total,
  };
}

/** A row for a variant that cannot run a scenario. */
export function skippedRow(scenario: string, variant: string, why: string): Row {
  return { scenario, variant, calls: 0, medianUs: NaN, p99Us: NaN, meanUs: NaN, opsPerSec: NaN, skipped: why };
}

/**
 * Peak Node heap per case: `heapUsed` sampled after every call and every few milliseconds while a
 * case runs (the timer fires while calls wait on Redis, when their data is in flight). With
 * `--expose-gc` available, a full GC before each slice makes peaks comparable across cases.
 */
export class HeapSampler {
  private current = -1;
  private timer?: NodeJS.Timeout;
  readonly peaks = new Map<number, number>();

  constructor(private readonly gc?: () => void) {}

  begin(index: number): void {
    this.gc?.();
    this.current = index;
    this.sample();
    this.timer ??= setInterval(() => this.sample(), 5);
  }

  sample(): void {
    if (this.current < 0) return;
    const used = process.memoryUsage().heapUsed;
    if (used > (this.peaks.get(this.current) ?? 0)) this.peaks.set(this.current, used);
  }

  end(): void {
    this.sample();
    this.current = -1;
  }

  /** Runs untimed work inside a case (re-seeding data a call consumes) without counting its heap. */
  async exclude<T>(fn: () => Promise<T>): Promise<T> {
    const current = this.current;
    this.current = -1;
    try {
      return await fn();
    } finally {
      this.gc?.();
      this.current = current;
      this.sample();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** One status line on stderr, rewritten in place with \r (at most every 200 ms). */
export class Progress {
  private last = 0;
  private width = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(text: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const line = text.length > 150 ? `${text.slice(0, 149)}…` : text;
    this.stream.write(`\r${line.padEnd(this.width)}`);
    this.width = line.length;
  }

  /** Ends the current line (keeps it on screen). */
  done(text?: string): void {
    if (text !== undefined) this.update(text, true);
    this.stream.write('\n');
    this.width = 0;
    this.last = 0;
  }
}

/** What ServerTime needs of a client: one raw command. */
export interface CommandSender {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * Server time per case, from INFO commandstats: CONFIG RESETSTAT before each slice, the summed
 * `usec` of every command after it (INFO and CONFIG themselves left out), and untimed work inside
 * a slice (a case's `before`) subtracted.
 */
export class ServerTime {
  private readonly usec = new Map<number, number>();
  private readonly calls = new Map<number, number>();
  private excluded: Usec = { scripts: 0, commands: 0 };

  constructor(private readonly client: CommandSender) {}

  /**
   * Commands a script calls are counted twice (in the script's own usec and in their own stats),
   * and so are a transaction's (in EXEC's and their own): scripts and plain commands are summed
   * apart, and a slice where scripts ran counts only its scripts.
   */
  private async read(): Promise<Usec> {
    const info = String(await this.client.sendCommand(['INFO', 'commandstats']));
    const out: Usec = { scripts: 0, commands: 0 };
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) {
      const usec = Number(m[2]);
      if (/^(eval|evalsha|evalsha_ro|eval_ro|fcall|fcall_ro|script\|load)$/.test(m[1])) out.scripts += usec;
      else if (!/^(info|config|exec|multi)/.test(m[1])) out.commands += usec;
    }
    return out;
  }

  async begin(): Promise<void> {
    await this.client.sendCommand(['CONFIG', 'RESETSTAT']);
    this.excluded = { scripts: 0, commands: 0 };
  }

  /** Runs untimed work inside a slice without counting its server time. */
  async exclude(fn: () => Promise<void>): Promise<void> {
    const before = await this.read();
    await fn();
    const after = await this.read();
    this.excluded.scripts += after.scripts - before.scripts;
    this.excluded.commands += after.commands - before.commands;
  }

  async end(index: number, calls: number): Promise<void> {
    const now = await this.read();
    const scripts = now.scripts - this.excluded.scripts;
    const usec = scripts > 0 ? scripts : now.commands - this.excluded.commands;
    this.usec.set(index, (this.usec.get(index) ?? 0) + usec);
    this.calls.set(index, (this.calls.get(index) ?? 0) + calls);
  }

  /** Microseconds per call of case `index`, or undefined when it never ran. */
  perCall(index: number): number | undefined {
    const calls = this.calls.get(index);
    return calls ? this.usec.get(index)! / calls : undefined;
  }

  clear(): void {
    this.usec.clear();
    this.calls.clear();
  }
}

interface Usec { scripts: number; commands: number }

export interface InterleaveHooks {
  /** After each round (outside every timing). */
  onRound?: (round: number) => void | Promise<void>;
  /** Live progress: the case running, its calls done in this slice and the slice's size. */
  onCall?: (round: number, c: Case, done: number, share: number) => void;
  heap?: HeapSampler;
  server?: ServerTime;
}

/**
 * Runs every case in `rounds` slices, alternating A B A B ... so slow drift of the machine (thermal
 * throttling, other load, a growing Redis keyspace) lands on every variant alike instead of on
 * whichever ran last. The starting case rotates each round so none always runs right after a
 * particular other one. Warmup happens once, in the first round.
 */
export async function interleave(cases: Case[], rounds: number, hooks: InterleaveHooks | ((round: number) => void | Promise<void>) = {}): Promise<Row[]> {
  const h: InterleaveHooks = typeof hooks === 'function' ? { onRound: hooks } : hooks;
  const samples = cases.map((): number[] => []);
  h.heap?.peaks.clear(); // peaks are per case index: a sampler reused across interleave() calls starts afresh
  h.server?.clear();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      const c = cases[i];
      // spread the iterations over the rounds; the last round takes the remainder
      const share = Math.floor(c.iterations / rounds) + (r === rounds - 1 ? c.iterations % rounds : 0);
      const warmup = r === 0 ? c.warmup : 0;
      const before = c.before;
      await h.server?.begin();
      h.heap?.begin(i);
      const s = await measure(c.variant, c.fn, {
        iterations: share, warmup, before: before && h.server ? () => h.server!.exclude(before) : before,
        after: (done) => {
          h.heap?.sample();
          h.onCall?.(r + 1, c, done, share + warmup);
        },
      });
      h.heap?.end();
      await h.server?.end(i, share + warmup);
      samples[i].push(...s.us);
    }
    await h.onRound?.(r + 1);
  }
  return cases.map((c, i) => ({
    ...summarize(c.scenario, c.variant, samples[i], c.per),
    ...(c.unit ? { unit: c.unit } : {}),
    ...(h.heap?.peaks.has(i) ? { peakHeap: h.heap.peaks.get(i) } : {}),
    ...(h.server?.perCall(i) !== undefined ? { serverUs: h.server.perCall(i)! / (c.per ?? 1) } : {}),
  }));
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A duration in the unit that suits it: µs, ms or s. */
export function fmtTime(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (us < 1_000) return `${fmt(us, 1)} µs`;
  if (us < 1_000_000) return `${fmt(us / 1_000, us < 10_000 ? 2 : 1)} ms`;
  return `${fmt(us / 1_000_000, 2)} s`;
}

const fmtBytes = (b: number | undefined): string =>
  b === undefined || !Number.isFinite(b) ? '–' : b < 10_240 ? `${fmt(b)} B` : `${fmt(b / 1024, 1)} KiB`;
const fmtMB = (b: number | undefined): string => (b === undefined ? '–' : `${fmt(b / 1_048_576, 1)} MB`);

/**
 * A Markdown table, one row per scenario and variant; `ratio` is the row's median over the median of
 * the `baseline` variant of the same scenario (above 1: slower than the baseline). Skipped rows say why.
 */
export function printTable(rows: Row[], baseline: string, out: (line: string) => void = console.log): string {
  const lines = [
    `| scenario | variant | throughput | p50 | p99 | ratio (p50 vs ${baseline}) | Redis time / unit | peak Node heap | Redis / record |`,
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    if (row.skipped) {
      lines.push(`| ${row.scenario} | ${row.variant} | skipped (see notes) | – | – | – | – | – | ${fmtBytes(row.redisBytesPerRecord)} |`);
      continue;
    }
    const base = rows.find((r) => r.scenario === row.scenario && r.variant === baseline && !r.skipped);
    const ratio = base ? `${fmt(row.medianUs / base.medianUs, 2)}×` : 'n/a';
    const unit = row.unit ?? 'ops';
    lines.push(`| ${row.scenario} | ${row.variant} | ${fmt(row.opsPerSec)} ${unit}/s | ${fmtTime(row.medianUs)} | ${fmtTime(row.p99Us)} | ${ratio} | ` +
      `${row.serverUs === undefined ? '–' : fmtTime(row.serverUs)} | ${fmtMB(row.peakHeap)} | ${fmtBytes(row.redisBytesPerRecord)} |`);
  }
  const table = lines.join('\n');
  out(table);
  return table;
}

/** bench/results of the repository, whether this runs from bench/ (tsx) or compiled from dist-bench/bench/. */
function resultsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'bench', 'results');
}

const RESULTS = resultsDir();

export const RESULTS_DIR = RESULTS;

/** Writes bench/results/<name> as is (an SVG chart, ...); returns its path. */
export async function saveFile(name: string, text: string): Promise<string> {
  await mkdir(RESULTS, { recursive: true });
  const path = join(RESULTS, name);
  await writeFile(path, text);
  return path;
}

/** Writes bench/results/<name>.md and bench/results/<name>.json; returns the two paths. */
export async function saveResults(name: string, markdown: string, json: unknown): Promise<[string, string]> {
  await mkdir(RESULTS, { recursive: true });
  const md = join(RESULTS, `${name}.md`);
  const js = join(RESULTS, `${name}.json`);
  await writeFile(md, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  await writeFile(js, `${JSON.stringify(json, null, 2)}\n`);
  return [md, js];
}
