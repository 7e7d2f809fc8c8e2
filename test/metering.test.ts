// Metering end to end: requests through the real gateway land in the SQLite ledger with the
// exact tokens and cost, attributed to session, tool and client; no body is ever stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  anthropicBehavior, messageJson, messageStreamEvents, send, sendJson, sleep, streamEvents, type Behavior,
} from './mock-upstream.js';
import { authHeaders, rawRequest, startStack, until, type Stack } from './helpers.js';
import type { RequestRecord } from '../proxy/ledger/index.js';

const SESSION = '0b7c6a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21';
let s: Stack;
let behavior: Behavior = anthropicBehavior;
before(async () => { s = await startStack({ behavior: (r, res, m) => behavior(r, res, m), tokenName: 'claude-code' }); });
after(() => s.close());

/** Sends one request and returns its ledger row (flushed synchronously). */
async function roundTrip(body: object, headers: Record<string, string> = {}, b: Behavior = anthropicBehavior): Promise<RequestRecord> {
  behavior = b;
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { ...authHeaders(s.token), ...headers }, body: JSON.stringify(body) });
  behavior = anthropicBehavior;
  const id = res.headers['request-id'];
  assert.ok(res.status > 0);
  await s.gw.flushUsage();
  const found = (s.gw.ledger!.getSession(SESSION, { limit: 1000 })?.requests ?? []).find((r) => r.upstreamRequestId === id);
  assert.ok(found, `a ledger row for ${String(id)}`);
  return found;
}

const M = 'claude-sonnet-4-5-20250929';
// Sonnet 4.5: $3 in, $3.75 5m write, $6 1h write, $0.30 read, $15 out per million.
const expectedUsd = (u: { in: number; w5: number; w1: number; read: number; out: number }) =>
  (u.in * 3 + u.w5 * 3.75 + u.w1 * 6 + u.read * 0.3 + u.out * 15) / 1e6;

test('a streamed response: usage from message_start + cumulative message_delta, priced exactly', async () => {
  // The client asks for the alias; upstream answers with the dated snapshot it served.
  const row = await roundTrip({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 100, messages: [] }, { 'x-claude-code-session-id': SESSION, 'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)' },
    (req, res) => streamEvents(req, res, messageStreamEvents({ model: M })));
  assert.equal(row.sessionId, SESSION);
  assert.equal(row.sessionSource, 'header');
  assert.equal(row.tool, 'claude-code');
  assert.equal(row.clientFamily, 'claude-code');
  assert.equal(row.clientVersion, '2.1.197');
  assert.equal(row.requestedModel, 'claude-sonnet-4-5');
  assert.equal(row.servedModel, M);
  assert.equal(row.stream, true);
  assert.equal(row.status, 200);
  assert.equal(row.stopReason, 'end_turn');
  assert.equal(row.complete, true);
  assert.deepEqual([row.inputTokens, row.cacheWrite5mTokens, row.cacheWrite1hTokens, row.cacheReadTokens, row.outputTokens], [12, 100, 0, 2000, 9]);
  assert.equal(row.costUsd, expectedUsd({ in: 12, w5: 100, w1: 0, read: 2000, out: 9 }));
  assert.ok(row.ttfbMs !== null && row.ttfbMs >= 0);
  assert.ok(row.bytesIn > 0 && row.bytesOut > 0);
  assert.equal(row.keyId, 'anthropic:env', 'the key by name (SLUICE_ANTHROPIC_API_KEY), never the key');
  assert.equal(row.target, 'anthropic');
  assert.equal(row.attemptsMade, 1);
  assert.equal(row.fallback, false);
});

test('5-minute and 1-hour cache writes are priced separately', async () => {
  const usage = { input_tokens: 50, cache_creation_input_tokens: 3000, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 }, output_tokens: 1 };
  const row = await roundTrip({ model: M, max_tokens: 10, messages: [] }, { 'x-claude-code-session-id': SESSION },
    (req, res) => sendJson(req, res, 200, messageJson({ model: M, usage, outputTokens: 40 })));
  assert.deepEqual([row.inputTokens, row.cacheWrite5mTokens, row.cacheWrite1hTokens, row.outputTokens], [50, 1000, 2000, 40]);
  assert.equal(row.costUsd, expectedUsd({ in: 50, w5: 1000, w1: 2000, read: 0, out: 40 }));
});

for (const [enc, compress] of [['gzip', gzipSync], ['br', brotliCompressSync]] as const) {
  test(`a ${enc}-compressed stream is forwarded compressed and still metered`, async () => {
    const raw = Buffer.from(messageStreamEvents({ model: M, outputTokens: 77 }).join(''));
    const packed = compress(raw);
    const res0 = s.mock.requests.length;
    const row = await roundTrip({ model: M, stream: true, max_tokens: 10, messages: [] }, { 'x-claude-code-session-id': SESSION, 'accept-encoding': 'gzip, br' },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': enc, 'request-id': `req_enc_${enc}` });
        send(req, res, packed.subarray(0, 20));
        send(req, res, packed.subarray(20));
        res.end();
      });
    assert.equal(s.mock.requests.length, res0 + 1);
    assert.equal(row.outputTokens, 77);
    assert.equal(row.cacheReadTokens, 2000);
    assert.equal(row.complete, true);
  });
}

test('a stream cut short by the upstream bills the deltas it delivered, marked upstream_cut', async () => {
  // start, block start, ping, then the three text deltas of "Hello from the mock." (no message_delta).
  const events = messageStreamEvents({ model: M });
  const row = await roundTrip({ model: M, stream: true, max_tokens: 10, messages: [] }, { 'x-claude-code-session-id': SESSION },
    async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_cut' });
      send(req, res, events.slice(0, 6).join(''));
      await sleep(20);
      res.destroy();
    });
  assert.equal(row.complete, false);
  assert.equal(row.inputTokens, 12, 'input from message_start');
  assert.equal(row.cacheReadTokens, 2000);
  assert.equal(row.outputTokens, 3, "three deltas delivered, not message_start's placeholder 1");
  assert.equal(row.estimated, 'upstream_cut');
  assert.equal(row.costUsd, expectedUsd({ in: 12, w5: 100, w1: 0, read: 2000, out: 3 }));
});

test('a stream the client cancels after N deltas bills at least N output tokens, marked client_cancelled', async () => {
  const N = 7;
  const id = 'msg_cancel_7';
  let closed!: () => void;
  const gone = new Promise<void>((r) => { closed = r; });
  behavior = async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_cancel' });
    const all = messageStreamEvents({ model: M, id, text: 'abcdefgh'.repeat(N + 5) });
    // message_start, content_block_start, ping, then N deltas; the rest waits for a client that leaves.
    send(req, res, all.slice(0, 3 + N).join(''));
    res.on('close', () => closed());
  };
  const { request } = await import('node:http');
  const u = new URL(`${s.gw.url}/v1/messages`);
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...authHeaders(s.token), 'x-claude-code-session-id': SESSION } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if ((text.match(/event: content_block_delta/g) ?? []).length >= N) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end(JSON.stringify({ model: M, stream: true, max_tokens: 1000, messages: [] }));
  });
  await gone;
  behavior = anthropicBehavior;
  const row = await until(async () => {
    await s.gw.flushUsage();
    return s.gw.ledger!.getSession(SESSION, { limit: 1000 })?.requests.find((r) => r.messageId === id);
  }, 'the cancelled request\'s row');
  assert.equal(row.complete, false);
  assert.equal(row.billed, true);
  // The client received N deltas; only the placeholder output_tokens 1 had been reported.
  assert.equal(row.outputTokens, N);
  assert.equal(row.estimated, 'client_cancelled');
  assert.equal(row.costUsd, expectedUsd({ in: 12, w5: 100, w1: 0, read: 2000, out: N }));
  const summary = s.gw.ledger!.getSession(SESSION)!.session;
  assert.ok(summary.estimatedRequests >= 1, 'the session says part of its cost is estimated');
});

test('a complete stream is exact: not marked estimated', async () => {
  const row = await roundTrip({ model: M, stream: true, max_tokens: 10, messages: [] }, { 'x-claude-code-session-id': SESSION },
    (req, res) => streamEvents(req, res, messageStreamEvents({ model: M, outputTokens: 2 })));
  assert.equal(row.complete, true);
  assert.equal(row.outputTokens, 2, 'the final usage wins even below the delta count (3)');
  assert.equal(row.estimated, null);
});

test('metadata.user_id gives the session when the header is absent (both formats); none gives null', async () => {
  const other = '9d3f6a2b-8c4e-4f1a-b2d3-e4f5a6b7c8d9';
  const json = JSON.stringify({ device_id: 'a'.repeat(64), account_uuid: '', session_id: other });
  behavior = anthropicBehavior;
  const send1 = (body: object) => rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: JSON.stringify(body) });
  await send1({ model: M, max_tokens: 1, messages: [], metadata: { user_id: json } });
  await send1({ model: M, max_tokens: 1, messages: [], metadata: { user_id: `user_${'b'.repeat(64)}_account__session_${other}` } });
  await send1({ model: M, max_tokens: 1, messages: [] });
  await s.gw.flushUsage();
  const rows = s.gw.ledger!.getSession(other)!.requests;
  assert.deepEqual(rows.map((r) => r.sessionSource).sort(), ['metadata_json', 'metadata_legacy']);
  const day = s.gw.ledger!.totals();
  assert.ok(day.requests >= rows.length + 1, 'the request without a session still counts in totals');
});

test('count_tokens is recorded, not billed; an unknown model is unpriced, never $0', async () => {
  behavior = anthropicBehavior;
  await rawRequest(`${s.gw.url}/v1/messages/count_tokens`, { method: 'POST', headers: { ...authHeaders(s.token), 'x-claude-code-session-id': SESSION }, body: JSON.stringify({ model: M, messages: [] }) });
  const row = await roundTrip({ model: 'claude-imaginary-9', max_tokens: 1, messages: [] }, { 'x-claude-code-session-id': SESSION });
  assert.equal(row.billed, true);
  assert.equal(row.costUsd, null);
  const rows = s.gw.ledger!.getSession(SESSION)!.requests;
  const ct = rows.find((r) => r.endpoint === 'count_tokens')!;
  assert.equal(ct.billed, false);
  assert.equal(ct.costUsd, 0);
  const summary = s.gw.ledger!.getSession(SESSION)!.session;
  assert.ok(summary.unpricedRequests >= 1);
});

test('upstream errors are recorded with their type and not billed', async () => {
  const row = await roundTrip({ model: M, max_tokens: 1, messages: [] }, { 'x-claude-code-session-id': SESSION },
    (req, res) => sendJson(req, res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { 'request-id': 'req_529' }));
  assert.equal(row.status, 529);
  assert.equal(row.errorType, 'overloaded_error');
  assert.equal(row.billed, false);
});

test('passthrough requests are attributed to the client family', async () => {
  behavior = anthropicBehavior;
  await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'sk-ant-api03-CLIENTOWN-xxxxxxxx', 'content-type': 'application/json', 'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)', 'x-claude-code-session-id': '11111111-2222-4333-8444-555555555555' }, body: JSON.stringify({ model: M, max_tokens: 1, messages: [] }) });
  await s.gw.flushUsage();
  const r = s.gw.ledger!.getSession('11111111-2222-4333-8444-555555555555')!.requests[0]!;
  assert.equal(r.callerKind, 'passthrough');
  assert.equal(r.tool, 'claude-code');
  assert.equal(r.keyId, null);
});

test('no prompt, completion or key ever lands in the data dir', async () => {
  const marker = 'PROMPT-MARKER-8f7e6d5c4b3a';
  behavior = anthropicBehavior;
  await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: JSON.stringify({ model: M, max_tokens: 1, system: marker, messages: [{ role: 'user', content: marker }] }) });
  await s.gw.flushUsage();
  for (const f of await readdir(s.dataDir)) {
    const bytes = await readFile(join(s.dataDir, f));
    assert.ok(!bytes.includes(marker), `${f} holds no prompt text`);
    assert.ok(!bytes.includes('Hello from the mock'), `${f} holds no completion text`);
    assert.ok(!bytes.includes('FAKEPROVIDERKEY'), `${f} holds no key`);
    assert.ok(!bytes.includes(s.token), `${f} holds no token`);
  }
});

test('streams are unaffected by metering: the client still gets every byte as sent', async () => {
  const events = messageStreamEvents({ model: M, text: 'x'.repeat(500) });
  behavior = (req, res) => streamEvents(req, res, events, 1);
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: JSON.stringify({ model: M, stream: true, max_tokens: 1, messages: [] }) });
  behavior = anthropicBehavior;
  assert.equal(res.body.toString(), events.join(''));
});
