// Request-target normaliser cost per request: the common origin-form target (one scan, the same
// string back), targets with dots or escapes (the slow path), and the last check forward() makes.
// Imports only proxy/pipeline/request-target. Usage: node --import tsx bench/request-target.bench.ts [--quick]
import { isForwardablePath, normalizeRequestTarget, selfAuthorities } from '../proxy/pipeline/request-target.js';

const runs = process.argv.includes('--quick') ? 100_000 : 1_000_000;
const opts = { self: selfAuthorities(8787), scope: '/v1/' };

/** Nanoseconds per call, over `runs` calls after a warm-up (a sink keeps the work live). */
function nsPerCall(fn: () => unknown): number {
  let sink = 0;
  for (let i = 0; i < 10_000; i++) sink += (fn() as string | boolean) ? 1 : 0;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) sink += (fn() as string | boolean) ? 1 : 0;
  const ns = ((performance.now() - t0) * 1e6) / runs;
  if (sink === -1) process.stdout.write('');
  return ns;
}

const cases: [string, () => unknown][] = [
  ['normalize /v1/messages?beta=true', () => normalizeRequestTarget('/v1/messages?beta=true', opts)],
  ['normalize /v1/messages/count_tokens?beta=true', () => normalizeRequestTarget('/v1/messages/count_tokens?beta=true', opts)],
  ['normalize /v1/models/claude-3.5-sonnet (slow path)', () => normalizeRequestTarget('/v1/models/claude-3.5-sonnet', opts)],
  ['normalize /v1/messages/../models (resolved)', () => normalizeRequestTarget('/v1/messages/../models', opts)],
  ['normalize http://127.0.0.1:8787/v1/messages', () => normalizeRequestTarget('http://127.0.0.1:8787/v1/messages', opts)],
  ['isForwardablePath /anthropic/v1/messages?beta=true', () => isForwardablePath('/anthropic/v1/messages?beta=true')],
];

process.stdout.write(`Request-target normaliser, ${runs} calls each (node ${process.version})\n`);
const width = Math.max(...cases.map(([n]) => n.length));
for (const [name, fn] of cases) process.stdout.write(`${name.padEnd(width)}  ${nsPerCall(fn).toFixed(0).padStart(5)} ns/call\n`);
