// Body capture: off by default (no body anywhere in the data dir after traffic), on: request
// bodies on disk redacted, a warning line and alert, deleted after the retention period. The
// response side runs through the proposed `onResponse` hook, driven here by a minimal fake of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { authHeaders, rawRequest, until } from '../helpers.js';
import { startControlStack, messagesBody, ADMIN_TOKEN, type ControlStack } from './stack.js';
import type { ProxyRequest } from '../../proxy/gateway.js';

const MARKER = 'MARKER-body-7f3a9c';
let clock = Date.parse('2026-06-01T10:00:00Z');
let s: ControlStack;
before(async () => { s = await startControlStack({ ext: { now: () => clock } }); });
after(() => s.close());

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p));
    else out.push(p);
  }
  return out;
}
const admin = (method: string, path: string, body?: unknown) => rawRequest(`${s.gw.url}/admin/api/control${path}`, {
  method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

test('capture off: no body reaches any file in the data dir', async () => {
  const r = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: messagesBody({ text: `${MARKER} ada@example.com` }) });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-sluice-capture'], undefined);
  await s.gw.flushUsage();
  const files = await filesUnder(s.dataDir);
  assert.ok(files.some((f) => f.endsWith('ledger.sqlite')) && files.some((f) => f.endsWith('control.sqlite')), 'the stores exist and are scanned');
  for (const f of files) assert.ok(!(await readFile(f)).includes(MARKER), `${f} holds a body`);
});

test('capture on: redacted request bodies on disk, loud warning, deleted after retention', async () => {
  const put = await admin('PUT', '/capture', { enabled: true, retentionHours: 24 });
  assert.equal(put.status, 200);
  const r = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: messagesBody({ text: `${MARKER} ada@example.com` }) });
  assert.equal(r.status, 200);
  const status = JSON.parse((await admin('GET', '/status')).body.toString());
  assert.equal(status.capture.enabled, true);
  assert.ok(status.capture.files >= 1);
  const dir = join(s.dataDir, 'capture');
  const name = (await readdir(dir)).find((f) => f.endsWith('.request.json'));
  const doc = JSON.parse(await readFile(join(dir, name!), 'utf8'));
  assert.equal(doc.meta.path, '/v1/messages');
  assert.deepEqual(doc.meta.redacted, { email: 1 });
  assert.equal(doc.body.messages[0].content, `${MARKER} [REDACTED:email]`);
  assert.equal((await stat(join(dir, name!))).mode & 0o777, 0o600);
  assert.ok(s.alerts.some((a) => a.kind === 'capture' && a.level === 'warning' && /Body capture is ON/.test(a.message)));
  assert.ok(s.logs.some((l) => /warn .*Body capture is ON/.test(l)), 'a warning line in the serve output');
  const audit = JSON.parse((await admin('GET', '/audit')).body.toString()).entries;
  assert.equal(audit[0].action, 'capture.on');
  assert.equal(audit[0].source, 'admin');

  // The response file is written when the response ends, just after the client has it.
  await until(async () => (await readdir(dir)).some((f) => f.endsWith('.response.json')), 'the response capture file');
  clock += 25 * 3_600_000;
  await admin('PUT', '/capture', { retentionHours: 24 }); // any change sweeps
  assert.deepEqual(await readdir(dir), []);
});

test('response capture through the proposed onResponse hook (fake gateway side)', async () => {
  const stage = s.ext.stages.find((x) => x.name === 'control:capture')!;
  const req = { id: 'sluice_fake1', tsStart: clock, method: 'POST', url: '/v1/messages', pathname: '/v1/messages', headers: {}, caller: { kind: 'passthrough', credential: 'api-key' }, body: Buffer.from('{"a":"x"}'), info: { model: null, stream: true, metadataUserId: null }, notes: {} } as unknown as ProxyRequest;
  await stage.onRequest(req);
  const headers: Record<string, string | string[]> = { 'content-type': 'text/event-stream' };
  const tap = stage.onResponse!(req, 200, headers);
  assert.equal(headers['x-sluice-capture'], 'on');
  tap!.chunk(Buffer.from('event: content_block_delta\ndata: {"delta":{"text":"mail bob@'));
  tap!.chunk(Buffer.from('example.org now"}}\n\n'));
  tap!.end();
  const dir = join(s.dataDir, 'capture');
  // Only finished files count: an atomic write's temporary file (`.<name>.<pid>.<rand>.tmp`)
  // also carries the request id, and counting it ended this wait early on a loaded machine.
  const finished = (f: string) => f.includes('sluice_fake1') && f.endsWith('.json');
  const files = await until(async () => {
    const now = (await readdir(dir)).filter(finished);
    return now.some((f) => f.endsWith('.response.json')) ? now : undefined;
  }, `the response file of sluice_fake1 (logs: ${s.logs.slice(-5).join(' / ')})`);
  const resp = JSON.parse(await readFile(join(dir, files.find((f) => f.endsWith('.response.json'))!), 'utf8'));
  assert.equal(resp.meta.status, 200, s.logs.filter((l) => l.includes('capture')).join('\n'));
  assert.equal(resp.body, 'event: content_block_delta\ndata: {"delta":{"text":"mail [REDACTED:email] now"}}\n\n');
});

test('response capture through the real gateway: header on the response, body on disk redacted', async () => {
  const put = await admin('PUT', '/capture', { enabled: true, retentionHours: 24 });
  assert.equal(put.status, 200);
  const r = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: messagesBody({ text: 'hello' }) });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-sluice-capture'], 'on', 'the client is told its request was captured');
  const sent = JSON.parse(r.body.toString()) as { id: string };
  const dir = join(s.dataDir, 'capture');
  type Doc = { meta: { status: number }; body: { id?: string } };
  const doc = await until(async () => {
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.response.json'))) {
      const d = JSON.parse(await readFile(join(dir, f), 'utf8')) as Doc;
      if (d.body?.id === sent.id) return d;
    }
    return undefined;
  }, `the captured response of message ${sent.id}`).catch(() => undefined);
  assert.ok(doc, `the response of message ${sent.id} was captured`);
  assert.equal(doc.meta.status, 200);
  assert.deepEqual(doc.body, sent, 'the captured response is what the client received');
  await admin('PUT', '/capture', { enabled: false });
});
