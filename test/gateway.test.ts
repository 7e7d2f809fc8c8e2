// The gateway end to end over real sockets: byte-faithful forwarding, streaming without
// buffering, errors as they came, aborts, auth and hardening.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  messageStreamEvents, send, sendJson, sleep, sseEvent, streamEvents, anthropicBehavior, type Behavior,
} from './mock-upstream.js';
import { authHeaders, headerMap, PROVIDER_KEY, rawRequest, startStack, type Stack } from './helpers.js';
import { createGateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { tempDir } from './helpers.js';

// Headers the gateway itself must own on the upstream hop; everything else must match.
const HOP = new Set(['host', 'connection', 'content-length', 'x-api-key', 'authorization', 'keep-alive', 'transfer-encoding']);

function assertForwardedHeaders(sent: Record<string, string>, receivedRaw: string[], expectKey: string | null) {
  const got = headerMap(receivedRaw);
  for (const [k, v] of Object.entries(sent)) {
    if (HOP.has(k.toLowerCase())) continue;
    assert.deepEqual(got.get(k.toLowerCase()), [v], `header ${k} forwarded unchanged`);
  }
  const allowedExtra = new Set(['host', 'connection', 'content-length']);
  const sentNames = new Set(Object.keys(sent).map((k) => k.toLowerCase()));
  for (const k of got.keys()) {
    if (k === 'x-api-key' && expectKey) continue;
    assert.ok(sentNames.has(k) || allowedExtra.has(k), `no header added upstream: ${k}`);
  }
  if (expectKey) {
    assert.deepEqual(got.get('x-api-key'), [expectKey], 'local token replaced by the provider key');
    assert.equal(got.get('authorization'), undefined, 'no client authorization forwarded');
  }
}

/** Sent response headers must reach the client unchanged (hop-by-hop aside). */
function assertResponseHeaders(mockRes: string[], clientRaw: string[]) {
  const sent = headerMap(mockRes);
  const got = headerMap(clientRaw);
  for (const [k, v] of sent) {
    if (['connection', 'keep-alive', 'transfer-encoding'].includes(k)) continue;
    assert.deepEqual(got.get(k), v, `response header ${k} unchanged`);
  }
}

describe('faithful forwarding', () => {
  let s: Stack;
  let lastResponseHeaders: string[] = [];
  before(async () => {
    s = await startStack({
      behavior: async (req, res, mock) => {
        const origWriteHead = res.writeHead.bind(res);
        // Capture the header list the mock sends, to compare with what the client gets.
        (res as unknown as { writeHead: typeof res.writeHead }).writeHead = ((status: number, headers?: Record<string, string>) => {
          lastResponseHeaders = Object.entries(headers ?? {}).flat();
          return origWriteHead(status, headers);
        }) as typeof res.writeHead;
        await anthropicBehavior(req, res, mock);
      },
    });
  });
  after(() => s.close());

  // Key order, whitespace and unicode escapes a re-serialising proxy would change.
  const body = Buffer.from('{ "model" :"claude-sonnet-4-5-20250929","max_tokens":16,\n  "metadata":{"user_id":"{\\"device_id\\":\\"ab\\",\\"account_uuid\\":\\"\\",\\"session_id\\":\\"5f1c1a9e-0000-4000-8000-000000000001\\"}"},\n"messages":[{"role":"user","content":"h\\u00e9llo \\"quoted\\" \u2603"}], "system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}] }');

  for (const stream of [false, true]) {
    test(`POST /v1/messages?beta=true ${stream ? 'stream' : 'non-stream'}: body, headers and response bytes identical`, async () => {
      const reqBody = stream ? Buffer.from(body.toString().replace('"max_tokens":16', '"max_tokens":16,"stream":true')) : body;
      const headers = authHeaders(s.token, {
        'anthropic-beta': 'claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14',
        'x-claude-code-session-id': '5f1c1a9e-0000-4000-8000-000000000001',
        'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)',
        'x-app': 'cli',
        'x-stainless-lang': 'js',
        'anthropic-dangerous-direct-browser-access': 'true',
        'accept-encoding': 'gzip, deflate, br, zstd',
      });
      const res = await rawRequest(`${s.gw.url}/v1/messages?beta=true`, { method: 'POST', headers, body: reqBody });
      assert.equal(res.status, 200);
      const rec = s.mock.requests.at(-1)!;
      assert.equal(rec.url, '/v1/messages?beta=true', 'query string kept');
      assert.ok(rec.body.equals(reqBody), 'request body byte-identical');
      assertForwardedHeaders(headers, rec.rawHeaders, PROVIDER_KEY);
      assert.ok(res.body.equals(Buffer.concat(rec.sent)), 'response body byte-identical');
      assertResponseHeaders(lastResponseHeaders, res.rawHeaders);
      if (stream) assert.match(res.headers['content-type'] ?? '', /text\/event-stream/);
    });
  }

  const others: [string, string, string | undefined][] = [
    ['POST', '/v1/messages/count_tokens', '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}'],
    ['GET', '/v1/models?limit=1000', undefined],
    ['GET', '/v1/models/claude-opus-4-5-20251101', undefined],
    ['POST', '/v1/messages/batches', '{"requests":[{"custom_id":"a","params":{"model":"claude-haiku-4-5","max_tokens":5,"messages":[]}}]}'],
    ['GET', '/v1/messages/batches/msgbatch_mock_1', undefined],
  ];
  for (const [method, path, b] of others) {
    test(`${method} ${path}: forwarded byte for byte`, async () => {
      const headers = authHeaders(s.token);
      if (!b) delete headers['content-type'];
      const res = await rawRequest(`${s.gw.url}${path}`, { method, headers, body: b });
      const rec = s.mock.requests.at(-1)!;
      assert.equal(rec.method, method);
      assert.equal(rec.url, path);
      assert.ok(rec.body.equals(Buffer.from(b ?? '')), 'request body identical');
      assertForwardedHeaders(headers, rec.rawHeaders, PROVIDER_KEY);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(Buffer.concat(rec.sent)), 'response identical');
      assertResponseHeaders(lastResponseHeaders, res.rawHeaders);
    });
  }

  test('a 1 MB body with deep nesting and many escapes is forwarded identically', async () => {
    const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${i} \\ "q" {[` + 'x'.repeat(2500) }] }));
    const big = Buffer.from(JSON.stringify({ model: 'claude-opus-4-5', max_tokens: 1, messages }));
    assert.ok(big.length > 1_000_000);
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: big });
    assert.equal(res.status, 200);
    assert.ok(s.mock.requests.at(-1)!.body.equals(big));
  });
});

describe('streaming, errors and aborts', () => {
  let s: Stack;
  before(async () => { s = await startStack(); });
  after(() => s.close());

  test('no buffering: each SSE event reaches the client before the mock emits the next', async () => {
    const events = messageStreamEvents({ text: 'one two three four five six' });
    const arrived: (() => void)[] = [];
    const waits = events.map((_, i) => new Promise<void>((r) => { arrived[i] = r; }));
    const emittedAt: number[] = [];
    s.mock.setBehavior(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      for (let i = 0; i < events.length; i++) {
        emittedAt[i] = performance.now();
        send(req, res, events[i]!);
        // The next event is only sent once the client has this one: a buffering proxy stalls here.
        const ok = await Promise.race([waits[i]!.then(() => true), sleep(2000).then(() => false)]);
        if (!ok) { res.destroy(); return; }
      }
      res.end();
    });
    let seen = '';
    let next = 0;
    const res = await rawRequest(`${s.gw.url}/v1/messages`, {
      method: 'POST', headers: authHeaders(s.token), body: '{"model":"claude-haiku-4-5","stream":true,"max_tokens":5,"messages":[]}',
      onChunk: (d) => {
        seen += d.toString();
        while (next < events.length && seen.includes(events.slice(0, next + 1).join(''))) arrived[next++]!();
      },
    });
    assert.equal(next, events.length, 'every event arrived while the mock waited for it');
    assert.equal(res.body.toString(), events.join(''));
    s.mock.setBehavior(anthropicBehavior);
  });

  test('upstream 529, 400 and 429 bodies and headers are returned unmodified (retries off)', async () => {
    // A stack of its own: the 429 rests the only key, which must not leak into other tests.
    const own = await startStack();
    await own.gw.settings.update((x) => { x.resilience.retry.maxAttempts = 1; });
    const bodies: [number, string, Record<string, string>][] = [
      [529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CU"}', {}],
      [400, '{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content: Extra inputs are not permitted"},"request_id":"req_02"}', {}],
      [429, '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}', { 'retry-after': '17', 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': '2026-11-21T10:00:00Z' }],
    ];
    for (const [status, text, extra] of bodies) {
      own.mock.setBehavior((req, res) => sendJson(req, res, status, text, extra));
      const res = await rawRequest(`${own.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(own.token), body: '{"model":"m","max_tokens":1,"messages":[]}' });
      assert.equal(res.status, status);
      assert.equal(res.body.toString(), text);
      for (const [k, v] of Object.entries(extra)) assert.equal(res.headers[k], v);
    }
    assert.equal(own.mock.requests.length, 3, 'one attempt each');
    await own.close();
  });

  test('an event: error inside a 200 stream is forwarded as sent', async () => {
    const events = [messageStreamEvents()[0]!, ': keep-alive comment\n\n', sseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })];
    s.mock.setBehavior((req, res) => streamEvents(req, res, events));
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","stream":true,"max_tokens":1,"messages":[]}' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), events.join(''));
    s.mock.setBehavior(anthropicBehavior);
  });

  test('a client abort closes the upstream request at once', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => { release = r; });
    s.mock.setBehavior(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      send(req, res, messageStreamEvents()[0]!);
      await Promise.race([req.closed, hold]);
      if (!req.closedEarly) res.end();
    });
    const t0 = performance.now();
    await rawRequest(`${s.gw.url}/v1/messages`, {
      method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","stream":true,"max_tokens":1,"messages":[]}',
      onChunk: (_d, abort) => abort(),
    });
    const rec = s.mock.requests.at(-1)!;
    const closed = await Promise.race([rec.closed.then(() => true), sleep(2000).then(() => false)]);
    release();
    assert.ok(closed, 'upstream connection closed after the client went away');
    assert.ok(rec.closedEarly, 'closed before the mock finished');
    assert.ok(performance.now() - t0 < 1500);
    s.mock.setBehavior(anthropicBehavior);
  });

  test('upstream dying mid-stream: the client gets an SSE error event, not a silent end', async () => {
    s.mock.setBehavior(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      send(req, res, messageStreamEvents()[0]!);
      await sleep(30);
      res.destroy();
    });
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","stream":true,"max_tokens":1,"messages":[]}' });
    const text = res.body.toString();
    assert.ok(text.startsWith(messageStreamEvents()[0]!.slice(0, 20)));
    assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"gateway_upstream_closed"/);
    s.mock.setBehavior(anthropicBehavior);
  });

  test('the gateway keeps serving after malformed input; errors use the envelope', async () => {
    const bad = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model": "x", "messages": [' });
    assert.equal(bad.status, 400);
    const env = JSON.parse(bad.body.toString());
    assert.equal(env.type, 'error');
    assert.equal(env.error.type, 'gateway_invalid_request_error');
    assert.match(env.error.message, /not a valid JSON object/);
    assert.match(env.request_id, /^sluice_/);
    const ok = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","max_tokens":1,"messages":[]}' });
    assert.equal(ok.status, 200);
  });

  test('a body over 32 MB gets 413 and the gateway keeps serving', async () => {
    const before = s.mock.requests.length;
    const huge = Buffer.alloc(32 * 1024 * 1024 + 10, 0x20);
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: huge });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_request_too_large');
    assert.equal(s.mock.requests.length, before, 'nothing forwarded');
    const ok = await rawRequest(`${s.gw.url}/health`);
    assert.equal(ok.status, 200);
  });

  test('unknown paths outside /v1 get a gateway 404 envelope', async () => {
    const res = await rawRequest(`${s.gw.url}/v2/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{}' });
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_not_found_error');
  });
});

describe('probes and health', () => {
  let s: Stack;
  before(async () => { s = await startStack(); });
  after(() => s.close());

  test('HEAD / , GET / and /api/hello answer 200 without auth and without calling upstream', async () => {
    for (const [m, p] of [['HEAD', '/'], ['GET', '/'], ['HEAD', '/api/hello'], ['GET', '/api/hello']] as const) {
      const res = await rawRequest(`${s.gw.url}${p}`, { method: m, headers: { 'user-agent': 'Bun/1.2' } });
      assert.equal(res.status, 200, `${m} ${p}`);
    }
    assert.equal(s.mock.requests.length, 0);
  });

  test('/health reports version, uptime and the last upstream result', async () => {
    const h0 = JSON.parse((await rawRequest(`${s.gw.url}/health`)).body.toString());
    assert.equal(h0.status, 'ok');
    assert.match(h0.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof h0.uptimeSeconds, 'number');
    assert.equal(h0.lastUpstream, null);
    await rawRequest(`${s.gw.url}/v1/models`, { headers: authHeaders(s.token) });
    const h1 = JSON.parse((await rawRequest(`${s.gw.url}/health`)).body.toString());
    assert.equal(h1.lastUpstream.status, 200);
    assert.equal(h1.lastUpstream.ok, true);
    assert.equal(s.mock.requests.length, 1, 'health itself never calls upstream');
  });
});

describe('auth and hardening', () => {
  let s: Stack;
  before(async () => { s = await startStack(); });
  after(() => s.close());
  const body = '{"model":"claude-haiku-4-5","max_tokens":1,"messages":[]}';

  test('no token, a wrong token, or a revoked token -> 401 envelope, nothing forwarded', async () => {
    const { token: revoked } = await s.gw.tokens.create('to-revoke');
    await s.gw.tokens.revoke('to-revoke');
    const cases: Record<string, string>[] = [{}, { 'x-api-key': 'sk-sluice-wrong' }, { authorization: 'Bearer nope' }, { 'x-api-key': revoked }];
    for (const h of cases) {
      const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...h }, body });
      assert.equal(res.status, 401);
      assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_authentication_error');
    }
    assert.equal(s.mock.requests.length, 0);
  });

  test('a token sent as Authorization: Bearer works and is replaced by the provider key', async () => {
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200);
    const got = headerMap(s.mock.requests.at(-1)!.rawHeaders);
    assert.deepEqual(got.get('x-api-key'), [PROVIDER_KEY]);
    assert.equal(got.get('authorization'), undefined);
  });

  test('passthrough: the client own API key or OAuth token and beta go upstream unchanged', async () => {
    const clientKey = 'sk-ant-api03-FAKECLIENTKEY';
    await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': clientKey, 'content-type': 'application/json' }, body });
    assert.deepEqual(headerMap(s.mock.requests.at(-1)!.rawHeaders).get('x-api-key'), [clientKey]);
    const oauth = 'sk-ant-oat01-FAKEOAUTHTOKEN';
    await rawRequest(`${s.gw.url}/v1/messages?beta=true`, { method: 'POST', headers: { authorization: `Bearer ${oauth}`, 'anthropic-beta': 'oauth-2025-04-20,claude-code-20250219', 'content-type': 'application/json' }, body });
    const got = headerMap(s.mock.requests.at(-1)!.rawHeaders);
    assert.deepEqual(got.get('authorization'), [`Bearer ${oauth}`]);
    assert.deepEqual(got.get('anthropic-beta'), ['oauth-2025-04-20,claude-code-20250219']);
    assert.equal(got.get('x-api-key'), undefined, 'the provider key is not added to a passthrough request');
  });

  test('passthrough can be switched off in settings', async () => {
    await s.gw.settings.update((x) => { x.security.allowPassthrough = false; });
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'sk-ant-api03-FAKECLIENTKEY' }, body });
    assert.equal(res.status, 401);
    await s.gw.settings.update((x) => { x.security.allowPassthrough = true; });
  });

  test('a foreign Host is refused (DNS rebinding), loopback names are served', async () => {
    const n = s.mock.requests.length;
    for (const host of ['evil.example', 'attacker.com:7420', '127.0.0.1.nip.io', '10.0.0.1', 'localhost.evil.com']) {
      const res = await rawRequest(`${s.gw.url}/v1/models`, { headers: { ...authHeaders(s.token), host } });
      assert.equal(res.status, 403, host);
      assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_forbidden_host');
    }
    assert.equal(s.mock.requests.length, n);
    for (const host of [`localhost:${s.gw.port}`, `127.0.0.1:${s.gw.port}`, `[::1]:${s.gw.port}`]) {
      const res = await rawRequest(`${s.gw.url}/v1/models`, { headers: { ...authHeaders(s.token), host } });
      assert.equal(res.status, 200, host);
    }
  });

  test('a browser Origin is refused unless allowed in settings; no CORS headers by default', async () => {
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { ...authHeaders(s.token), origin: 'https://evil.example' }, body });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_forbidden_origin');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const pre = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 403);
    const sneaky = await rawRequest(`${s.gw.url}/v1/models`, { headers: { ...authHeaders(s.token), 'sec-fetch-site': 'cross-site' } });
    assert.equal(sneaky.status, 403);
    await s.gw.settings.update((x) => { x.security.allowedOrigins = ['http://localhost:5173']; });
    const allowed = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { ...authHeaders(s.token), origin: 'http://localhost:5173' }, body });
    assert.equal(allowed.status, 200);
  });

  test('a token created in another process after start is accepted without restart', async () => {
    const { openSettings } = await import('../proxy/store/settings.js');
    const { createTokenStore } = await import('../proxy/store/tokens.js');
    await sleep(20); // distinct mtime
    const other = createTokenStore(await openSettings(s.dataDir));
    const { token } = await other.create('created-elsewhere');
    const res = await rawRequest(`${s.gw.url}/v1/models`, { headers: authHeaders(token) });
    assert.equal(res.status, 200);
  });

  test('the provider key appears in no response and no log line', async () => {
    const responses: string[] = [];
    for (const path of ['/v1/messages', '/v1/models', '/health', '/nope']) {
      const r = await rawRequest(`${s.gw.url}${path}`, { method: path === '/v1/messages' ? 'POST' : 'GET', headers: authHeaders(s.token), body: path === '/v1/messages' ? body : undefined });
      responses.push(JSON.stringify(r.headers) + r.body.toString());
    }
    // An upstream that echoes the key back in an error message must not leak it through logs.
    s.mock.setBehavior((req, res) => sendJson(req, res, 500, { type: 'error', error: { type: 'api_error', message: 'boom' } }));
    responses.push((await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body })).body.toString());
    s.mock.setBehavior(anthropicBehavior);
    for (const r of responses) assert.ok(!r.includes(PROVIDER_KEY) && !r.includes(PROVIDER_KEY.slice(10, 30)));
    assert.ok(s.logs.length > 0, 'logs were captured');
    for (const l of s.logs) assert.ok(!l.includes(PROVIDER_KEY.slice(10, 30)), `log line leaks key: ${l}`);
    for (const l of s.logs) assert.ok(!l.includes(s.token.slice(10)), `log line leaks token: ${l}`);
  });
});

describe('upstream failures before the first byte', () => {
  test('unreachable upstream: 502 envelope at once, never a hang', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r())); // now nothing listens there
    const dir = await tempDir();
    const gw = await createGateway({ dataDir: dir.path, port: 0, secrets: null, env: { SLUICE_ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY }, logger: createLogger({ level: 'silent' }) });
    try {
    const { token } = await gw.tokens.create('t');
    // With retries (the default), the attempts and their backoff still end well inside the
    // 10 s connect timeout.
    const t0 = performance.now();
    const res = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"m","max_tokens":1,"messages":[]}' });
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_upstream_unreachable');
    assert.ok(performance.now() - t0 < 10_000);
    assert.match(JSON.parse(res.body.toString()).error.message, /^Could not connect to upstream/);
    assert.equal(res.headers['x-should-retry'], 'true');
    // Breakers count client requests: one request's retries are one failure, so they never
    // open it (the next request still goes upstream, as a direct call would).
    const h = JSON.parse((await rawRequest(`${gw.url}/health`)).body.toString());
    assert.equal(h.lastUpstream.ok, false);
    assert.equal(h.lastUpstream.error, 'GATEWAY_UPSTREAM_UNREACHABLE');
    assert.deepEqual([h.resilience.breakers[0].state, h.resilience.breakers[0].recentFailures, h.resilience.breakers[0].model], ['closed', 1, 'm']);
    } finally {
      await gw.close();
      await dir.cleanup();
    }
  });

  test('no provider key configured: a 403 naming the fix, not a retry storm', async () => {
    const s = await startStack({ env: { SLUICE_ANTHROPIC_API_KEY: '' } });
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","max_tokens":1,"messages":[]}' });
    assert.equal(res.status, 403);
    const env = JSON.parse(res.body.toString());
    assert.equal(env.error.type, 'gateway_provider_key_missing');
    assert.match(env.error.message, /sluice key set anthropic/);
    assert.equal(s.mock.requests.length, 0);
    await s.close();
  });

  test('first-byte timeout: 504 envelope', async () => {
    const s = await startStack({ behavior: async (req, res) => { await Promise.race([req.closed, sleep(5000)]); if (!res.headersSent && !req.closedEarly) res.end(); } });
    await s.gw.settings.update((x) => { x.timeouts.firstByteMs = 1000; x.resilience.retry.maxAttempts = 1; });
    const gw2 = await createGateway({ dataDir: s.dataDir, port: 0, secrets: null, env: { SLUICE_ANTHROPIC_BASE_URL: s.mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY }, logger: createLogger({ level: 'silent' }) });
    const t0 = performance.now();
    const res = await rawRequest(`${gw2.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"m","max_tokens":1,"messages":[]}' });
    assert.equal(res.status, 504);
    assert.equal(JSON.parse(res.body.toString()).error.type, 'gateway_upstream_timeout');
    assert.ok(performance.now() - t0 < 3000);
    await gw2.close();
    await s.close();
  });
});
