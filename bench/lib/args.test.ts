import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchArgsError, parseBenchArgs, planFor, scenarioKey } from './args.js';

test('defaults: full run, every target but relay-alt, every scenario, no outputs', () => {
  assert.deepEqual(parseBenchArgs([]), {
    quick: false, json: null, writeResults: false, targets: ['direct', 'nginx', 'relay', 'sluice', 'sluice-nometer'],
    scenarios: null, cpuProfDir: null, relayUndici: null,
  });
});

test('parses every flag; targets keep column order', () => {
  const a = parseBenchArgs(['--quick', '--json', 'out.json', '--write-results', '--targets', 'sluice,relay', '--scenarios', '2KB/c10,1MB/c1', '--cpu-prof-dir', '/tmp/p', '--relay-undici', '/tmp/u7']);
  assert.deepEqual(a, {
    quick: true, json: 'out.json', writeResults: true, targets: ['relay', 'relay-alt', 'sluice'],
    scenarios: ['2KB/c10', '1MB/c1'], cpuProfDir: '/tmp/p', relayUndici: '/tmp/u7',
  });
});

test('rejects unknown flags, targets and scenarios, and repeats', () => {
  assert.throws(() => parseBenchArgs(['--fast']), BenchArgsError);
  assert.throws(() => parseBenchArgs(['--targets', 'relay,turbo']), /unknown target "turbo"/);
  assert.throws(() => parseBenchArgs(['--targets', 'relay,relay']), /twice/);
  assert.throws(() => parseBenchArgs(['--targets', ',']), /at least one/);
  assert.throws(() => parseBenchArgs(['--targets', 'relay-alt']), /--relay-undici/);
  assert.throws(() => parseBenchArgs(['--scenarios', '5KB/c1']), /unknown scenario/);
});

test('the quick plan is much smaller than the full one and covers the same scenarios', () => {
  const quick = planFor(true);
  const full = planFor(false);
  const key = (p: typeof quick) => p.latency.map(scenarioKey);
  assert.deepEqual(key(quick), key(full));
  assert.deepEqual(key(full), ['2KB/c1', '2KB/c10', '2KB/c100', '300KB/c1', '300KB/c10', '300KB/c100', '1MB/c1', '1MB/c10', '1MB/c100']);
  const ms = (p: typeof quick) => p.latency.reduce((n, s) => n + s.budget.maxMs, 0) + p.sseTtfb.budget.maxMs + p.sseChunks.budget.maxMs;
  assert.ok(ms(quick) * 10 < ms(full));
});

test('the full plan fits three minutes with five targets', () => {
  const p = planFor(false);
  const perTarget = p.latency.reduce((n, s) => n + s.budget.maxMs + p.warmup.maxMs, 0);
  const sse = 4 * (p.sseTtfb.budget.maxMs + p.sseChunks.budget.maxMs);
  assert.ok(5 * perTarget + sse + p.rss.holdMs + p.rss.idleWaitMs < 170_000);
});
