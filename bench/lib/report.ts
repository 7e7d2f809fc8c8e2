// Turns the gateway benchmark's measurements into rows judged against issue 17's targets, a
// markdown table with one column per target process (direct, nginx, relay, Sluice) and Sluice
// as a ratio to the relay, and the `## Gateway` section of bench/RESULTS.md. Pure; no I/O.
import type { TargetName } from './args.js';
import type { Summary } from './stats.js';

export interface TargetStats {
  latencyUs: Summary;
  rps: number;
  errors: number;
  /** utime + stime of the proxy process per request; null for direct (no proxy). */
  cpuUsPerRequest: number | null;
}

export interface LatencyScenario {
  /** e.g. "2 KB" */
  size: string;
  concurrency: number;
  by: Partial<Record<TargetName, TargetStats>>;
}

export interface StreamStats {
  ttfbUs: Summary;
  /** Arrival minus send stamp of every event after the first. */
  delayUs: Summary;
  streams: number;
  errors: number;
}

export interface SseScenario {
  events: number;
  gapMs: number;
  concurrency: number;
  by: Partial<Record<TargetName, StreamStats>>;
  negativeDelays: number;
}

export interface RssScenario {
  streams: number;
  idleKb: number;
  heldKb: number;
}

export interface BenchResult {
  /** Column order. */
  targets: TargetName[];
  latency: LatencyScenario[];
  sseTtfb: SseScenario | null;
  sseChunks: SseScenario | null;
  rss: RssScenario | null;
}

export interface Row {
  metric: string;
  /** One cell per target, in BenchResult.targets order. */
  cells: string[];
  /** Sluice as a ratio to the relay ("0.93x"), or '—'. */
  ratio: string;
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
  if (!Number.isFinite(us)) return 'n/a';
  return `${us >= 0 ? '+' : '−'}${fmtUs(Math.abs(us))}`;
}

function fmtRps(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
}

function fmtMb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

function fmtRatio(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a';
}

export const GOALS = {
  rpsVsRelay: 0.9,
  addedP50C1Us: 150,
  addedP99C1Us: 500,
  addedP50OneMbUs: 2_000,
  cpuVsRelay: 1.3,
  meteringCpu: 1.1,
  sseTtfbP50Us: 500,
  sseDelayP99Us: 1_000,
  rssDeltaKb: 20 * 1024,
} as const;

export const COLUMN_TITLES: Record<TargetName, string> = {
  direct: 'Direct',
  nginx: 'nginx',
  relay: 'Relay',
  'relay-alt': 'Relay (alt undici)',
  sluice: 'Sluice',
  'sluice-nometer': 'Sluice, metering off',
};

/** Every reported number, with pass/miss where the issue set a target. */
export function evaluate(r: BenchResult): Row[] {
  const rows: Row[] = [];
  const cells = (f: (t: TargetName) => string) => r.targets.map(f);
  const ratioOf = (f: (t: TargetName) => number | undefined) => {
    if (!r.targets.includes('sluice') || !r.targets.includes('relay')) return Number.NaN;
    const s = f('sluice');
    const base = f('relay');
    return s === undefined || base === undefined ? Number.NaN : s / base;
  };

  for (const s of r.latency) {
    const ratio = ratioOf((t) => s.by[t]?.rps);
    rows.push({
      metric: `Requests/s, ${s.size}, c=${s.concurrency}`,
      cells: cells((t) => (s.by[t] ? fmtRps(s.by[t].rps) : '—')),
      ratio: fmtRatio(ratio),
      target: `≥ ${GOALS.rpsVsRelay}x`,
      ok: Number.isFinite(ratio) ? ratio >= GOALS.rpsVsRelay : null,
    });
  }

  const added = (s: LatencyScenario, p: 'p50' | 'p99', limitUs: number) => {
    const direct = s.by.direct?.latencyUs[p];
    const add = (t: TargetName) => (direct === undefined || !s.by[t] ? undefined : s.by[t].latencyUs[p] - direct);
    const a = add('sluice');
    rows.push({
      metric: `Added latency ${p}, ${s.size}, c=${s.concurrency} (direct: absolute)`,
      cells: cells((t) => (t === 'direct' ? (direct === undefined ? '—' : fmtUs(direct)) : add(t) === undefined ? '—' : signedUs(add(t)!))),
      ratio: fmtRatio(ratioOf(add)),
      target: `≤ ${fmtUs(limitUs)}`,
      ok: a === undefined ? null : a <= limitUs,
    });
  };
  const find = (size: string, c: number) => r.latency.find((s) => s.size === size && s.concurrency === c);
  const small = find('2 KB', 1);
  if (small) {
    added(small, 'p50', GOALS.addedP50C1Us);
    added(small, 'p99', GOALS.addedP99C1Us);
  }
  const big = find('1 MB', 1);
  if (big) added(big, 'p50', GOALS.addedP50OneMbUs);

  for (const s of r.latency) {
    const ratio = ratioOf((t) => s.by[t]?.cpuUsPerRequest ?? undefined);
    rows.push({
      metric: `Proxy CPU per request, ${s.size}, c=${s.concurrency}`,
      cells: cells((t) => (s.by[t]?.cpuUsPerRequest == null ? '—' : fmtUs(s.by[t].cpuUsPerRequest))),
      ratio: fmtRatio(ratio),
      target: `≤ ${GOALS.cpuVsRelay}x`,
      ok: Number.isFinite(ratio) ? ratio <= GOALS.cpuVsRelay : null,
    });
  }

  if (r.targets.includes('sluice') && r.targets.includes('sluice-nometer')) {
    for (const size of [...new Set(r.latency.map((s) => s.size))]) {
      // Pooled over the concurrencies of one size: CPU time over requests, on and off.
      const pool = (t: TargetName) => {
        let us = 0;
        let n = 0;
        for (const s of r.latency) {
          const st = s.by[t];
          if (s.size !== size || !st || st.cpuUsPerRequest === null) continue;
          us += st.cpuUsPerRequest;
          n++;
        }
        return n ? us / n : Number.NaN;
      };
      const on = pool('sluice');
      const off = pool('sluice-nometer');
      const cost = on / off;
      rows.push({
        metric: `Metering on ÷ off, Sluice CPU per request, ${size} (mean over c)`,
        cells: cells((t) => (t === 'sluice' ? fmtUs(on) : t === 'sluice-nometer' ? fmtUs(off) : '—')),
        ratio: '—',
        target: `≤ ${GOALS.meteringCpu}x`,
        ok: Number.isFinite(cost) ? cost <= GOALS.meteringCpu : null,
      });
      rows[rows.length - 1]!.ratio = `on/off ${fmtRatio(cost)}`;
    }
  }

  const sseRow = (metric: string, sc: SseScenario, pick: (x: StreamStats) => number, limitUs: number | null) => {
    const direct = sc.by.direct ? pick(sc.by.direct) : undefined;
    const add = (t: TargetName) => (direct === undefined || !sc.by[t] ? undefined : pick(sc.by[t]) - direct);
    const a = add('sluice');
    rows.push({
      metric,
      cells: cells((t) => (t === 'direct' ? (direct === undefined ? '—' : fmtUs(direct)) : add(t) === undefined ? '—' : signedUs(add(t)!))),
      ratio: fmtRatio(ratioOf(add)),
      target: limitUs === null ? '—' : `≤ ${fmtUs(limitUs)}`,
      ok: limitUs === null || a === undefined ? null : a <= limitUs,
    });
  };
  const desc = (s: SseScenario) => `${s.events} events/${s.gapMs} ms, c=${s.concurrency}`;
  if (r.sseTtfb) sseRow(`SSE added TTFB p50 (${desc(r.sseTtfb)})`, r.sseTtfb, (x) => x.ttfbUs.p50, GOALS.sseTtfbP50Us);
  if (r.sseChunks) {
    sseRow(`SSE added per-event delay p50 (${desc(r.sseChunks)})`, r.sseChunks, (x) => x.delayUs.p50, null);
    sseRow(`SSE added per-event delay p99 (${desc(r.sseChunks)})`, r.sseChunks, (x) => x.delayUs.p99, GOALS.sseDelayP99Us);
  }
  if (r.rss) {
    const delta = r.rss.heldKb - r.rss.idleKb;
    rows.push({
      metric: `Sluice RSS, idle → ${r.rss.streams} open streams`,
      cells: cells((t) => (t === 'sluice' ? `${fmtMb(r.rss!.idleKb)} → ${fmtMb(r.rss!.heldKb)} (${delta >= 0 ? '+' : '−'}${fmtMb(Math.abs(delta))})` : '—')),
      ratio: '—',
      target: `≤ +${fmtMb(GOALS.rssDeltaKb)}`,
      ok: Number.isFinite(delta) && delta <= GOALS.rssDeltaKb,
    });
  }
  const failed = failedRequests(r);
  rows.push({
    metric: 'Failed requests (all scenarios)',
    cells: cells((t) => String(failed[t] ?? 0)),
    ratio: '—',
    target: '0',
    ok: Object.values(failed).every((n) => n === 0),
  });
  return rows;
}

export function failedRequests(r: BenchResult): Partial<Record<TargetName, number>> {
  const out: Partial<Record<TargetName, number>> = {};
  for (const t of r.targets) {
    let n = 0;
    for (const s of r.latency) n += s.by[t]?.errors ?? 0;
    for (const s of [r.sseTtfb, r.sseChunks]) n += s?.by[t]?.errors ?? 0;
    out[t] = n;
  }
  return out;
}

export function renderTable(targets: readonly TargetName[], rows: readonly Row[]): string {
  const verdict = (ok: boolean | null) => (ok === null ? '' : ok ? 'pass' : '**miss**');
  const lines = [
    `| Metric | ${targets.map((t) => COLUMN_TITLES[t]).join(' | ')} | Sluice ÷ relay | Target | Result |`,
    `|---|${targets.map(() => '---:').join('|')}|---:|---:|---|`,
    ...rows.map((r) => `| ${r.metric} | ${r.cells.join(' | ')} | ${r.ratio} | ${r.target} | ${verdict(r.ok)} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface SectionInput {
  date: string;
  machine: string;
  command: string;
  table: string;
  notes: string[];
}

export function renderGatewaySection(s: SectionInput): string {
  const parts = [
    '## Gateway',
    '',
    `Recorded ${s.date} on ${s.machine} with \`${s.command}\`.`,
    'Every column was measured in the same run against the same upstream process, the targets',
    'taking turns in rotating order each round. "Added" is the target minus direct at the same',
    'percentile. Targets are issue 17\'s, judged on Sluice ÷ relay. Regenerate with',
    '`npm run bench -- --write-results`; this section is replaced whole.',
    '',
    s.table,
  ];
  if (s.notes.length) parts.push('Notes:', '', ...s.notes.map((n) => `- ${n}`), '');
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
