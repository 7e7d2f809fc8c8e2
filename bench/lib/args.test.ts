import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchArgsError, parseBenchArgs, planFor } from './args.js';

test('defaults: full run, default variant, no outputs', () => {
  assert.deepEqual(parseBenchArgs([]), { quick: false, json: null, writeResults: false, variants: ['default'], cpuProfDir: null });
});

test('parses every flag', () => {
  const a = parseBenchArgs(['--quick', '--json', 'out.json', '--write-results', '--variants', 'default,no-metering', '--cpu-prof-dir', '/tmp/p']);
  assert.deepEqual(a, { quick: true, json: 'out.json', writeResults: true, variants: ['default', 'no-metering'], cpuProfDir: '/tmp/p' });
});

test('rejects unknown flags and variants, and repeats', () => {
  assert.throws(() => parseBenchArgs(['--fast']), BenchArgsError);
  assert.throws(() => parseBenchArgs(['--variants', 'default,turbo']), /unknown variant "turbo"/);
  assert.throws(() => parseBenchArgs(['--variants', 'default,default']), /twice/);
  assert.throws(() => parseBenchArgs(['--variants', ',']), /at least one/);
});

test('the quick plan is much smaller than the full one and covers the same scenarios', () => {
  const quick = planFor(true);
  const full = planFor(false);
  const key = (p: typeof quick) => p.latency.map((s) => `${s.size} c=${s.concurrency}`);
  assert.deepEqual(key(quick), key(full));
  assert.deepEqual(key(full), ['2 KB c=1', '2 KB c=10', '2 KB c=100', '1 MB c=1', '1 MB c=100']);
  const ms = (p: typeof quick) => p.latency.reduce((n, s) => n + s.budget.maxMs, 0) + p.sseTtfb.budget.maxMs + p.sseChunks.budget.maxMs;
  assert.ok(ms(quick) * 10 < ms(full));
});
