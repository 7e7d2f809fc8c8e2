// Alert webhooks through a real gateway's event bus, the webhook and observe commands, and the
// status route on a real `sluice serve` (in-process) where the admin extension is mounted too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../proxy/cli-main.js';
import { createMemorySecretStore, type SecretStore } from '../../proxy/store/secrets.js';
import { openSettings } from '../../proxy/store/settings.js';
import { rawRequest, tempDir } from '../helpers.js';
import { ADMIN_TOKEN, startObserveStack, waitFor } from './stack.js';

async function hookReceiver(status = 200) {
  const got: { headers: IncomingHttpHeaders; body: string; path: string }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' });
    res.writeHead(status);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, got,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const verify = (secret: string, g: { headers: IncomingHttpHeaders; body: string }) =>
  g.headers['x-sluice-signature'] === `sha256=${createHmac('sha256', secret).update(`${g.headers['x-sluice-timestamp']}.${g.body}`).digest('hex')}`;

test('gateway alerts reach subscribed webhooks signed; failing ones stop after maxAttempts', { timeout: 20_000 }, async () => {
  const good = await hookReceiver(200);
  const bad = await hookReceiver(503);
  const s = await startObserveStack({
    observe: {
      webhooks: [
        { id: 'ops', url: good.url, events: ['breaker', 'budget'] },
        { id: 'flaky', url: bad.url, events: ['*'] },
      ],
      webhookDelivery: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    },
  });
  try {
    await s.secrets.set('observe:webhook:ops', 'whsec_ops-test-1');
    await s.secrets.set('observe:webhook:flaky', 'whsec_flaky-test-1');
    s.gw.events.emit('alert', { kind: 'breaker', level: 'warning', ts: Date.now(), message: 'Upstream anthropic: circuit open', data: { target: 'anthropic', state: 'open' } });
    s.gw.events.emit('alert', { kind: 'fallback', level: 'info', ts: Date.now(), message: 'Served by fallback', data: { target: 'backup' } });
    await waitFor(() => s.ext.webhooks.status().pending === 0 && good.got.length >= 1 && bad.got.length >= 4, 5000, 'deliveries');
    await s.ext.flush();
    assert.equal(good.got.length, 1, 'ops is not subscribed to fallback');
    assert.ok(verify('whsec_ops-test-1', good.got[0]!));
    const payload = JSON.parse(good.got[0]!.body) as { type: string; data: { state: string } };
    assert.equal(payload.type, 'breaker');
    assert.equal(payload.data.state, 'open');
    // Two alerts x two attempts each, then it gives up.
    assert.equal(bad.got.length, 4);
    assert.ok(bad.got.every((g) => verify('whsec_flaky-test-1', g)));
    const st = s.ext.status().webhooks;
    assert.equal(st.delivered, 1);
    assert.equal(st.failed, 2);
    const log = readFileSync(join(s.dataDir, 'webhooks.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { webhook: string; attempt: number; status: number; final: boolean });
    assert.equal(log.length, 5);
    assert.deepEqual(log.filter((e) => e.webhook === 'flaky').map((e) => e.status), [503, 503, 503, 503]);
    assert.equal(log.filter((e) => e.final).length, 3);
  } finally {
    await s.close();
    await good.close();
    await bad.close();
  }
});

function io(dir: string, secrets: SecretStore, stdin = ''): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err, cwd: dir, stdout: (x) => { out.push(x); }, stderr: (x) => { err.push(x); }, readStdin: async () => stdin,
    env: {}, platform: 'linux', home: dir, secrets: () => secrets,
  };
}

test('webhook add / list / test / log / remove and observe enable / credential', { timeout: 20_000 }, async () => {
  const dir = await tempDir('sluice-observe-cli-');
  const rx = await hookReceiver(200);
  const secrets = createMemorySecretStore();
  const run = async (args: string[], stdin = '') => {
    const x = io(dir.path, secrets, stdin);
    const code = await runCli([...args, '--data-dir', dir.path], x);
    return { code, out: x.out.join(''), err: x.err.join('') };
  };
  try {
    const add = await run(['webhook', 'add', rx.url, '--event', 'budget', '--event', 'breaker']);
    assert.equal(add.code, 0, add.err);
    const secret = add.out.trim();
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{32}$/);
    assert.equal(await secrets.get('observe:webhook:hook-1'), secret);
    const settings = await openSettings(dir.path);
    assert.deepEqual(settings.get().observe.webhooks, [{ id: 'hook-1', url: rx.url, events: ['budget', 'breaker'], enabled: true }]);
    assert.doesNotMatch(add.err, /plain http/, 'loopback http is fine');

    const list = await run(['webhook', 'list']);
    assert.match(list.out, /^hook-1\s+127\.0\.0\.1:\d+\s+budget,breaker\n$/);
    assert.ok(!list.out.includes('/alerts'), 'the path (often a credential) is not shown');

    const t = await run(['webhook', 'test']);
    assert.equal(t.code, 0, t.out + t.err);
    assert.match(t.out, /hook-1 .* delivered \(HTTP 200\)/);
    assert.equal(rx.got.length, 1);
    assert.ok(verify(secret, rx.got[0]!), 'the printed secret verifies the test delivery');
    assert.equal(JSON.parse(rx.got[0]!.body).type, 'test');

    const log = await run(['webhook', 'log', '--json']);
    const entries = JSON.parse(log.out) as { webhook: string; ok: boolean; event: string }[];
    assert.deepEqual(entries.map((e) => [e.webhook, e.event, e.ok]), [['hook-1', 'test', true]]);

    const far = await run(['webhook', 'add', 'http://hooks.example.com/x', '--id', 'far']);
    assert.equal(far.code, 0);
    assert.match(far.err, /warning: .*plain http/);
    const dup = await run(['webhook', 'add', 'https://hooks.example.com/y', '--id', 'far']);
    assert.equal(dup.code, 1);
    const ftp = await run(['webhook', 'add', 'ftp://hooks.example.com/y']);
    assert.equal(ftp.code, 2);
    assert.match(ftp.err, /http\(s\)/);

    const rm = await run(['webhook', 'remove', 'far']);
    assert.equal(rm.code, 0);
    assert.equal(await secrets.get('observe:webhook:far'), null);
    assert.deepEqual((await openSettings(dir.path)).get().observe.webhooks.map((h) => h.id), ['hook-1']);

    const en = await run(['observe', 'enable', '--endpoint', 'http://127.0.0.1:4318', '--secret-header', 'authorization', '--header', 'x-tenant=t1']);
    assert.equal(en.code, 0, en.err);
    const o = (await openSettings(dir.path)).get().observe.otlp;
    assert.deepEqual([o.enabled, o.endpoint, o.secretHeader, o.headers], [true, 'http://127.0.0.1:4318', 'authorization', { 'x-tenant': 't1' }]);
    const cred = await run(['observe', 'credential'], 'Bearer test-key-1\n');
    assert.equal(cred.code, 0);
    assert.equal(await secrets.get('observe:otlp'), 'Bearer test-key-1');
    const st = await run(['observe', 'status']);
    assert.equal(st.code, 0);
    assert.match(st.out, /OTLP export: on -> http:\/\/127\.0\.0\.1:4318/);
    assert.match(st.out, /Live counters: unavailable \(no running gateway found\)/);
    assert.ok(!st.out.includes('test-key-1'));
    const bad = await run(['export', '--format', 'xml']);
    assert.equal(bad.code, 2);
  } finally {
    await rx.close();
    await dir.cleanup();
  }
});

test('sluice serve mounts the observe status route beside the admin API', { timeout: 30_000 }, async () => {
  const dir = await tempDir('sluice-observe-serve-');
  const secrets = createMemorySecretStore();
  let stop: ((signal: string) => void) | null = null;
  const out: string[] = [];
  const serveIo: CliIo = {
    cwd: dir.path, stdout: (x) => { out.push(x); }, stderr: () => {}, readStdin: async () => '',
    env: { SLUICE_ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' }, platform: 'linux', home: dir.path, secrets: () => secrets,
    onStop: (h) => { stop = h; },
  };
  const served = runCli(['serve', '--port', '0', '--data-dir', dir.path], serveIo);
  try {
    await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.test(out.join('')), 15_000, 'the serve banner');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.join(''))![1]!;
    await waitFor(() => { try { readFileSync(join(dir.path, 'admin.json')); return true; } catch { return false; } }, 5000, 'admin.json');
    const { token } = JSON.parse(readFileSync(join(dir.path, 'admin.json'), 'utf8')) as { token: string };
    const r = await rawRequest(`${url}/admin/api/observe/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(JSON.parse(r.body.toString()).otlp.enabled, false);
    const denied = await rawRequest(`${url}/admin/api/observe/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(denied.status, 401);
    const x = io(dir.path, secrets);
    assert.equal(await runCli(['observe', 'status', '--data-dir', dir.path], x), 0);
    assert.match(x.out.join(''), /Live: 0 spans exported/);
  } finally {
    (stop as ((signal: string) => void) | null)?.('SIGTERM');
    assert.equal(await served, 0);
    await dir.cleanup();
  }
});
