// "Never worse than calling Anthropic directly": each scenario runs the same scripted upstream
// twice in one test, once called directly and once through a real gateway (default settings,
// backoff scaled down so the file stays quick), and asserts Sluice's outcome is at least
// direct's: it succeeds wherever direct succeeds; where direct fails, its success rate is no
// lower and its time to the final answer at most direct's plus the configured maximum retry
// wait; it refuses without calling the upstream only for a scope the upstream reported; and an
// upstream answer reaches the client with no header the upstream did not send.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicBehavior, messageStreamEvents, sendJson, sseEvent, streamEvents, type Behavior, type MockUpstream, type RecordedRequest, startMockUpstream } from '../mock-upstream.js';
import { connectionReset, dropMidStream, keyOf, randomly, rateLimited, rateLimitHeaders, stall, statusError } from './faults.js';
import { KEY_1, KEY_2, startResilienceStack, type ResilienceStack } from './stack.js';
import { createRng } from '../prng.js';

const SONNET = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5-20251001';
const body = (model = SONNET, stream = false) => JSON.stringify({ model, max_tokens: 16, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'hi' }] });

// Defaults, with backoff scaled down (base 50 ms, cap 400 ms) so that the file stays quick;
// maxWaitMs is the default 10 s: the bound on how much later than direct Sluice may answer.
const RETRY = { baseDelayMs: 50, maxDelayMs: 400 };
const MAX_RETRY_WAIT_MS = 10_000;
// Scheduling slack on a loaded 2-core machine (never a performance claim).
const SLACK_MS = 3_000;

interface Outcome {
  status: number; // 0: no complete answer (connection error or the client's own timeout)
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** One request as a plain client sends it; `timeoutMs` is the client giving up. */
function call(url: string, apiKey: string, payload: string, timeoutMs = 20_000): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let headers: IncomingHttpHeaders = {};
    let status = 0;
    const done = (ok: boolean) => { clearTimeout(timer); resolve({ status: ok ? status : 0, headers, body: Buffer.concat(chunks), ms: performance.now() - t0 }); };
    const req = httpRequest(`${url}/v1/messages`, {
      method: 'POST', agent: false,
      headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => done(true));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
    });
    const timer = setTimeout(() => { req.destroy(); done(false); }, timeoutMs);
    req.on('error', () => done(false));
    req.end(payload);
  });
}

/** `n` requests, `concurrency` at a time, in order of issue. */
async function many(n: number, concurrency: number, one: (i: number) => Promise<Outcome>): Promise<Outcome[]> {
  const out: Outcome[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) { const i = next++; out[i] = await one(i); }
  }));
  return out;
}

const ok = (o: Outcome[]) => o.filter((x) => x.status === 200).length;
const sluiceRefusal = (o: Outcome) => o.headers['x-sluice-error-code'] as string | undefined;

/** Header names Sluice may add to an upstream answer: its own, and what HTTP itself sets. */
const ADDED_OK = /^(x-sluice-|date$|connection$|keep-alive$|transfer-encoding$)/;

/** An upstream answer relayed by Sluice carries no header the direct answer lacked. */
function assertNoInventedHeaders(direct: Outcome, sluice: Outcome): void {
  if (sluiceRefusal(sluice)) return;
  const invented = Object.keys(sluice.headers).filter((h) => !(h in direct.headers) && !ADDED_OK.test(h));
  assert.deepEqual(invented, [], `headers Sluice added to an upstream answer: ${invented.join(', ')}`);
}

function modelOf(req: RecordedRequest): string {
  try { return (JSON.parse(req.body.toString()) as { model?: string }).model ?? ''; } catch { return ''; }
}

/** The upstream for one run (direct or through Sluice): a fresh script each time. */
async function run<T>(make: () => Behavior, keys: readonly string[], fn: (url: string, apiKey: string, up: MockUpstream, s: ResilienceStack | null) => Promise<T>, via: 'direct' | 'sluice', opts: { timeouts?: Record<string, number>; resilience?: Record<string, unknown> } = {}): Promise<T> {
  if (via === 'direct') {
    const up = await startMockUpstream(make());
    try { return await fn(up.url, keys[0]!, up, null); } finally { await up.close(); }
  }
  const s = await startResilienceStack({ behavior: make(), keys, resilience: { retry: RETRY, ...opts.resilience }, ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) });
  try { return await fn(s.gw.url, s.token, s.primary, s); } finally { await s.close(); }
}

/** Sluice at least as good as direct for one request: success where direct succeeds, bounded time where it fails. */
function atLeastDirect(direct: Outcome, sluice: Outcome, what: string): void {
  if (direct.status === 200) assert.equal(sluice.status, 200, `${what}: direct succeeded, Sluice answered ${sluice.status} ${sluice.body.toString().slice(0, 200)}`);
  if (sluice.status !== 200) assert.ok(sluice.ms <= direct.ms + MAX_RETRY_WAIT_MS + SLACK_MS, `${what}: Sluice took ${sluice.ms} ms, direct ${direct.ms} ms`);
  assertNoInventedHeaders(direct, sluice);
}

/** Anthropic's answer for a model class whose output-token limit is exhausted for 30 s. */
const sonnetLimited = (keys?: readonly string[]): Behavior => (req, res, m) => {
  if (modelOf(req).includes('sonnet') && (!keys || keys.includes(keyOf(req) ?? ''))) {
    return rateLimited({ retryAfterS: 30, headers: () => rateLimitHeaders('output-tokens', 8000, 0, 30_000) })(req, res, m);
  }
  return anthropicBehavior(req, res, m);
};

describe('never worse than direct', () => {
  test('429 on model A, then a request on model B with the same key: B reaches the upstream', async () => {
    const scenario = async (url: string, key: string, up: MockUpstream) => {
      const a = await call(url, key, body(SONNET));
      const b = await call(url, key, body(HAIKU));
      return { a, b, upstreamB: up.requests.filter((r) => modelOf(r) === HAIKU).length };
    };
    const direct = await run(() => sonnetLimited(), [KEY_1], scenario, 'direct');
    const sluice = await run(() => sonnetLimited(), [KEY_1], scenario, 'sluice');
    assert.deepEqual([direct.a.status, direct.b.status], [429, 200]);
    assert.equal(sluice.a.status, 429);
    assert.equal(sluiceRefusal(sluice.a), undefined, 'the upstream\'s own 429, relayed');
    assert.equal(sluice.a.headers['retry-after'], '30', 'its retry-after as sent, nothing added');
    atLeastDirect(direct.a, sluice.a, 'model A');
    atLeastDirect(direct.b, sluice.b, 'model B');
    assert.equal(sluice.upstreamB, 1, 'model B was sent upstream, not refused for model A\'s limit');
  });

  test('429 on model A with a second key in the pool: A is served by the other key, B untouched', async () => {
    const scenario = async (url: string, key: string, up: MockUpstream) => {
      const a = await call(url, key, body(SONNET));
      const a2 = await call(url, key, body(SONNET));
      const b = await call(url, key, body(HAIKU));
      return { a, a2, b, keysForB: up.requests.filter((r) => modelOf(r) === HAIKU).map(keyOf) };
    };
    const direct = await run(() => sonnetLimited([KEY_1]), [KEY_1], scenario, 'direct');
    const sluice = await run(() => sonnetLimited([KEY_1]), [KEY_1, KEY_2], scenario, 'sluice');
    assert.deepEqual([direct.a.status, direct.a2.status, direct.b.status], [429, 429, 200]);
    assert.deepEqual([sluice.a.status, sluice.a2.status, sluice.b.status], [200, 200, 200]);
    for (const [d, s] of [[direct.a, sluice.a], [direct.b, sluice.b]] as const) atLeastDirect(d, s, 'pooled');
    assert.equal(sluice.keysForB.length, 1);
  });

  test('429 with retry-after: 1, once: Sluice waits the second and answers 200', async () => {
    const make = (): Behavior => { let n = 0; return (req, res, m) => (n++ === 0 ? statusError(429, { 'retry-after': '1' })(req, res, m) : anthropicBehavior(req, res, m)); };
    const direct = await run(make, [KEY_1], (u, k) => call(u, k, body()), 'direct');
    const sluice = await run(make, [KEY_1], (u, k) => call(u, k, body()), 'sluice');
    assert.equal(direct.status, 429);
    assert.equal(sluice.status, 200);
    assert.ok(sluice.ms <= direct.ms + MAX_RETRY_WAIT_MS + SLACK_MS);
  });

  test('persistent 529 on model A, then model B: B answers; no invented retry-after; A refused only in its own scope', async () => {
    const make = (): Behavior => (req, res, m) => (modelOf(req) === SONNET ? statusError(529)(req, res, m) : anthropicBehavior(req, res, m));
    const scenario = async (url: string, key: string, up: MockUpstream) => {
      const as: Outcome[] = [];
      for (let i = 0; i < 7; i++) as.push(await call(url, key, body(SONNET)));
      const before = up.requests.length;
      const b = await call(url, key, body(HAIKU));
      return { as, b, bSent: up.requests.length - before };
    };
    const direct = await run(make, [KEY_1], scenario, 'direct');
    const sluice = await run(make, [KEY_1], scenario, 'sluice');
    assert.ok(direct.as.every((o) => o.status === 529));
    assert.equal(direct.b.status, 200);
    assert.equal(sluice.b.status, 200);
    assert.equal(sluice.bSent, 1, 'model B reached the upstream');
    assert.equal(sluice.b.headers['x-sluice-attempts'], undefined);
    for (let i = 0; i < direct.as.length; i++) {
      const s = sluice.as[i]!;
      atLeastDirect(direct.as[i]!, s, `529 #${i}`);
      if (sluiceRefusal(s)) {
        // An open breaker: only after the upstream failed this model, and it says so.
        assert.equal(sluiceRefusal(s), 'GATEWAY_CIRCUIT_OPEN');
        assert.ok(i >= 5, `refused at request ${i}: one request's retries must not open a breaker`);
        assert.match(JSON.parse(s.body.toString()).error.message, new RegExp(SONNET));
        assert.equal(s.headers['x-should-retry'], 'true');
        assert.ok(Number(s.headers['retry-after']) >= 1 && Number(s.headers['retry-after']) <= 30);
      } else {
        assert.equal(s.status, 529);
        assert.equal(s.headers['retry-after'], undefined, 'the upstream sent no retry-after');
      }
    }
  });

  test('20 % 529 storm over 500 requests: no lower success rate', async () => {
    const make = () => randomly(0.2, createRng(2323), statusError(529));
    const direct = await run(make, [KEY_1], (u, k) => many(500, 10, () => call(u, k, body())), 'direct');
    const sluice = await run(make, [KEY_1], async (u, k, up) => ({ out: await many(500, 10, () => call(u, k, body())), calls: up.requests.length }), 'sluice');
    const d = ok(direct);
    const s = ok(sluice.out);
    assert.ok(d < 450 && d > 350, `direct ${d}/500`);
    assert.ok(s >= d && s >= 495, `Sluice ${s}/500, direct ${d}/500`);
    assert.ok(sluice.calls / 500 <= 1.5, `${sluice.calls} upstream calls for 500 requests`);
    assert.ok(!sluice.out.some((o) => sluiceRefusal(o)), 'no refusal: the breaker stays closed at 20 %');
  });

  test('500 once: Sluice retries it', async () => {
    const make = (): Behavior => { let n = 0; return (req, res, m) => (n++ === 0 ? statusError(500)(req, res, m) : anthropicBehavior(req, res, m)); };
    const direct = await run(make, [KEY_1], (u, k) => call(u, k, body()), 'direct');
    const sluice = await run(make, [KEY_1], (u, k) => call(u, k, body()), 'sluice');
    assert.equal(direct.status, 500);
    assert.equal(sluice.status, 200);
  });

  test('a stall before headers: a slow answer arrives both ways; a dead one fails no later than direct', async () => {
    const slow = () => stall(1_200);
    const d1 = await run(slow, [KEY_1], (u, k) => call(u, k, body()), 'direct');
    const s1 = await run(slow, [KEY_1], (u, k) => call(u, k, body()), 'sluice');
    atLeastDirect(d1, s1, 'slow first byte');
    // Dead for longer than the client waits (a short stall keeps no timer alive after the file).
    const dead = () => stall(5_000);
    const d2 = await run(dead, [KEY_1], (u, k) => call(u, k, body(), 1_500), 'direct');
    const s2 = await run(dead, [KEY_1], (u, k, up) => call(u, k, body(), 1_500).then(async (o) => ({ o, up })), 'sluice');
    assert.equal(d2.status, 0);
    assert.equal(s2.o.status, 0);
    assert.ok(s2.o.ms <= d2.ms + SLACK_MS);
  });

  for (const variant of ['default time-to-headers', 'short time-to-headers'] as const) {
    test(`two keys, one stalled (${variant}): >= 99 % succeed through the healthy key, no breaker opens`, async () => {
      // The stalled key accepts the request and never answers while the client waits.
      const make = (): Behavior => (req, res, m) => (keyOf(req) === KEY_1 ? stall(5_000)(req, res, m) : anthropicBehavior(req, res, m));
      const timeouts = variant === 'short time-to-headers' ? { firstByteMs: 1_000 } : undefined;
      // Before any key has answered, a burst of 4 can put 2 requests on the stalled key; after
      // that, every request goes to the key that answers.
      const n = 200;
      const direct = await run(make, [KEY_1], (u, k) => many(4, 4, () => call(u, k, body(), 2_000)), 'direct');
      const sluice = await run(make, [KEY_1, KEY_2], async (u, k, _up, s) => {
        const out = await many(n, 4, () => call(u, k, body(), 2_000));
        return { out, health: await s!.health(), rows: await s!.rows(), upstream: s!.primary.requests.length };
      }, 'sluice', timeouts ? { timeouts } : {});
      assert.equal(ok(direct), 0, 'direct on the stalled key: nothing');
      assert.ok(ok(sluice.out) >= 0.99 * n, `${ok(sluice.out)}/${n} through Sluice`);
      assert.ok(sluice.health.resilience.breakers.every((b) => b.state === 'closed'), JSON.stringify(sluice.health.resilience.breakers));
      // The ledger counts every upstream attempt, the abandoned ones included.
      assert.equal(sluice.rows.length, n);
      assert.equal(sluice.rows.reduce((a, r) => a + r.attemptsMade, 0), sluice.upstream);
    });
  }

  test('20 % 529 + 5 % resets + one key always 429: >= 99.5 % succeed, <= 1.5 upstream attempts per request', async () => {
    const make = (): Behavior => {
      const rng = createRng(4242);
      return (req, res, m) => {
        if (keyOf(req) === KEY_1) return rateLimited({ retryAfterS: 30, headers: () => rateLimitHeaders('requests', 50, 0, 30_000) })(req, res, m);
        const r = rng();
        if (r < 0.2) return statusError(529)(req, res, m);
        if (r < 0.25) return connectionReset(req, res, m);
        return anthropicBehavior(req, res, m);
      };
    };
    const n = 1000;
    // Direct uses the working key: the best a user could do by hand.
    const direct = await run(make, [KEY_2], (u, k) => many(n, 16, () => call(u, k, body())), 'direct');
    const sluice = await run(make, [KEY_1, KEY_2], async (u, k, up, s) => ({ out: await many(n, 16, () => call(u, k, body())), calls: up.requests.length, rows: await s!.rows() }), 'sluice');
    assert.ok(ok(sluice.out) >= ok(direct));
    const failures = sluice.out.filter((o) => o.status !== 200).map((o) => `${o.status} ${o.body.toString().slice(0, 160)}`);
    assert.ok(ok(sluice.out) >= 0.995 * n, `${ok(sluice.out)}/${n}: ${failures.join(' | ')}`);
    assert.ok(sluice.calls / n <= 1.5, `${sluice.calls} upstream attempts for ${n} requests`);
    assert.equal(sluice.rows.reduce((a, r) => a + r.attemptsMade, 0), sluice.calls, 'ledger attempts equal the upstream\'s');
  });

  test('mid-stream event: error: the same bytes both ways, never retried', async () => {
    const events = [...messageStreamEvents({ id: 'msg_fixed_1' }).slice(0, 3), sseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })];
    const make = (): Behavior => (req, res) => streamEvents(req, res, events, 0, { 'request-id': 'req_fixed_1' });
    const direct = await run(make, [KEY_1], (u, k) => call(u, k, body(SONNET, true)), 'direct');
    const sluice = await run(make, [KEY_1], async (u, k, up) => ({ o: await call(u, k, body(SONNET, true)), calls: up.requests.length }), 'sluice');
    assert.equal(sluice.o.status, direct.status);
    assert.equal(sluice.o.body.toString(), direct.body.toString());
    assert.equal(sluice.calls, 1);
    assertNoInventedHeaders(direct, sluice.o);
  });

  test('mid-stream reset: the bytes that arrived are the same; Sluice says the upstream closed mid-response', async () => {
    const make = () => dropMidStream(3);
    const direct = await run(make, [KEY_1], (u, k) => call(u, k, body(SONNET, true)), 'direct');
    const sluice = await run(make, [KEY_1], async (u, k, up) => ({ o: await call(u, k, body(SONNET, true)), calls: up.requests.length }), 'sluice');
    // The mock's message ids differ per run; everything else is byte for byte.
    const norm = (b: Buffer) => b.toString().replace(/msg_mock_[0-9a-f]+/g, 'msg_X');
    const got = norm(direct.body);
    assert.ok(got.startsWith('event: message_start'));
    assert.ok(norm(sluice.o.body).startsWith(got), 'the same events first');
    assert.match(norm(sluice.o.body).slice(got.length), /^event: error\ndata: .*"gateway_upstream_closed"/);
    assert.equal(sluice.calls, 1, 'a started stream is never retried');
  });

  test('the Anthropic SDK with its default retries: success where direct succeeds; a persistent 529 fails no later than direct plus the retry wait', async () => {
    const sdk = async (url: string, key: string) => {
      const client = new Anthropic({ baseURL: url, apiKey: key });
      const t0 = performance.now();
      try {
        await client.messages.create({ model: SONNET, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
        return { ok: true, ms: performance.now() - t0 };
      } catch (err) {
        return { ok: false, status: (err as { status?: number }).status, ms: performance.now() - t0 };
      }
    };
    const once429 = (): Behavior => { let n = 0; return (req, res, m) => (n++ === 0 ? statusError(429, { 'retry-after': '1' })(req, res, m) : anthropicBehavior(req, res, m)); };
    assert.equal((await run(once429, [KEY_1], sdk, 'direct')).ok, true);
    assert.equal((await run(once429, [KEY_1], sdk, 'sluice')).ok, true);
    const always529 = () => statusError(529);
    const d = await run(always529, [KEY_1], sdk, 'direct');
    const s = await run(always529, [KEY_1], sdk, 'sluice');
    assert.equal(d.ok, false);
    assert.equal(s.ok, false);
    assert.equal(s.status, 529);
    assert.ok(s.ms <= d.ms + MAX_RETRY_WAIT_MS + SLACK_MS, `SDK through Sluice ${s.ms} ms, direct ${d.ms} ms`);
  });

  test('two gateways\' worth of keys: pooling still serves what one key alone cannot', async () => {
    // Each key answers 5 requests per window, then 429s naming its exhausted request limit.
    const make = (): Behavior => {
      const used = new Map<string, number>();
      return (req, res, m) => {
        const k = keyOf(req) ?? '';
        const n = (used.get(k) ?? 0) + 1;
        used.set(k, n);
        if (n > 5) return sendJson(req, res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'limit' } }, { 'retry-after': '30', ...rateLimitHeaders('requests', 5, 0, 30_000) });
        return anthropicBehavior(req, res, m);
      };
    };
    const direct = await run(make, [KEY_1], (u, k) => many(10, 1, () => call(u, k, body())), 'direct');
    const sluice = await run(make, [KEY_1, KEY_2], (u, k) => many(10, 1, () => call(u, k, body())), 'sluice');
    assert.equal(ok(direct), 5);
    assert.equal(ok(sluice), 10);
  });
});
