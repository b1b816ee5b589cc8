/**
 * A tiny benchmark harness: per-call latencies, interleaved rounds, a Markdown table, saved results.
 *
 * Every call is timed on its own (not a batch divided by n) so the table can show a tail (p99), not
 * just an average; the calls of one client are sequential, so ops/s is single-client throughput.
 */
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
  }
  return { name, us };
}

/** One line of a comparison: `variant` of `scenario`, compared with the scenario's baseline variant. */
export interface Case extends MeasureOptions {
  scenario: string;
  variant: string;
  fn: () => Promise<unknown>;
}

export interface Row {
  scenario: string;
  variant: string;
  calls: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  opsPerSec: number;
}

/** Nearest-rank percentile (no interpolation: every reported value is one that was measured). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(scenario: string, variant: string, us: number[]): Row {
  const sorted = [...us].sort((a, b) => a - b);
  const total = us.reduce((a, b) => a + b, 0);
  return {
    scenario, variant, calls: us.length,
    medianUs: percentile(sorted, 50), p99Us: percentile(sorted, 99),
    meanUs: total / us.length, opsPerSec: (us.length * 1e6) / total,
  };
}

/**
 * Runs every case in `rounds` slices, alternating A B A B ... so slow drift of the machine (thermal
 * throttling, other load, a growing Redis keyspace) lands on every variant alike instead of on
 * whichever ran last. The starting case rotates each round so none always runs right after a
 * particular other one. Warmup happens once, in the first round.
 */
export async function interleave(cases: Case[], rounds: number, onRound?: (round: number) => void | Promise<void>): Promise<Row[]> {
  const samples = cases.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      const c = cases[i];
      // spread the iterations over the rounds; the last round takes the remainder
      const share = Math.floor(c.iterations / rounds) + (r === rounds - 1 ? c.iterations % rounds : 0);
      const s = await measure(c.variant, c.fn, { iterations: share, warmup: r === 0 ? c.warmup : 0, before: c.before });
      samples[i].push(...s.us);
    }
    await onRound?.(r + 1);
  }
  return cases.map((c, i) => summarize(c.scenario, c.variant, samples[i]));
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * A Markdown table, one row per scenario and variant; `ratio` is the row's median over the median of
 * the `baseline` variant of the same scenario (above 1: slower than the baseline).
 */
export function printTable(rows: Row[], baseline: string, out: (line: string) => void = console.log): string {
  const lines = [
    '| scenario | variant | median µs | p99 µs | ops/s | ratio (median vs ' + baseline + ') |',
    '|---|---|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    const base = rows.find((r) => r.scenario === row.scenario && r.variant === baseline);
    const ratio = base ? `${fmt(row.medianUs / base.medianUs, 2)}×` : 'n/a';
    lines.push(`| ${row.scenario} | ${row.variant} | ${fmt(row.medianUs, 1)} | ${fmt(row.p99Us, 1)} | ${fmt(row.opsPerSec)} | ${ratio} |`);
  }
  const table = lines.join('\n');
  out(table);
  return table;
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes bench/results/<name>.md and bench/results/<name>.json; returns the two paths. */
export async function saveResults(name: string, markdown: string, json: unknown): Promise<[string, string]> {
  await mkdir(RESULTS, { recursive: true });
  const md = join(RESULTS, `${name}.md`);
  const js = join(RESULTS, `${name}.json`);
  await writeFile(md, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  await writeFile(js, `${JSON.stringify(json, null, 2)}\n`);
  return [md, js];
}
