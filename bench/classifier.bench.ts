// Smart-routing classifier cost: extractFeatures + classify on Claude Code shaped bodies (the
// 76 KB main-loop fixture, a 200 KB code paste, a 1 MB session), median and p99 of 1000 runs.
// The top-level scan the gateway already does is timed apart. Imports proxy/smart and the scanner.
// Usage: node --import tsx bench/classifier.bench.ts [--quick]
import { scanTopLevel } from '../proxy/json-scan.js';
import { classify, compileClassifierConfig } from '../proxy/smart/classifier.js';
import { extractFeatures } from '../proxy/smart/features.js';
import { SmartSettingsSchema } from '../proxy/smart/schema.js';
import { codePasteRequest, longContextRequest, mainLoopRequest } from '../proxy/smart/fixtures/claude-code.js';

const runs = process.argv.includes('--quick') ? 200 : 1000;
const config = compileClassifierConfig(SmartSettingsSchema.parse({
  // Two user rules, as a user might keep: they run on every request with user text.
  rules: [{ pattern: '\\b(ultrathink|architecture|design doc)\\b', flags: 'i', tier: 'complex' }, { pattern: '^(fix typo|rename)\\b', flags: 'i', tier: 'simple' }],
}));

/** Median and p99 in microseconds of `runs` timed calls, after a warm-up. */
function time(fn: () => unknown): { median: number; p99: number } {
  for (let i = 0; i < 50; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push((performance.now() - t0) * 1000);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)]!, p99: t[Math.floor(t.length * 0.99)]! };
}

const cases: [string, Buffer][] = [
  ['main loop, one-line prompt', mainLoopRequest()],
  ['code paste (120 KB in the last turn)', codePasteRequest(120_000)],
  ['long session (1 MB)', longContextRequest(1_048_576)],
];

const rows: string[][] = [];
for (const [name, body] of cases) {
  const fields = scanTopLevel(body);
  const tier = classify(extractFeatures(body, fields), config).tier;
  const c = time(() => classify(extractFeatures(body, fields), config));
  const s = time(() => scanTopLevel(body));
  rows.push([name, `${(body.length / 1024).toFixed(0)} KB`, tier, c.median.toFixed(1), c.p99.toFixed(1), s.median.toFixed(1)]);
}

const head = ['request', 'size', 'tier', 'classify µs (median)', 'p99 µs', 'top-level scan µs (median)'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
process.stdout.write(`Smart-routing classifier, ${runs} runs each (node ${process.version})\n`);
process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
for (const r of rows) process.stdout.write(`${line(r)}\n`);
process.stdout.write('classify = extractFeatures + classify, given the scan the gateway has already made.\n');
