// The `sluice` binary as users run it: help, tokens, serve, and a graceful drain on SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSluice, startSluiceServe } from './cli-process.js';
import { startMockUpstream, messageStreamEvents, send, sleep, type MockUpstream } from './mock-upstream.js';
import { authHeaders, rawRequest, tempDir } from './helpers.js';

let mock: MockUpstream;
let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => { mock = await startMockUpstream(); dir = await tempDir(); });
after(async () => { await mock.close(); await dir.cleanup(); });

const env = () => ({ SLUICE_DATA_DIR: dir.path, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKECLIKEY' });

test('npx sluice --help works from the package bin', async () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // npx links the project into its cache (~/.npm/_npx); a stale entry left by an interrupted or
  // concurrent run there made this fail with ENOENT, so it gets a cache of its own.
  const cache = await tempDir('sluice-npx-cache-');
  const r = spawnSync('npx', ['--no-install', 'sluice', '--help'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_cache: cache.path } });
  await cache.cleanup();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sluice serve \[--port N\]/);
  assert.match(r.stdout, /sluice token create <name>/);
});

test('unknown commands and bad options exit 2 with a pointer to --help', async () => {
  for (const args of [['frobnicate'], ['serve', '--bogus'], ['token'], ['serve', '--port', 'abc']]) {
    const r = await runSluice(args, env());
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /sluice --help/);
  }
});

test('token create prints the token as the last stdout line; only its hash is stored', async () => {
  const r = await runSluice(['token', 'create', 'cli-tool', '--data-dir', dir.path], {});
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim().split('\n').at(-1)!;
  assert.match(token, /^sk-sluice-[A-Za-z0-9_-]{43}$/);
  const settings = await readFile(join(dir.path, 'settings.json'), 'utf8');
  assert.ok(!settings.includes(token), 'token not stored in clear');
  const list = await runSluice(['token', 'list'], env());
  assert.match(list.stdout, new RegExp(`cli-tool\\s+…${token.slice(-4)}\\s+active`));
  const dup = await runSluice(['token', 'create', 'cli-tool'], env());
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /active token named "cli-tool" exists/);
});

test('serve prints its URL; SIGTERM drains an in-flight stream, then exits 0', { timeout: 30_000 }, async () => {
  const token = (await runSluice(['token', 'create', 'drain'], env())).stdout.trim().split('\n').at(-1)!;
  const events = messageStreamEvents({ text: 'a fairly long answer streamed slowly' });
  let midway!: () => void;
  const reachedMidway = new Promise<void>((r) => { midway = r; });
  mock.setBehavior(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < events.length; i++) {
      send(req, res, events[i]!);
      if (i === 2) midway();
      await sleep(40);
    }
    res.end();
  });
  const serve = await startSluiceServe(env());
  assert.match(serve.output(), /listening on http:\/\/127\.0\.0\.1:\d+/);
  const inflight = rawRequest(`${serve.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"claude-haiku-4-5","stream":true,"max_tokens":5,"messages":[]}' });
  await reachedMidway;
  const code = serve.stop('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), events.join(''), 'the stream finished whole after SIGTERM');
  assert.equal(await code, 0);
  assert.match(serve.output(), /draining/);
  await assert.rejects(rawRequest(`${serve.url}/health`), /ECONNREFUSED/);
});

test('a second serve on a taken port fails with a clear message', { timeout: 30_000 }, async () => {
  const first = await startSluiceServe(env());
  const port = new URL(first.url).port;
  const second = await runSluice(['serve', '--port', port], env());
  await first.stop();
  assert.equal(second.code, 1);
  assert.match(second.stderr, /in use on 127\.0\.0\.1/);
});

test('serve mounts every admin surface: dashboard API, control and observe routes answer with the admin token', { timeout: 30_000 }, async () => {
  const serve = await startSluiceServe(env());
  try {
    const { token } = JSON.parse(await readFile(join(dir.path, 'admin.json'), 'utf8')) as { token: string };
    for (const path of ['/admin/api/status', '/admin/api/control/status', '/admin/api/observe/status']) {
      const ok = await rawRequest(`${serve.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200, `${path}: ${ok.body.toString().slice(0, 200)}`);
      const denied = await rawRequest(`${serve.url}${path}`);
      assert.equal(denied.status, 401, `${path} without the admin token`);
    }
    assert.match(serve.output(), /dashboard: http:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=/);
  } finally {
    await serve.stop();
  }
});
