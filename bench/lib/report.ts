// Turns the gateway benchmark's measurements into rows judged against the issue's targets, a
// markdown table, and the `## Gateway` section of bench/RESULTS.md. Pure; no I/O.
import type { Summary } from './stats.js';

export interface PairSummary {
  direct: Summary;
  gateway: Summary;
}

export interface LatencyScenario {
  /** e.g. "2 KB" */
  size: string;
  concurrency: number;
  latencyUs: PairSummary;
  rps: { direct: number; gateway: number };
  errors: { direct: number; gateway: number };
}

export interface SseScenario {
  events: number;
  gapMs: number;
  concurrency: number;
  streams: { direct: number; gateway: number };
  ttfbUs: PairSummary;
  /** Arrival minus send stamp of every event after the first. */
  delayUs: PairSummary;
  gapUs: PairSummary;
  errors: { direct: number; gateway: number };
  negativeDelays: number;
}

export interface RssScenario {
  streams: number;
  idleKb: number;
  heldKb: number;
}

export interface VariantResult {
  variant: string;
  latency: LatencyScenario[];
  /** Single short streams: time to first byte. */
  sseTtfb: SseScenario;
  /** Concurrent streams of spaced events: per-event relay delay. */
  sseChunks: SseScenario;
  rss: RssScenario;
}

export interface Row {
  metric: string;
  direct: string;
  gateway: string;
  measured: string;
  target: string;
  /** null: shown for context, no target. */
  ok: boolean | null;
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (Math.abs(us) < 1000) return `${us.toFixed(0)} µs`;
  return `${(us / 1000).toFixed(2)} ms`;
}

function signedUs(us: number): string {
  return `${us >= 0 ? '+' : '−'}${fmtUs(Math.abs(us))}`;
}

function fmtRps(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
}

function fmtMb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

export const TARGETS = {
  addedP50C1Us: 150,
  addedP99C1Us: 500,
  addedP50OneMbUs: 2_000,
  rpsScaling: 0.95,
  sseTtfbP50Us: 500,
  sseChunkP99Us: 1_000,
  rssDeltaKb: 20 * 1024,
} as const;

function find(r: VariantResult, size: string, c: number): LatencyScenario | undefined {
  return r.latency.find((s) => s.size === size && s.concurrency === c);
}

/** Every reported number, with pass/miss where the issue set a target. */
export function evaluate(r: VariantResult): Row[] {
  const rows: Row[] = [];
  const added = (s: LatencyScenario, p: 'p50' | 'p99', limitUs: number | null) => {
    const d = s.latencyUs.direct[p];
    const g = s.latencyUs.gateway[p];
    const a = g - d;
    rows.push({
      metric: `Added latency ${p}, ${s.size}, c=${s.concurrency}`,
      direct: fmtUs(d),
      gateway: fmtUs(g),
      measured: signedUs(a),
      target: limitUs === null ? '—' : `≤ ${fmtUs(limitUs)}`,
      ok: limitUs === null ? null : Number.isFinite(a) && a <= limitUs,
    });
  };
  for (const s of r.latency) {
    const isSmallC1 = s.size === '2 KB' && s.concurrency === 1;
    const isBigC1 = s.size === '1 MB' && s.concurrency === 1;
    if (s.size === '2 KB' && s.concurrency === 10) continue; // throughput only
    added(s, 'p50', isSmallC1 ? TARGETS.addedP50C1Us : isBigC1 ? TARGETS.addedP50OneMbUs : null);
    added(s, 'p99', isSmallC1 ? TARGETS.addedP99C1Us : null);
  }
  for (const c of [1, 10, 100]) {
    const s = find(r, '2 KB', c);
    if (!s) continue;
    rows.push({
      metric: `Requests/s, 2 KB, c=${c}`,
      direct: fmtRps(s.rps.direct),
      gateway: fmtRps(s.rps.gateway),
      measured: `via/direct ${(s.rps.gateway / s.rps.direct).toFixed(2)}`,
      target: '—',
      ok: null,
    });
  }
  const c10 = find(r, '2 KB', 10);
  const c100 = find(r, '2 KB', 100);
  if (c10 && c100) {
    const scale = c100.rps.gateway / c10.rps.gateway;
    rows.push({
      metric: 'Gateway rps c=100 ÷ c=10',
      direct: `${(c100.rps.direct / c10.rps.direct).toFixed(2)}`,
      gateway: `${scale.toFixed(2)}`,
      measured: `${scale.toFixed(2)}`,
      target: `≥ ${TARGETS.rpsScaling}`,
      ok: scale >= TARGETS.rpsScaling,
    });
    const ratio10 = c10.rps.gateway / c10.rps.direct;
    const ratio100 = c100.rps.gateway / c100.rps.direct;
    rows.push({
      metric: 'Via/direct ratio, c=100 ÷ c=10',
      direct: '—',
      gateway: `${ratio10.toFixed(2)} → ${ratio100.toFixed(2)}`,
      measured: `${(ratio100 / ratio10).toFixed(2)}`,
      target: `≥ ${TARGETS.rpsScaling}`,
      ok: ratio100 / ratio10 >= TARGETS.rpsScaling,
    });
  }
  const sseRow = (metric: string, pair: PairSummary, p: 'p50' | 'p99', limitUs: number | null) => {
    const a = pair.gateway[p] - pair.direct[p];
    rows.push({
      metric,
      direct: fmtUs(pair.direct[p]),
      gateway: fmtUs(pair.gateway[p]),
      measured: signedUs(a),
      target: limitUs === null ? '—' : `≤ ${fmtUs(limitUs)}`,
      ok: limitUs === null ? null : Number.isFinite(a) && a <= limitUs,
    });
  };
  const desc = (s: SseScenario) => `${s.events} events/${s.gapMs} ms, c=${s.concurrency}`;
  sseRow(`SSE added TTFB p50 (${desc(r.sseTtfb)})`, r.sseTtfb.ttfbUs, 'p50', TARGETS.sseTtfbP50Us);
  sseRow(`SSE added TTFB p99 (${desc(r.sseTtfb)})`, r.sseTtfb.ttfbUs, 'p99', null);
  sseRow(`SSE added TTFB p50 (${desc(r.sseChunks)})`, r.sseChunks.ttfbUs, 'p50', null);
  sseRow(`SSE added per-event delay p50 (${desc(r.sseChunks)})`, r.sseChunks.delayUs, 'p50', null);
  sseRow(`SSE added per-event delay p99 (${desc(r.sseChunks)})`, r.sseChunks.delayUs, 'p99', TARGETS.sseChunkP99Us);
  const delta = r.rss.heldKb - r.rss.idleKb;
  rows.push({
    metric: `Gateway RSS, idle → ${r.rss.streams} open streams`,
    direct: '—',
    gateway: `${fmtMb(r.rss.idleKb)} → ${fmtMb(r.rss.heldKb)}`,
    measured: `${delta >= 0 ? '+' : '−'}${fmtMb(Math.abs(delta))}`,
    target: `≤ +${fmtMb(TARGETS.rssDeltaKb)}`,
    ok: Number.isFinite(delta) && delta <= TARGETS.rssDeltaKb,
  });
  const errD = r.latency.reduce((n, s) => n + s.errors.direct, r.sseTtfb.errors.direct + r.sseChunks.errors.direct);
  const errG = r.latency.reduce((n, s) => n + s.errors.gateway, r.sseTtfb.errors.gateway + r.sseChunks.errors.gateway);
  rows.push({ metric: 'Failed requests (all scenarios)', direct: String(errD), gateway: String(errG), measured: String(errD + errG), target: '0', ok: errD + errG === 0 });
  return rows;
}

export function renderTable(rows: readonly Row[]): string {
  const verdict = (ok: boolean | null) => (ok === null ? '' : ok ? 'pass' : '**miss**');
  const lines = [
    '| Metric | Direct | Via gateway | Added / ratio | Target | Result |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.metric} | ${r.direct} | ${r.gateway} | ${r.measured} | ${r.target} | ${verdict(r.ok)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface SectionInput {
  date: string;
  machine: string;
  command: string;
  /** One table per variant, in run order. */
  variants: { name: string; table: string }[];
  notes: string[];
}

export function renderGatewaySection(s: SectionInput): string {
  const parts = [
    '## Gateway',
    '',
    `Recorded ${s.date} on ${s.machine} with \`${s.command}\`.`,
    '"Added" is via-gateway minus direct for the same percentile, both measured in the same run',
    'against the same upstream process in alternating rounds. Regenerate with',
    '`npm run bench -- --write-results`; this section is replaced whole.',
    '',
  ];
  for (const v of s.variants) {
    parts.push(`### Variant: ${v.name}`, '', v.table);
  }
  if (s.notes.length) {
    parts.push('Notes:', '', ...s.notes.map((n) => `- ${n}`), '');
  }
  return `${parts.join('\n').replace(/\n+$/, '')}\n`;
}

/**
 * Replaces the `## <title>` section of a markdown document (up to the next `## ` or `# `
 * heading), appending it when absent. Other sections stay byte-identical.
 */
export function replaceSection(doc: string | null, title: string, section: string): string {
  const body = section.endsWith('\n') ? section : `${section}\n`;
  if (doc === null || doc.trim() === '') return `# Benchmark results\n\n${body}`;
  const lines = doc.split('\n');
  const heading = `## ${title}`;
  const start = lines.findIndex((l) => l.trimEnd() === heading);
  if (start === -1) return `${doc.replace(/\n*$/, '')}\n\n${body}`;
  let end = start + 1;
  while (end < lines.length && !/^#{1,2} /.test(lines[end]!)) end++;
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before}${before ? '\n' : ''}${body}${after ? `\n${after}` : ''}`;
}
