import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeliveryLog, readDeliveryLog } from './delivery-log.js';
import { backoffMs, createWebhookDispatcher, verifyWebhookSignature, webhookUrlWarning, type DeliverySettings } from './webhooks.js';
import type { WebhookSettings } from './schema.js';

const SECRET = 'whsec_test-secret-1';
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, addSecret: () => {} };
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'sluice-wh-')); dirs.push(d); return d; };

interface Received { headers: IncomingHttpHeaders; body: string }

async function receiver(statuses: number[]): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(statuses[Math.min(got.length - 1, statuses.length - 1)]!);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`, got,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const delivery: DeliverySettings = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000, logMaxBytes: 1024 * 1024 };

function dispatcherFor(hook: WebhookSettings, dir: string, secret: string | null = SECRET) {
  const log = createDeliveryLog({ file: join(dir, 'webhooks.log'), maxBytes: () => delivery.logMaxBytes });
  const d = createWebhookDispatcher({
    webhooks: () => [hook], delivery: () => delivery, secretOf: async () => secret, log, version: '9.9.9', logger: quiet, random: () => 0.5,
  });
  return { d, log };
}

const alert = { kind: 'budget', level: 'warning' as const, message: 'Daily budget is at 80%', ts: Date.parse('2026-03-10T12:00:00Z'), data: { budget: 'global-daily', threshold: 0.8 } };

test('a delivery is signed: HMAC-SHA256 over timestamp.body, recomputed here', async () => {
  const r = await receiver([200]);
  const dir = tmp();
  const hook: WebhookSettings = { id: 'ops', url: r.url, events: ['budget'], enabled: true };
  const { d } = dispatcherFor(hook, dir);
  d.onAlert(alert);
  d.onAlert({ ...alert, kind: 'fallback' });
  await d.settled();
  await r.close();
  assert.equal(r.got.length, 1, 'the fallback alert is not in this hook\'s events');
  const { headers, body } = r.got[0]!;
  const ts = headers['x-sluice-timestamp'] as string;
  assert.match(ts, /^\d+$/);
  const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
  assert.equal(headers['x-sluice-signature'], want);
  assert.equal(verifyWebhookSignature(SECRET, { signature: want, timestamp: ts, body }), true);
  assert.equal(verifyWebhookSignature('whsec_other', { signature: want, timestamp: ts, body }), false);
  assert.equal(verifyWebhookSignature(SECRET, { signature: want, timestamp: ts, body: body.replace('80%', '99%') }), false);
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['x-sluice-event'], 'budget');
  const payload = JSON.parse(body) as Record<string, unknown>;
  assert.equal(payload.type, 'budget');
  assert.equal(payload.level, 'warning');
  assert.equal(payload.ts, '2026-03-10T12:00:00.000Z');
  assert.deepEqual(payload.data, { budget: 'global-daily', threshold: 0.8 });
  assert.equal(payload.id, headers['x-sluice-delivery']);
  assert.deepEqual(d.status().delivered, 1);
});

test('retries back off and stop at maxAttempts; every attempt is in the delivery log', async () => {
  const r = await receiver([500]);
  const dir = tmp();
  const hook: WebhookSettings = { id: 'flaky', url: r.url, events: ['*'], enabled: true };
  const { d } = dispatcherFor(hook, dir);
  const out = await d.deliver(hook, alert);
  await d.settled();
  await r.close();
  assert.equal(out.ok, false);
  assert.equal(out.attempts, 3);
  assert.equal(r.got.length, 3);
  // Each attempt is signed afresh with the same delivery id.
  assert.equal(new Set(r.got.map((g) => g.headers['x-sluice-delivery'])).size, 1);
  const entries = await readDeliveryLog(join(dir, 'webhooks.log'));
  assert.deepEqual(entries.map((e) => [e.attempt, e.status, e.ok, e.final]), [[1, 500, false, false], [2, 500, false, false], [3, 500, false, true]]);
  assert.equal(entries[0]!.host, new URL(r.url).host);
  assert.equal(entries[0]!.webhook, 'flaky');
  assert.equal(entries[0]!.event, 'budget');
  // Metadata only: no path or query, no payload, no secret.
  const raw = readFileSync(join(dir, 'webhooks.log'), 'utf8');
  assert.ok(!raw.includes('/hook') && !raw.includes('x=1') && !raw.includes('80%') && !raw.includes(SECRET));
  assert.deepEqual(d.status().recent.map((e) => e.attempt), [1, 2, 3]);
  assert.equal(d.status().failed, 1);
});

test('a 4xx refusal is not retried; a 503 then 200 succeeds on the second attempt', async () => {
  const r = await receiver([400]);
  const { d } = dispatcherFor({ id: 'a', url: r.url, events: ['*'], enabled: true }, tmp());
  const out = await d.deliver({ id: 'a', url: r.url, events: ['*'], enabled: true }, alert);
  await r.close();
  assert.deepEqual([out.ok, out.attempts, out.status], [false, 1, 400]);
  const r2 = await receiver([503, 200]);
  const { d: d2 } = dispatcherFor({ id: 'b', url: r2.url, events: ['*'], enabled: true }, tmp());
  const out2 = await d2.deliver({ id: 'b', url: r2.url, events: ['*'], enabled: true }, alert);
  await r2.close();
  assert.deepEqual([out2.ok, out2.attempts, out2.status], [true, 2, 200]);
});

test('without a signing secret nothing is sent and the failure is logged', async () => {
  const r = await receiver([200]);
  const dir = tmp();
  const hook: WebhookSettings = { id: 'nosecret', url: r.url, events: ['*'], enabled: true };
  const { d } = dispatcherFor(hook, dir, null);
  const out = await d.deliver(hook, alert);
  await d.settled();
  await r.close();
  assert.equal(out.ok, false);
  assert.equal(r.got.length, 0);
  assert.match(out.error!, /observe:webhook:nosecret/);
  const entries = await readDeliveryLog(join(dir, 'webhooks.log'));
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.final, true);
});

test('the delivery log rotates past its size cap and reads across both files', async () => {
  const dir = tmp();
  const file = join(dir, 'webhooks.log');
  const log = createDeliveryLog({ file, maxBytes: () => 600 });
  const entry = (attempt: number) => ({ ts: new Date(0).toISOString(), delivery: 'whd_1', webhook: 'w', host: 'h', event: 'budget', attempt, status: 500, ok: false, error: 'HTTP 500', durationMs: 1, final: false });
  for (let i = 1; i <= 8; i++) log.append(entry(i));
  await log.settled();
  assert.ok(statSync(file).size <= 600);
  assert.ok(statSync(`${file}.1`).size <= 600);
  const all = await readDeliveryLog(file, 100);
  assert.deepEqual(all.map((e) => e.attempt), all.map((_, i) => 8 - all.length + 1 + i), 'newest entries, in order');
  assert.equal(all.at(-1)!.attempt, 8);
  // A torn last line (crash mid-append) is skipped, the rest still read.
  writeFileSync(file, `${readFileSync(file, 'utf8')}{"ts":"x`);
  assert.equal((await readDeliveryLog(file, 100)).at(-1)!.attempt, 8);
});

test('backoff doubles up to the cap; plain http off-machine is warned about', () => {
  const d = { baseDelayMs: 1000, maxDelayMs: 5000 };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(n, d, () => 1)), [1000, 2000, 4000, 5000]);
  assert.deepEqual([1, 2, 3].map((n) => backoffMs(n, d, () => 0)), [500, 1000, 2000]);
  assert.equal(webhookUrlWarning('https://hooks.example.com/x'), null);
  assert.equal(webhookUrlWarning('http://127.0.0.1:9000/x'), null);
  assert.equal(webhookUrlWarning('http://localhost/x'), null);
  assert.match(webhookUrlWarning('http://hooks.example.com/x')!, /plain http/);
});
