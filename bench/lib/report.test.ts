import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TargetName } from './args.js';
import { evaluate, fmtUs, renderGatewaySection, renderTable, replaceSection, type BenchResult, type TargetStats } from './report.js';
import { summarize } from './stats.js';

const stats = (latUs: number, rps: number, cpu: number | null): TargetStats => ({ latencyUs: summarize([latUs]), rps, errors: 0, cpuUsPerRequest: cpu });
const TARGETS: TargetName[] = ['direct', 'nginx', 'relay', 'sluice', 'sluice-nometer'];

function result(): BenchResult {
  const sc = (size: string, concurrency: number, sluiceRps: number, sluiceCpu: number) => ({
    size, concurrency,
    by: {
      direct: stats(100, 10_000, null), nginx: stats(150, 8_000, 40), relay: stats(200, 5_000, 60),
      sluice: stats(size === '1 MB' ? 2_500 : 240, sluiceRps, sluiceCpu), 'sluice-nometer': stats(230, 5_000, 70),
    },
  });
  const sse = (ttfbD: number, ttfbS: number, delayD: number, delayS: number) => ({
    events: 6, gapMs: 1, concurrency: 1, negativeDelays: 0,
    by: Object.fromEntries(TARGETS.slice(0, 4).map((t) => [t, {
      ttfbUs: summarize([t === 'sluice' ? ttfbS : ttfbD]), delayUs: summarize([t === 'sluice' ? delayS : delayD]), streams: 10, errors: 0,
    }])),
  });
  return {
    targets: TARGETS,
    latency: [sc('2 KB', 1, 4_600, 75), sc('2 KB', 10, 4_000, 90), sc('1 MB', 1, 4_600, 75)],
    sseTtfb: sse(300, 700, 80, 90),
    sseChunks: { ...sse(300, 400, 80, 1_200), events: 20, gapMs: 10, concurrency: 10 },
    rss: { streams: 100, idleKb: 100 * 1024, heldKb: 110 * 1024 },
  };
}

const row = (rows: ReturnType<typeof evaluate>, metric: string) => {
  const r = rows.find((x) => x.metric.startsWith(metric));
  assert.ok(r, `row ${metric}`);
  return r;
};

test('judges Sluice against the relay and the absolute targets', () => {
  const rows = evaluate(result());
  assert.equal(row(rows, 'Requests/s, 2 KB, c=1').ratio, '0.92x');
  assert.equal(row(rows, 'Requests/s, 2 KB, c=1').ok, true);
  assert.equal(row(rows, 'Requests/s, 2 KB, c=10').ok, false, '4000 < 0.9 × 5000');
  assert.deepEqual(row(rows, 'Added latency p50, 2 KB, c=1').cells, ['100 µs', '+50 µs', '+100 µs', '+140 µs', '+130 µs']);
  assert.equal(row(rows, 'Added latency p50, 2 KB, c=1').ok, true);
  assert.equal(row(rows, 'Added latency p50, 1 MB, c=1').ok, false, '+2.4 ms > 2 ms');
  assert.equal(row(rows, 'Proxy CPU per request, 2 KB, c=1').ratio, '1.25x');
  assert.equal(row(rows, 'Proxy CPU per request, 2 KB, c=1').ok, true);
  assert.equal(row(rows, 'Proxy CPU per request, 2 KB, c=10').ok, false, '90 > 1.3 × 60');
  assert.equal(row(rows, 'Metering on ÷ off, Sluice CPU per request, 2 KB').ok, false, '82.5 / 70 > 1.1');
  assert.equal(row(rows, 'SSE added TTFB p50').ok, true, '+400 µs');
  assert.equal(row(rows, 'SSE added per-event delay p99').ok, false, '+1.12 ms');
  assert.equal(row(rows, 'Sluice RSS').ok, true);
  assert.equal(row(rows, 'Failed requests').ok, true);
});

test('failed requests and a large RSS growth are misses', () => {
  const r = result();
  r.rss = { streams: 100, idleKb: 1000, heldKb: 1000 + 21 * 1024 };
  r.latency[0]!.by.sluice!.errors = 2;
  r.sseChunks!.by.sluice!.errors = 1;
  const rows = evaluate(r);
  assert.equal(row(rows, 'Sluice RSS').ok, false);
  assert.equal(row(rows, 'Failed requests').cells[3], '3');
  assert.equal(row(rows, 'Failed requests').ok, false);
});

test('without a relay column nothing is judged on ratios', () => {
  const r = result();
  r.targets = ['direct', 'sluice'];
  const rows = evaluate(r);
  assert.equal(row(rows, 'Requests/s, 2 KB, c=1').ok, null);
  assert.equal(row(rows, 'Requests/s, 2 KB, c=1').cells.length, 2);
});

test('renderTable has one column per target and marks misses', () => {
  const t = renderTable(result().targets, evaluate(result()));
  assert.match(t, /^\| Metric \| Direct \| nginx \| Relay \| Sluice \| Sluice, metering off \| Sluice ÷ relay \| Target \| Result \|/);
  assert.match(t, /\| Added latency p50, 1 MB, c=1 .*\| \*\*miss\*\* \|\n/);
  assert.match(t, /\| Requests\/s, 2 KB, c=1 \|.*\| pass \|\n/);
});

test('fmtUs switches to ms at 1000 µs', () => {
  assert.equal(fmtUs(999.4), '999 µs');
  assert.equal(fmtUs(1500), '1.50 ms');
  assert.equal(fmtUs(Number.NaN), 'n/a');
});

test('replaceSection swaps only the Gateway section and keeps the others byte-identical', () => {
  const ledger = '## Ledger\n\nledger numbers\n| a |\n';
  const doc = `# Benchmark results\n\n## Gateway\n\nold gateway\n\n${ledger}`;
  const out = replaceSection(doc, 'Gateway', '## Gateway\n\nnew gateway\n');
  assert.equal(out, `# Benchmark results\n\n## Gateway\n\nnew gateway\n\n${ledger}`);
  const ledgerFirst = `# Benchmark results\n\n${ledger}\n## Gateway\n\nold\n`;
  assert.equal(replaceSection(ledgerFirst, 'Gateway', '## Gateway\n\nnew\n'), `# Benchmark results\n\n${ledger}\n## Gateway\n\nnew\n`);
  assert.equal(replaceSection(`# Benchmark results\n\n${ledger}`, 'Gateway', '## Gateway\n\nx\n'), `# Benchmark results\n\n${ledger}\n## Gateway\n\nx\n`);
  assert.equal(replaceSection(null, 'Gateway', '## Gateway\n\nx\n'), '# Benchmark results\n\n## Gateway\n\nx\n');
});

test('a ### heading inside the section is part of it', () => {
  const doc = '# R\n\n## Gateway\n\n### Variant: default\n\nold\n\n## Ledger\n\nL\n';
  assert.equal(replaceSection(doc, 'Gateway', '## Gateway\n\nnew\n'), '# R\n\n## Gateway\n\nnew\n\n## Ledger\n\nL\n');
});

test('renderGatewaySection carries date, machine, command, the table and notes', () => {
  const s = renderGatewaySection({ date: '2026-11-21', machine: '2 cores', command: 'npm run bench -- --write-results', table: '| t |\n', notes: ['n1'] });
  assert.match(s, /^## Gateway\n/);
  assert.match(s, /Recorded 2026-11-21 on 2 cores with `npm run bench -- --write-results`\./);
  assert.match(s, /\n\| t \|\n/);
  assert.match(s, /- n1\n$/);
});
