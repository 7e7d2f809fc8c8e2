import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isControlCommand, runControlCli } from './cli.js';
import { createMemoryConfig } from './fixtures/memory-config.js';
import { openControlStore, controlDbPath } from './store.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-ctl-cli-'));
  dirs.push(dir);
  const config = createMemoryConfig();
  const out: string[] = [];
  const err: string[] = [];
  const run = (...args: string[]) => runControlCli(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir }, dir, { config, now: () => 1_750_000_000_000 });
  return { dir, config, out, err, run };
}

test('budget and token policy changes are validated, saved and audited as cli', async () => {
  const { dir, config, out, err, run } = await setup();
  assert.equal(await run('budget', 'set', 'daily', '12.5'), 0);
  assert.equal(await run('budget', 'set', 'monthly', '40', '--token', 'claude-code'), 0);
  assert.equal(await run('token', 'policy', 'claude-code', '--models', 'claude-sonnet-*,claude-haiku-*', '--rpm', '30', '--burst-requests', '90', '--cache', 'on', '--expires', '2026-12-31'), 0);
  assert.equal(config.get().budgets.dailyUsd, 12.5);
  assert.deepEqual(config.get().tokens['claude-code'], {
    models: ['claude-sonnet-*', 'claude-haiku-*'], dailyUsd: null, monthlyUsd: 40, requestsPerMinute: 30, tokensPerMinute: null, burstRequests: 90, burstTokens: null, expires: '2026-12-31', injectCache: true,
  });
  out.length = 0;
  assert.equal(await run('token', 'policy', 'claude-code'), 0);
  assert.match(out.join(''), /rate: {5}30 requests\/min \(burst 90\), - tokens\/min/);
  assert.equal(await run('token', 'policy', 'claude-code', '--burst-tokens', '5000'), 1, 'a burst needs its sustained rate');
  assert.match(err.join(''), /burstTokens: a burst needs a sustained tokensPerMinute/);
  assert.equal(await run('budget', 'set', 'daily', 'lots'), 2);
  assert.equal(await run('token', 'policy', 'x', '--expires', '2026-02-30'), 1, 'schema refuses an impossible date');
  assert.match(err.join(''), /expires: must be an ISO date/);
  assert.equal(config.saves, 3);
  out.length = 0;
  assert.equal(await run('audit', '--json'), 0);
  const entries = JSON.parse(out.join('')).entries as { source: string; action: string; target: string; detail: { after: unknown } }[];
  assert.deepEqual(entries.map((e) => `${e.source} ${e.action} ${e.target}`), ['cli policy.update token:claude-code', 'cli budget.set token:claude-code', 'cli budget.set daily']);
  const store = openControlStore(controlDbPath(dir));
  assert.equal(store.listAudit().length, 3);
  store.close();
  assert.equal(await run('budget', 'clear', 'all'), 0);
  assert.equal(config.get().budgets.dailyUsd, null);
});

test('guard test reports detector and position, never the value; capture on/off', async () => {
  const { dir, config, out, run } = await setup();
  const secret = `AKIA${'IOSFODNN7EXAMPLE'}`;
  await writeFile(join(dir, 'sample.txt'), `line one\nkey = ${secret}\nmail ada@example.com\n`);
  assert.equal(await run('guard', 'test', 'sample.txt'), 1);
  assert.deepEqual(out.join('').trim().split('\n'), ['sample.txt:2:7  aws_access_key  (20 chars, action redact)', 'sample.txt:3:6  email  (15 chars, action redact)']);
  assert.ok(!out.join('').includes(secret));
  await writeFile(join(dir, 'clean.txt'), 'nothing here\n');
  assert.equal(await run('guard', 'test', 'clean.txt'), 0);
  assert.equal(await run('capture', 'on', '--token', 'claude-code', '--retention-hours', '2'), 0);
  assert.deepEqual(config.get().capture, { enabled: true, tokens: ['claude-code'], retentionHours: 2, maxTotalMb: 50 });
  assert.equal(await run('capture', 'off'), 0);
  assert.equal(config.get().capture.enabled, false);
});

test('isControlCommand routes only the control commands', () => {
  assert.equal(isControlCommand(['budget', 'list']), true);
  assert.equal(isControlCommand(['token', 'policy', 'x']), true);
  assert.equal(isControlCommand(['token', 'create', 'x']), false);
  assert.equal(isControlCommand(['stats']), false);
});
