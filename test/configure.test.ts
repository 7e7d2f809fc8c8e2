// One-click configuration end to end: `sluice configure claude-code` writes only its keys into a
// real-looking ~/.claude/settings.json, the real `claude -p` (no ANTHROPIC_* vars of ours) then
// reaches the mock through Sluice and is attributed to the claude-code token; a port change
// follows; undo restores the file byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSluice, startSluiceServe } from './cli-process.js';
import { runClaude } from './claude-cli.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { freePort, headerMap, tempDir } from './helpers.js';
import { secretServiceUnavailable, startSecretService, type SecretService } from './secret-service.js';

const why = secretServiceUnavailable();
const skip = why && process.env.CI !== 'true' ? `no Secret Service: ${why}` : false;
const PROVIDER = 'sk-ant-api03-FAKECONFIGKEY';

const ORIGINAL = `{
  "model": "opus",
  "permissions": {
    "allow": ["Bash(npm test:*)"]
  },
  "env": {
    "DISABLE_TELEMETRY": "1"
  }
}
`;

let ss: SecretService;
let mock: MockUpstream;
let home: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  if (skip) return;
  ss = await startSecretService();
  mock = await startMockUpstream();
  home = await tempDir('sluice-configure-');
});
after(async () => {
  if (skip) return;
  await mock.close();
  await ss.stop();
  await home.cleanup();
});

test('configure claude-code, run the real CLI through Sluice, follow a port change, undo exactly', { skip, timeout: 120_000 }, async () => {
  const settingsPath = join(home.path, '.claude', 'settings.json');
  await mkdir(join(home.path, '.claude'), { recursive: true });
  await writeFile(settingsPath, ORIGINAL);
  const dataDir = join(home.path, 'sluice-data');
  const env = { ...ss.env, HOME: home.path, SLUICE_DATA_DIR: dataDir, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER };
  const portA = await freePort();

  const dry = await runSluice(['configure', 'claude-code', '--dry-run', '--port', String(portA)], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`\\+\\s+"ANTHROPIC_BASE_URL": "http://127\\.0\\.0\\.1:${portA}"`));
  assert.equal(await readFile(settingsPath, 'utf8'), ORIGINAL, 'dry run writes nothing');

  // Nobody touches the file between apply and undo: undo gives back the exact bytes.
  assert.equal((await runSluice(['configure', 'claude-code', '--port', String(portA)], env)).code, 0);
  assert.notEqual(await readFile(settingsPath, 'utf8'), ORIGINAL);
  assert.equal((await runSluice(['configure', 'claude-code', '--undo'], env)).code, 0);
  assert.equal(await readFile(settingsPath, 'utf8'), ORIGINAL, 'undo restores the file byte for byte');

  const apply = await runSluice(['configure', 'claude-code', '--port', String(portA)], env);
  assert.equal(apply.code, 0, apply.stderr);
  const applied = JSON.parse(await readFile(settingsPath, 'utf8'));
  assert.equal(applied.env.ANTHROPIC_BASE_URL, `http://127.0.0.1:${portA}`);
  // Gateway-shaped (a JWT whose payload has aud claude-gateway), so Claude Code shows Sluice's budgets.
  assert.match(applied.env.ANTHROPIC_AUTH_TOKEN, /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(JSON.parse(Buffer.from(applied.env.ANTHROPIC_AUTH_TOKEN.split('.')[1], 'base64url').toString()).aud, 'claude-gateway');
  assert.equal(applied.env.DISABLE_TELEMETRY, '1', 'user keys kept');
  assert.deepEqual(applied.permissions, { allow: ['Bash(npm test:*)'] });

  const claudeEnv = { HOME: home.path, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1' };
  const serveA = await startSluiceServe(env, ['--port', String(portA)]);
  try {
    const run = await runClaude(['-p', 'Say hello'], claudeEnv, home.path);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from the mock\./);
  } finally {
    assert.equal(await serveA.stop(), 0);
  }
  const sent = mock.requests.filter((r) => r.url.startsWith('/v1/messages'));
  assert.ok(sent.length >= 1);
  assert.deepEqual(headerMap(sent.at(-1)!.rawHeaders).get('x-api-key'), [PROVIDER]);
  const byTool = JSON.parse((await runSluice(['stats', '--by', 'tool', '--json'], env)).stdout) as { rows: { key: string; requests: number }[] };
  assert.ok(byTool.rows.some((r) => r.key === 'claude-code' && r.requests >= 1), JSON.stringify(byTool.rows));

  const tools = await runSluice(['tools'], env);
  assert.match(tools.stdout, new RegExp(`claude-code\\s+configured-by-sluice\\s+http://127\\.0\\.0\\.1:${portA}`));

  // The gateway moves to another port: the configured tool follows, with the same token.
  const portB = await freePort();
  const serveB = await startSluiceServe(env, ['--port', String(portB)]);
  try {
    assert.match(serveB.output(), /re-pointed configured tools .*claude-code/);
    const moved = JSON.parse(await readFile(settingsPath, 'utf8'));
    assert.equal(moved.env.ANTHROPIC_BASE_URL, `http://127.0.0.1:${portB}`);
    assert.equal(moved.env.ANTHROPIC_AUTH_TOKEN, applied.env.ANTHROPIC_AUTH_TOKEN, 'the tool keeps its token (from the keychain)');
    const run = await runClaude(['-p', 'Say hello'], claudeEnv, home.path);
    assert.equal(run.code, 0, run.stderr);
  } finally {
    await serveB.stop();
  }

  // Claude Code itself rewrites settings.json when it runs (reformats, migrates keys), so now
  // undo must take back only Sluice's keys and keep everything else as Claude Code left it.
  const beforeUndo = JSON.parse(await readFile(settingsPath, 'utf8'));
  const undo = await runSluice(['configure', 'claude-code', '--undo'], env);
  assert.equal(undo.code, 0, undo.stderr);
  const afterUndo = JSON.parse(await readFile(settingsPath, 'utf8'));
  delete beforeUndo.env.ANTHROPIC_BASE_URL;
  delete beforeUndo.env.ANTHROPIC_AUTH_TOKEN;
  assert.deepEqual(afterUndo, beforeUndo, 'only the two keys Sluice owns were removed');
  assert.equal(afterUndo.env.DISABLE_TELEMETRY, '1');
  const list = await runSluice(['token', 'list'], env);
  assert.match(list.stdout, /claude-code\s+…\w{4}\s+revoked/);
});
