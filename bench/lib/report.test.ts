import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, fmtUs, renderGatewaySection, renderTable, replaceSection, type VariantResult } from './report.js';
import { summarize } from './stats.js';

const pair = (direct: number, gateway: number) => ({ direct: summarize([direct]), gateway: summarize([gateway]) });
const scenario = (size: string, concurrency: number, d: number, g: number, rps: [number, number]) => ({
  size, concurrency, latencyUs: pair(d, g), rps: { direct: rps[0], gateway: rps[1] }, errors: { direct: 0, gateway: 0 },
});

function result(over: Partial<VariantResult> = {}): VariantResult {
  return {
    variant: 'default',
    latency: [
      scenario('2 KB', 1, 100, 200, [5000, 3000]),
      scenario('2 KB', 10, 300, 600, [20000, 10000]),
      scenario('2 KB', 100, 3000, 6000, [30000, 9000]),
      scenario('1 MB', 1, 1000, 3500, [900, 300]),
      scenario('1 MB', 100, 90000, 95000, [1000, 800]),
    ],
    sseTtfb: {
      events: 6, gapMs: 1, concurrency: 1, streams: { direct: 10, gateway: 10 },
      ttfbUs: pair(500, 800), delayUs: pair(80, 90), gapUs: pair(1000, 1000),
      errors: { direct: 0, gateway: 0 }, negativeDelays: 0,
    },
    sseChunks: {
      events: 20, gapMs: 10, concurrency: 10, streams: { direct: 10, gateway: 10 },
      ttfbUs: pair(500, 5000), delayUs: pair(80, 1200), gapUs: pair(10000, 10000),
      errors: { direct: 0, gateway: 0 }, negativeDelays: 0,
    },
    rss: { streams: 100, idleKb: 100 * 1024, heldKb: 110 * 1024 },
    ...over,
  };
}

const row = (rows: ReturnType<typeof evaluate>, metric: string) => {
  const r = rows.find((x) => x.metric.startsWith(metric));
  assert.ok(r, `row ${metric}`);
  return r;
};

test('judges each target from via-minus-direct at the same percentile', () => {
  const rows = evaluate(result());
  assert.equal(row(rows, 'Added latency p50, 2 KB, c=1').measured, '+100 µs');
  assert.equal(row(rows, 'Added latency p50, 2 KB, c=1').ok, true);
  assert.equal(row(rows, 'Added latency p50, 1 MB, c=1').ok, false, '+2.5 ms > 2 ms');
  assert.equal(row(rows, 'Added latency p50, 2 KB, c=100').ok, null);
  assert.equal(row(rows, 'Gateway rps c=100 ÷ c=10').ok, false, '9000 < 0.95 × 10000');
  assert.equal(row(rows, 'Via/direct ratio, c=100 ÷ c=10').measured, '0.60');
  assert.equal(row(rows, 'SSE added TTFB p50 (6 events/1 ms, c=1)').ok, true, 'from the single-stream scenario');
  assert.equal(row(rows, 'SSE added TTFB p50 (20 events/10 ms, c=10)').ok, null);
  assert.equal(row(rows, 'SSE added per-event delay p99').measured, '+1.12 ms');
  assert.equal(row(rows, 'SSE added per-event delay p99').ok, false);
  assert.equal(row(rows, 'Gateway RSS').measured, '+10.0 MB');
  assert.equal(row(rows, 'Gateway RSS').ok, true);
  assert.equal(row(rows, 'Failed requests').ok, true);
  assert.equal(rows.some((r) => r.metric.includes('Added latency') && r.metric.endsWith('c=10')), false, 'c=10 is throughput only');
});

test('failed requests and a large RSS growth are misses', () => {
  const r = result({ rss: { streams: 100, idleKb: 1000, heldKb: 1000 + 21 * 1024 } });
  r.latency[0]!.errors.gateway = 2;
  r.sseChunks.errors.gateway = 1;
  const rows = evaluate(r);
  assert.equal(row(rows, 'Gateway RSS').ok, false);
  assert.equal(row(rows, 'Failed requests').gateway, '3');
  assert.equal(row(rows, 'Failed requests').ok, false);
});

test('renderTable marks misses and leaves context rows blank', () => {
  const t = renderTable(evaluate(result()));
  assert.match(t, /^\| Metric \| Direct \| Via gateway \|/);
  assert.match(t, /\| Added latency p50, 1 MB, c=1 \|.*\| \*\*miss\*\* \|\n/);
  assert.match(t, /\| Added latency p50, 2 KB, c=1 \|.*\| pass \|\n/);
  assert.match(t, /\| Requests\/s, 2 KB, c=1 \|.*\|  \|\n/);
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

test('renderGatewaySection carries date, machine, command, one table per variant and notes', () => {
  const s = renderGatewaySection({ date: '2026-11-21', machine: '2 cores', command: 'npm run bench -- --write-results', variants: [{ name: 'default', table: '| t |\n' }, { name: 'no-metering', table: '| u |\n' }], notes: ['n1'] });
  assert.match(s, /^## Gateway\n/);
  assert.match(s, /Recorded 2026-11-21 on 2 cores with `npm run bench -- --write-results`\./);
  assert.match(s, /### Variant: default\n\n\| t \|\n/);
  assert.match(s, /### Variant: no-metering\n\n\| u \|\n/);
  assert.match(s, /- n1\n$/);
});
