/**
 * A hand-written SVG bar chart of one scenario group: a panel per scenario, a bar per variant,
 * bar length = throughput (longer is better) on the panel's own scale, labelled with throughput,
 * p50 and the ratio to the baseline. No dependency: the file is plain SVG text.
 */
import { fmtTime, type Row } from './harness.js';

const COLORS: Record<string, string> = {
  rapyer: '#d6336c',
  'node-redis': '#1c7ed6',
  'Lua by hand': '#2f9e44',
  'redis-om': '#f08c00',
  nohm: '#7048e8',
  'nohm (find + sort)': '#9775fa',
};
const FALLBACK = ['#495057', '#0ca678', '#e8590c', '#3bc9db'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Long notes are cut (before escaping, so no entity is cut in half); the full note is in latest.md. */
const clip = (s: string, max = 120): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const num = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

export function barChart(title: string, rows: Row[], baseline: string, subtitle = ''): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const W = 960;
  const LABEL = 130; // variant names
  const TEXT = 360; // value labels right of the longest bar
  const BAR = 20;
  const GAP = 6;
  const barMax = W - LABEL - TEXT - 20;
  const out: string[] = [];
  let y = subtitle ? 62 : 46;
  const colorOf = (variant: string, i: number): string => COLORS[variant] ?? FALLBACK[i % FALLBACK.length];

  for (const scenario of scenarios) {
    const group = rows.filter((r) => r.scenario === scenario);
    const max = Math.max(...group.filter((r) => !r.skipped).map((r) => 1 / r.medianUs), 0);
    const base = group.find((r) => r.variant === baseline && !r.skipped);
    out.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${esc(scenario)}</text>`);
    y += 24;
    group.forEach((r, i) => {
      out.push(`<text x="${LABEL - 8}" y="${y + BAR - 6}" font-size="12" text-anchor="end">${esc(r.variant)}</text>`);
      if (r.skipped || !(max > 0)) {
        out.push(`<text x="${LABEL + 4}" y="${y + BAR - 6}" font-size="12" fill="#868e96" font-style="italic">` +
          `${esc(clip(r.skipped ? (/^(skipped|n\/a)/.test(r.skipped) ? r.skipped : `skipped: ${r.skipped}`) : 'no data'))}</text>`);
      } else {
        const w = Math.max(1, (1 / r.medianUs / max) * barMax);
        const ratio = base ? ` · ${(r.medianUs / base.medianUs).toFixed(2)}× ${baseline}` : '';
        out.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" rx="2" fill="${colorOf(r.variant, i)}">` +
          `<title>${esc(`${r.variant}: ${num(r.opsPerSec)} ${r.unit ?? 'ops'}/s, p50 ${fmtTime(r.medianUs)}, p99 ${fmtTime(r.p99Us)}`)}</title></rect>`);
        out.push(`<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + BAR - 6}" font-size="12">` +
          `${esc(`${num(r.opsPerSec)} ${r.unit ?? 'ops'}/s · p50 ${fmtTime(r.medianUs)}${ratio}`)}</text>`);
      }
      y += BAR + GAP;
    });
    y += 14;
  }
  const H = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="10" y="26" font-size="18" font-weight="bold">${esc(title)}</text>`,
    subtitle ? `<text x="10" y="46" font-size="12" fill="#495057">${esc(subtitle)}</text>` : '',
    ...out,
    '</svg>',
    '',
  ].filter((l) => l !== '').join('\n');
}
