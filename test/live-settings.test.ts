// One owner of live settings, with real processes: a `sluice serve` child and `sluice` CLI
// children on one temp data dir. CLI changes go through the running gateway and apply to the
// next request; a dashboard-style save based on an old revision gets 409 and undoes nothing;
// hand edits apply (invalid ones are logged and ignored); without a gateway the CLI edits the
// file under its lock; the runtime file is 0600 and removed on SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runSluice, startSluiceServe, type ServeProcess } from './cli-process.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { authHeaders, rawRequest, tempDir } from './helpers.js';

let mock: MockUpstream;
let dir: Awaited<ReturnType<typeof tempDir>>;
let home: Awaited<ReturnType<typeof tempDir>>;
let serve: ServeProcess | null = null;

before(async () => {
  mock = await startMockUpstream();
  dir = await tempDir('sluice-live-');
  home = await tempDir('sluice-live-home-');
});
after(async () => {
  await serve?.stop('SIGKILL');
  await mock.close();
  await dir.cleanup();
  await home.cleanup();
});

const env = () => ({ SLUICE_DATA_DIR: dir.path, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKELIVEKEY', HOME: home.path });
const settingsFile = () => join(dir.path, 'settings.json');
const runtimeFile = () => join(dir.path, 'admin.json');
const readSettings = async () => JSON.parse(await readFile(settingsFile(), 'utf8'));

async function cli(args: string[], stdin?: string) {
  const r = await runSluice(args, env(), stdin);
  return r;
}

async function newToken(name: string): Promise<string> {
  const r = await cli(['token', 'create', name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').at(-1)!;
}

const message = (maxTokens = 16) => JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hi' }] });
const ask = (token: string, maxTokens?: number) => rawRequest(`${serve!.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: message(maxTokens) });

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const rt = JSON.parse(await readFile(runtimeFile(), 'utf8')) as { token: string };
  return rawRequest(`${serve!.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${rt.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** Polls until `check` returns a value (not undefined), failing with `what` after the deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 10_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function assertEnvelope(r: { status: number; body: Buffer; headers: Record<string, unknown> }, status: number, code: string) {
  assert.equal(r.status, status, r.body.toString());
  const json = JSON.parse(r.body.toString());
  assert.equal(json.type, 'error');
  assert.equal(typeof json.error.type, 'string');
  assert.equal(typeof json.error.message, 'string');
  assert.equal(r.headers['x-sluice-error-code'], code);
  return json;
}

test('no gateway: the CLI edits settings.json under its lock; a stale lock and a stale runtime file are ignored', async () => {
  const r = await cli(['budget', 'set', 'monthly', '500']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readSettings()).control.budgets.monthlyUsd, 500);
  assert.equal(existsSync(`${settingsFile()}.lock`), false, 'the lock is released');
  // A crashed CLI's lock and a crashed gateway's runtime file: their pid is gone.
  const dead = 2 ** 22 + 12345;
  await writeFile(`${settingsFile()}.lock`, `${dead}\n`);
  await writeFile(runtimeFile(), JSON.stringify({ url: 'http://127.0.0.1:9', port: 9, token: 'sluice-admin-x', pid: dead }));
  const again = await cli(['budget', 'set', 'monthly', '600']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await readSettings()).control.budgets.monthlyUsd, 600);
  assert.equal(existsSync(`${settingsFile()}.lock`), false);
  // A live process holding the lock makes the CLI wait, not write over it.
  await writeFile(`${settingsFile()}.lock`, `${process.pid}\n`);
  const waiting = cli(['budget', 'set', 'monthly', '700']);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await readSettings()).control.budgets.monthlyUsd, 600, 'not written while locked');
  await (await import('node:fs/promises')).rm(`${settingsFile()}.lock`);
  const done = await waiting;
  assert.equal(done.code, 0, done.stderr);
  assert.equal((await readSettings()).control.budgets.monthlyUsd, 700);
});

test('--help works on every subcommand', async () => {
  for (const args of [['budget', '--help'], ['token', 'policy', 'x', '--help'], ['capture', '-h'], ['token', '--help'], ['serve', '--help'], ['webhook', '--help'], ['route', 'test', '--help']]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /sluice /, args.join(' '));
  }
});

test('with a gateway running, CLI changes apply to its next request', { timeout: 120_000 }, async (t) => {
  const keep = await newToken('keep');
  const gone = await newToken('gone');
  serve = await startSluiceServe(env(), ['--port', '0']);
  const port = Number(new URL(serve.url).port);

  await t.test('the runtime file names the port, is readable by this user only', async () => {
    const st = await stat(runtimeFile());
    assert.equal(st.mode & 0o777, 0o600);
    const rt = JSON.parse(await readFile(runtimeFile(), 'utf8'));
    assert.equal(rt.port, port);
    assert.equal(rt.url, serve!.url);
    assert.equal(rt.pid, serve!.proc.pid);
  });

  await t.test('token revoke: the next request with that token is a 401 envelope', async () => {
    assert.equal((await ask(gone)).status, 200);
    const r = await cli(['token', 'revoke', 'gone']);
    assert.equal(r.code, 0, r.stderr);
    assertEnvelope(await ask(gone), 401, 'GATEWAY_UNAUTHORIZED');
    assert.equal((await ask(keep)).status, 200, 'other tokens still work');
  });

  let fresh = '';
  await t.test('token create through the gateway works at once', async () => {
    fresh = await newToken('fresh');
    assert.equal((await ask(fresh)).status, 200);
  });

  await t.test('budget set is enforced on the next request; clear lifts it', async () => {
    assert.equal((await ask(keep, 32_000)).status, 200);
    const r = await cli(['budget', 'set', 'daily', '0.01']);
    assert.equal(r.code, 0, r.stderr);
    assertEnvelope(await ask(keep, 32_000), 429, 'GATEWAY_BUDGET_EXCEEDED');
    const c = await cli(['budget', 'clear', 'daily']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await ask(keep, 32_000)).status, 200);
  });

  await t.test('token policy (models) applies to the next request', async () => {
    const r = await cli(['token', 'policy', 'keep', '--models', 'claude-haiku-*']);
    assert.equal(r.code, 0, r.stderr);
    assertEnvelope(await ask(keep), 403, 'GATEWAY_POLICY_DENIED');
    assert.equal((await cli(['token', 'policy', 'keep', '--clear'])).code, 0);
    assert.equal((await ask(keep)).status, 200);
  });

  await t.test('a dashboard save based on an old revision gets 409 and does not undo the CLI change', async () => {
    const loaded = await admin('GET', '/settings');
    assert.equal(loaded.status, 200);
    const revision = String(loaded.headers['x-sluice-revision']);
    assert.match(revision, /^[A-Za-z0-9_-]{10,}$/);
    const r = await cli(['token', 'policy', 'keep', '--rpm', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const put = await admin('PUT', '/settings', { security: { allowPassthrough: false } }, { 'if-match': `"${revision}"` });
    const json = assertEnvelope(put, 409, 'SETTINGS_REVISION_STALE');
    assert.match(json.error.message, /changed since/);
    assert.notEqual(put.headers['x-sluice-revision'], revision, 'the current revision comes back');
    const onDisk = await readSettings();
    assert.equal(onDisk.control.tokens.keep.requestsPerMinute, 1000, 'the CLI change survives');
    assert.equal(onDisk.security.allowPassthrough, true, 'the stale save was not applied');
    // The same save based on the current revision goes through.
    const fresh = await admin('GET', '/settings');
    const ok = await admin('PUT', '/settings', { security: { allowPassthrough: true } }, { 'if-match': `"${String(fresh.headers['x-sluice-revision'])}"` });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal((await readSettings()).control.tokens.keep.requestsPerMinute, 1000);
    // Control routes (mounted beside the admin router) honour If-Match too.
    const budgets = await admin('PUT', '/control/budgets', { dailyUsd: 1 }, { 'if-match': `"${revision}"` });
    assertEnvelope(budgets, 409, 'SETTINGS_REVISION_STALE');
  });

  await t.test('a valid hand edit is applied without a restart', async () => {
    // Every CLI change so far went through the admin API: the watcher applied none of them.
    assert.doesNotMatch(serve!.output(), /settings: applied a change/);
    const s = await readSettings();
    s.security.allowedOrigins = ['http://hand-edit.example'];
    await writeFile(settingsFile(), JSON.stringify(s, null, 2));
    await until('the hand edit to apply', async () => {
      if (!/settings: applied a change/.test(serve!.output())) return undefined;
      const r = await admin('GET', '/settings');
      return JSON.parse(r.body.toString()).security.allowedOrigins[0] === 'http://hand-edit.example' ? true : undefined;
    });
    // A revocation by hand applies too.
    const s2 = await readSettings();
    s2.tokens.find((x: { name: string; revokedAt: string | null }) => x.name === 'fresh' && !x.revokedAt).revokedAt = new Date().toISOString();
    await writeFile(settingsFile(), JSON.stringify(s2, null, 2));
    await until('the hand revocation to apply', async () => ((await ask(fresh)).status === 401 ? true : undefined));
  });

  await t.test('an invalid hand edit is logged with its path and ignored; the gateway keeps serving', async () => {
    const good = await readFile(settingsFile(), 'utf8');
    const bad = JSON.parse(good);
    bad.timeouts.idleMs = 'soon';
    await writeFile(settingsFile(), JSON.stringify(bad, null, 2));
    await until('the invalid edit to be logged', async () => (/ignored an invalid edit[\s\S]*timeouts\.idleMs/.test(serve!.output()) ? true : undefined));
    assert.equal((await ask(keep)).status, 200, 'still serving');
    const view = JSON.parse((await admin('GET', '/settings')).body.toString());
    assert.equal(view.timeouts.idleMs, 600_000, 'the last good settings stay in force');
    assert.deepEqual(view.security.allowedOrigins, ['http://hand-edit.example']);
    await writeFile(settingsFile(), good);
  });

  await t.test('configure points the tool at the running gateway\'s port', async () => {
    await mkdir(join(home.path, '.claude'), { recursive: true });
    const r = await cli(['configure', 'claude-code', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`http://127.0.0.1:${port}`), r.stdout);
  });

  await t.test('a second serve on the same port names the port and --port', async () => {
    const r = await cli(['serve', '--port', String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port} is in use`));
    assert.match(r.stderr, /--port/);
  });

  await t.test('SIGTERM removes the runtime file; the CLI then edits the file itself', async () => {
    const code = await serve!.stop('SIGTERM');
    serve = null;
    assert.equal(code, 0);
    assert.equal(existsSync(runtimeFile()), false);
    const r = await cli(['budget', 'set', 'session', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readSettings()).control.budgets.sessionUsd, 3);
  });
});
