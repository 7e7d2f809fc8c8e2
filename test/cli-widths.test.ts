// Every CLI table a person reads fits 100 columns: stats (by day, session, model, tool, tag),
// sessions show, tools, budget, token list and the A/B report, rendered through runCli from a
// seeded ledger with long ids, long project paths, "No session" rows and unpriced models. Each
// line is measured with colour codes stripped; colour appears on a terminal and never under
// NO_COLOR; --json is plain JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { openLedger } from '../proxy/ledger/index.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import { createMemorySecretStore } from '../proxy/store/secrets.js';
import { seedLedger } from './ui/seed.js';
import { tempDir } from './helpers.js';

const SID = '0e2e7a11-5eed-4c0d-9a11-c0ffee00a001';
const ANSI = /\x1b\[[0-9;]*m/g;
/** Any colour code (not global, so test() keeps no state between calls). */
const SGR = /\x1b\[/;
let dir: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;
const secrets = createMemorySecretStore();

function io(env: Record<string, string> = {}, isTTY = false): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''), err: () => err.join(''), cwd: dir.path, isTTY,
    stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); }, readStdin: async () => '',
    env, platform: 'linux', home: join(dir.path, 'home'), secrets: () => secrets,
  };
}

async function run(args: string[], o: { env?: Record<string, string>; tty?: boolean } = {}): Promise<string> {
  const x = io(o.env, o.tty);
  const code = await runCli([...args, '--data-dir', dataDir], x);
  assert.equal(code, 0, `sluice ${args.join(' ')}: ${x.err()}`);
  return x.out();
}

before(async () => {
  dir = await tempDir('sluice-cli-widths-');
  dataDir = join(dir.path, 'data');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir.path, 'home'), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  try {
    seedLedger(ledger, { now: Date.now() - 3_600_000, days: 10, sessions: 12, requests: 600, idPrefix: 'cw' });
    const t = Date.now() - 1_800_000;
    const long = 'claude-sonnet-4-5-20250929-with-a-much-longer-provider-suffix';
    ledger.write([
      makeRow({ id: 'w1', sessionId: SID, tsStart: t, tsEnd: t + 3000, requestedModel: long, servedModel: long, target: 'anthropic', route: 'a-rather-long-rule-name', arm: 'challenger-arm',
        inputTokens: 240_000, outputTokens: 1_500, costPico: 1_234_567_000_000, project: '/home/dev/work/a-very-long-project-folder-name/that/keeps/going/for/testing/the/widths/of/the/tables/in/a/terminal', tags: { team: 'infrastructure-and-platform-engineering' },
        attempts: [
          { n: 1, ts: t, target: 'anthropic', keyId: 'anthropic:a-long-key-label-for-the-second-key', model: null, status: 529, error: null, durationMs: 300, waitMs: 0 },
          { n: 2, ts: t + 800, target: 'bedrock-eu-central-1-with-long-name', keyId: null, model: long, status: 200, error: null, durationMs: 2000, waitMs: 12_345 },
        ] }),
      makeRow({ id: 'w2', sessionId: SID, tsStart: t + 5000, tsEnd: t + 6000, status: 400, errorType: 'gateway_guardrail_blocked', billed: false, costPico: 0, attempts: [] }),
      makeRow({ id: 'w3', sessionId: null, tool: 'cursor-terminal-with-a-long-token-name', tsStart: t + 7000, tsEnd: t + 8000, inputTokens: 12_345_678, costPico: 1_234_560_000_000_000 }),
    ]);
  } finally {
    ledger.close();
  }
  await run(['budget', 'set', 'daily', '12.5']);
  await run(['token', 'policy', 'claude-code', '--daily', '3', '--monthly', '40', '--rpm', '30', '--models', 'claude-sonnet-*,claude-haiku-*']);
});

after(async () => {
  await dir?.cleanup();
});

const TABLES: string[][] = [
  ['stats'],
  ['stats', '--by', 'session'],
  ['stats', '--by', 'model'],
  ['stats', '--by', 'tool'],
  ['stats', '--by', 'tag', '--tag', 'team'],
  ['sessions', 'show', SID],
  ['tools'],
  ['budget'],
  ['budget', 'list'],
  ['token', 'list'],
  ['ab', 'report'],
];

test('every table fits 100 columns, coloured on a terminal and plain under NO_COLOR', { timeout: 60_000 }, async () => {
  for (const args of TABLES) {
    const name = `sluice ${args.join(' ')}`;
    const tty = await run(args, { tty: true });
    const plain = await run(args, { tty: true, env: { NO_COLOR: '1' } });
    for (const line of tty.replace(ANSI, '').split('\n')) assert.ok([...line].length <= 100, `${name}: ${[...line].length} columns:\n${line}`);
    assert.ok(!SGR.test(plain), `${name} under NO_COLOR has no colour codes`);
    assert.equal(tty.replace(ANSI, ''), plain, `${name}: the same text with and without colour`);
    assert.ok(plain.trim().length > 0, `${name} prints something`);
  }
  // Tables colour their heads on a terminal.
  assert.ok(SGR.test(await run(['stats'], { tty: true })), 'colour on a terminal');
  assert.ok(!SGR.test(await run(['stats'])), 'no colour into a pipe');
});

test('the tables say what a person needs: "No session", the project, the detours with their reasons', async () => {
  const bySession = await run(['stats', '--by', 'session']);
  assert.match(bySession, /^\(no session\)\s/m);
  assert.match(bySession, /\$1,234\.56/);
  const show = await run(['sessions', 'show', SID]);
  assert.match(show, /^project \/home\/dev\/work\/a-very.*…/m);
  // Wrapped under the request's time, never cut: the reason and the wait stay readable.
  assert.match(show.replace(/\n {10}/g, ' '), /fell back to bedrock-eu-central-1-with-long-name \(claude-sonnet-[\w-]+\) after 529 overloaded on key anthropic:a-long-key-label-for-the-second-key, waited 12\.3 s/);
  assert.match(show, /blocked by a guardrail before it left the machine/);
  assert.match(await run(['budget']), /^daily:\s+\$12\.50/m);
});

test('--json is plain JSON, whatever the terminal', async () => {
  for (const args of [['stats'], ['stats', '--by', 'session'], ['sessions', 'show', SID], ['budget', 'list'], ['tools'], ['ab', 'report']]) {
    const text = await run([...args, '--json'], { tty: true });
    assert.ok(!SGR.test(text), `sluice ${args.join(' ')} --json has no colour codes`);
    assert.doesNotThrow(() => JSON.parse(text), `sluice ${args.join(' ')} --json parses`);
  }
});
