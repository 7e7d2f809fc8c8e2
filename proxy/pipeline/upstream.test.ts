// Unit tests of sendResilient: a real undici Agent against the fault-mode mock upstream, a fake
// clock, a fixed random and a sleep that records each wait instead of sleeping, so every wait
// is asserted exactly and the suite stays fast.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import {
  abortableSleep, sendResilient, withModel, UpstreamsUnavailableError, type RetryConfig, type SendDeps, type Target,
} from './upstream.js';
import { ClientAbortError, type ResponseSink } from './forward.js';
import { CircuitBreaker, type BreakerOptions } from './resilience/breaker.js';
import { KeyPool } from './resilience/key-pool.js';
import { RetryBudget } from './resilience/policy.js';
import type { GatewayError } from '../errors.js';
import { anthropicBehavior, startMockUpstream, type MockUpstream } from '../../test/mock-upstream.js';
import {
  connectionReset, dropMidStream, firstN, keyOf, rateLimited, slowFirstByte, stall, statusError,
} from '../../test/resilience/faults.js';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const BODY = Buffer.from('{"model":"claude-sonnet-4-5-20250929","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}');
const STREAM_BODY = Buffer.from('{"model":"claude-sonnet-4-5-20250929","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}');
const RAW_HEADERS = ['content-type', 'application/json', 'anthropic-version', '2023-06-01', 'x-api-key', 'local-token'];

let primary: MockUpstream;
let backup: MockUpstream;
let agent: Agent;

before(async () => {
  primary = await startMockUpstream();
  backup = await startMockUpstream();
  agent = new Agent({ connections: 32 });
});
after(async () => {
  await agent.close();
  await primary.close();
  await backup.close();
});
beforeEach(() => {
  for (const m of [primary, backup]) {
    m.requests.length = 0;
    m.setBehavior(anthropicBehavior);
  }
});

interface SinkLog {
  status: number | null;
  headers: Record<string, string | string[]>;
  body: Buffer[];
  ended: boolean;
  failed: GatewayError | null;
}

function recordingSink(): { sink: ResponseSink; log: SinkLog } {
  const log: SinkLog = { status: null, headers: {}, body: [], ended: false, failed: null };
  return {
    log,
    sink: {
      start(status, headers) {
        assert.equal(log.status, null, 'the sink is started once');
        log.status = status;
        log.headers = headers;
      },
      write(chunk) { log.body.push(chunk); return true; },
      onDrain() {},
      end() { log.ended = true; },
      fail(err) { log.failed = err; },
    },
  };
}

interface HarnessOptions {
  keys?: number;
  retry?: Partial<RetryConfig>;
  breaker?: Partial<BreakerOptions>;
  budget?: RetryBudget;
  random?: number;
  /** A second target on the backup mock (a fallback, optionally with a model rewrite). */
  fallback?: { model?: string };
}

function harness(o: HarnessOptions = {}) {
  const clock = { t: T0 };
  const now = () => clock.t;
  const waits: number[] = [];
  const controller = new AbortController();
  const bopts: BreakerOptions = { failureThreshold: 5, windowMs: 30_000, openMs: 30_000, halfOpenProbes: 1, ...o.breaker };
  const mkTarget = (name: string, mock: MockUpstream, keyPrefix: string, fallback: boolean, model: string | null): Target => {
    const pool = new KeyPool(name, now);
    pool.setKeys(Array.from({ length: o.keys ?? 1 }, (_, i) => ({ id: `${name}:env${i + 1}`, key: `${keyPrefix}-${i + 1}`, hint: String(i + 1) })));
    return { name, baseUrl: new URL(mock.url), pool, breaker: new CircuitBreaker(name, () => bopts, now), model, fallback };
  };
  const targets = [mkTarget('anthropic', primary, 'test-key', false, null)];
  if (o.fallback) targets.push(mkTarget('backup', backup, 'test-backup', true, o.fallback.model ?? null));
  const started: number[] = [];
  let chunkBytes = 0;
  const deps: SendDeps = {
    dispatcher: agent,
    retry: { maxAttempts: 4, maxTotalMs: 60_000, baseDelayMs: 100, maxDelayMs: 1_000, maxWaitMs: 5_000, ...o.retry },
    budget: o.budget ?? new RetryBudget(1, 100),
    now,
    random: () => o.random ?? 0.5,
    // Records instead of sleeping and moves the fake clock, so cooldowns and caps see the wait.
    sleep: async (ms, signal) => {
      if (signal.aborted) throw new ClientAbortError();
      waits.push(ms);
      clock.t += ms;
    },
    hooks: { onStart: (status) => started.push(status), onChunk: (c) => { chunkBytes += c.length; } },
    servedHeaders: (t, n) => ({ 'x-served-by': t.name, 'x-attempts': String(n) }),
  };
  const { sink, log } = recordingSink();
  const send = (body: Buffer = BODY) => sendResilient(deps, targets, {
    method: 'POST', url: '/v1/messages', rawHeaders: RAW_HEADERS, body, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000,
  }, sink, controller.signal);
  return { clock, waits, controller, targets, deps, log, send, started, chunkBytes: () => chunkBytes, primaryPool: targets[0]!.pool!, primaryBreaker: targets[0]!.breaker };
}

/** Waits for a started response to finish streaming into the sink. */
async function finished(r: Awaited<ReturnType<ReturnType<typeof harness>['send']>>) {
  if (r.delivered.kind === 'started') return r.delivered.done;
  return null;
}

describe('sendResilient: 529 and 5xx', () => {
  test('a 529 burst is retried with full-jitter backoff; only the delivered response is metered', async () => {
    primary.setBehavior(firstN(2, statusError(529)));
    const h = harness();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, [50, 100], 'random 0.5 of 100 then 200');
    assert.deepEqual(r.attempts.map((a) => [a.n, a.status, a.error, a.keyId, a.waitMs]), [
      [1, 529, null, 'anthropic:env1', 0],
      [2, 529, null, 'anthropic:env1', 50],
      [3, 200, null, 'anthropic:env1', 100],
    ]);
    assert.equal(primary.requests.length, 3);
    assert.equal(h.log.status, 200);
    assert.equal(h.log.headers['x-attempts'], '3');
    assert.equal(h.log.headers['x-served-by'], 'anthropic');
    assert.deepEqual(h.started, [200], 'the held 529s never reached the meter');
    assert.equal(h.chunkBytes(), Buffer.concat(h.log.body).length);
    assert.equal(JSON.parse(Buffer.concat(h.log.body).toString()).type, 'message');
    // Each attempt went out with the pool key in place of the client's local token.
    assert.deepEqual(primary.requests.map(keyOf), ['test-key-1', 'test-key-1', 'test-key-1']);
  });

  test('retry-after on a 529 is honoured when within maxWaitMs', async () => {
    primary.setBehavior(firstN(1, statusError(529, { 'retry-after': '2' })));
    const h = harness();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, [2_000]);
    assert.deepEqual(r.attempts.map((a) => a.status), [529, 200]);
  });

  test('500, 502, 503 and 504 are retried; 400 is not', async () => {
    for (const s of [500, 502, 503, 504]) {
      primary.requests.length = 0;
      primary.setBehavior(firstN(1, statusError(s)));
      const h = harness();
      const r = await h.send();
      await finished(r);
      assert.deepEqual(r.attempts.map((a) => a.status), [s, 200], String(s));
    }
    primary.requests.length = 0;
    primary.setBehavior(statusError(400));
    const h = harness();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(r.attempts.map((a) => a.status), [400]);
    assert.equal(h.log.status, 400);
    assert.deepEqual(h.waits, []);
  });

  test('a retry-after longer than maxWaitMs is not undercut by an early retry', async () => {
    primary.setBehavior(firstN(1, statusError(503, { 'retry-after': '30' })));
    const h = harness({ retry: { maxWaitMs: 5_000 } });
    const r = await h.send();
    await finished(r);
    // The upstream asked for 30 s; the answer goes back at once with its retry-after.
    assert.deepEqual(h.waits, []);
    assert.equal(primary.requests.length, 1);
    assert.equal(h.log.status, 503);
    assert.equal(h.log.headers['retry-after'], '30');
  });

  test('maxAttempts caps the attempts; the last answer is streamed as it came', async () => {
    primary.setBehavior(statusError(529));
    const h = harness({ retry: { maxAttempts: 3 } });
    const r = await h.send();
    await finished(r);
    assert.equal(r.delivered.kind, 'started');
    assert.deepEqual(r.attempts.map((a) => a.status), [529, 529, 529]);
    assert.deepEqual(h.waits, [50, 100]);
    assert.equal(h.log.status, 529);
    assert.equal(JSON.parse(Buffer.concat(h.log.body).toString()).error.type, 'overloaded_error');
    assert.deepEqual(h.started, [529]);
  });

  test('maxTotalMs caps the time: a backoff that would cross it delivers the held answer', async () => {
    primary.setBehavior(statusError(529));
    const h = harness({ retry: { maxTotalMs: 120 }, random: 0.99 });
    const r = await h.send();
    await finished(r);
    // 99 ms fits in 120; the next backoff (198 ms) does not.
    assert.deepEqual(h.waits, [99]);
    assert.deepEqual(r.attempts.map((a) => a.status), [529, 529]);
    assert.equal(r.delivered.kind, 'held');
    assert.equal(h.log.status, 529);
  });

  test('an empty retry budget stops retrying', async () => {
    primary.setBehavior(statusError(529));
    const budget = new RetryBudget(0, 1);
    const h = harness({ budget });
    const r = await h.send();
    await finished(r);
    assert.deepEqual(r.attempts.map((a) => a.status), [529, 529], 'one token, one retry');
    assert.equal(budget.available, 0);
    assert.equal(h.log.status, 529);
  });
});

describe('sendResilient: 429 and key pools', () => {
  test('a 429 on one key is retried at once on the other key', async () => {
    primary.setBehavior(rateLimited({ keys: ['test-key-1'], retryAfterS: 30 }));
    const h = harness({ keys: 2 });
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, []);
    assert.deepEqual(r.attempts.map((a) => [a.keyId, a.status]), [['anthropic:env1', 429], ['anthropic:env2', 200]]);
    assert.equal(r.keyId, 'anthropic:env2');
    assert.equal(h.primaryPool.snapshot()[0]!.coolingUntil, T0 + 30_000);
    assert.deepEqual(h.started, [200]);
    // The next request goes straight to the key that is not resting.
    const again = harness({ keys: 2 });
    again.targets[0] = h.targets[0]!;
    const r2 = await again.send();
    await finished(r2);
    assert.deepEqual(r2.attempts.map((a) => a.keyId), ['anthropic:env2']);
  });

  test('one key resting for less than maxWaitMs: wait for it, then retry the same key', async () => {
    primary.setBehavior(firstN(1, rateLimited({ retryAfterS: 1 })));
    const h = harness();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, [1_000]);
    assert.deepEqual(r.attempts.map((a) => [a.keyId, a.status, a.waitMs]), [['anthropic:env1', 429, 0], ['anthropic:env1', 200, 1_000]]);
  });

  test('every key resting longer than maxWaitMs: the 429 goes back at once; the next request is refused locally', async () => {
    primary.setBehavior(rateLimited({ retryAfterS: 60 }));
    const h = harness({ keys: 2 });
    const r = await h.send();
    assert.deepEqual(h.waits, []);
    assert.deepEqual(r.attempts.map((a) => [a.keyId, a.status]), [['anthropic:env1', 429], ['anthropic:env2', 429]]);
    assert.equal(h.log.status, 429);
    assert.equal(h.log.headers['retry-after'], '60');
    assert.equal(JSON.parse(Buffer.concat(h.log.body).toString()).error.type, 'rate_limit_error');
    const again = harness({ keys: 2 });
    again.targets[0] = h.targets[0]!;
    await assert.rejects(again.send(), (err: unknown) => {
      assert.ok(err instanceof UpstreamsUnavailableError);
      assert.equal(err.status, 429);
      assert.equal(err.code, 'GATEWAY_ALL_KEYS_RATE_LIMITED');
      assert.equal(err.headers?.['retry-after'], '60');
      return true;
    });
    assert.equal(primary.requests.length, 2, 'no upstream call while every key rests');
  });

  test('a 429 without any hint: the held answer goes out as the upstream sent it, no retry-after added', async () => {
    primary.setBehavior(rateLimited({ retryAfterS: null }));
    const h = harness({ retry: { maxWaitMs: 1_000 } });
    await h.send();
    assert.equal(h.log.status, 429);
    assert.equal(h.log.headers['retry-after'], undefined);
    assert.deepEqual(h.waits, []);
  });
});

describe('sendResilient: network faults and timeouts', () => {
  test('a connection reset before headers is retried after a backoff', async () => {
    primary.setBehavior(firstN(1, connectionReset));
    const h = harness();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, [50]);
    assert.deepEqual(r.attempts.map((a) => [a.status, a.error]), [[null, 'GATEWAY_UPSTREAM_UNREACHABLE'], [200, null]]);
    assert.equal(h.log.status, 200);
  });

  test('connection refused on every attempt: the gateway error after maxAttempts', async () => {
    const h = harness({ retry: { maxAttempts: 3 } });
    h.targets[0]!.baseUrl = new URL('http://127.0.0.1:1');
    await assert.rejects(h.send(), (err: GatewayError) => err.code === 'GATEWAY_UPSTREAM_UNREACHABLE');
    assert.deepEqual(h.waits, [50, 100]);
    assert.equal(h.log.status, null, 'nothing reached the client sink');
  });

  test('a stall past the first-byte timeout is retried; a slow first byte within it is not', async () => {
    primary.setBehavior(firstN(1, stall(3_000)));
    const h = harness();
    const t0 = performance.now();
    const r = await sendResilient(h.deps, h.targets, { method: 'POST', url: '/v1/messages', rawHeaders: RAW_HEADERS, body: BODY, headersTimeoutMs: 300, bodyTimeoutMs: 5_000 }, recordingSink().sink, h.controller.signal);
    await finished(r);
    assert.deepEqual(r.attempts.map((a) => [a.status, a.error]), [[null, 'GATEWAY_UPSTREAM_TIMEOUT'], [200, null]]);
    assert.ok(performance.now() - t0 < 2_500, 'the stall was cut at the timeout');
    primary.requests.length = 0;
    primary.setBehavior(slowFirstByte(150));
    const h2 = harness();
    const r2 = await sendResilient(h2.deps, h2.targets, { method: 'POST', url: '/v1/messages', rawHeaders: RAW_HEADERS, body: BODY, headersTimeoutMs: 2_000, bodyTimeoutMs: 5_000 }, recordingSink().sink, h2.controller.signal);
    await finished(r2);
    assert.deepEqual(r2.attempts.map((a) => a.status), [200]);
    assert.equal(primary.requests.length, 1);
  });

  test('a stream that drops after it started is never retried; the sink is failed', async () => {
    primary.setBehavior(dropMidStream(3));
    const h = harness();
    const r = await h.send(STREAM_BODY);
    assert.equal(r.delivered.kind, 'started');
    const end = await finished(r);
    assert.ok(end?.error, 'the drop is reported');
    assert.equal(h.log.status, 200);
    assert.equal(h.log.failed?.code, 'GATEWAY_UPSTREAM_CLOSED');
    assert.equal(r.attempts.length, 1);
    assert.equal(primary.requests.length, 1);
    assert.match(Buffer.concat(h.log.body).toString(), /message_start/);
  });
});

describe('sendResilient: breakers and fallbacks', () => {
  test('an open breaker is skipped at once for the fallback target, which gets its own key', async () => {
    const h = harness({ breaker: { failureThreshold: 1 }, fallback: {} });
    h.primaryBreaker.onFailure();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, []);
    assert.equal(primary.requests.length, 0);
    assert.deepEqual(r.attempts.map((a) => [a.target, a.keyId, a.status]), [['backup', 'backup:env1', 200]]);
    assert.equal(r.target.fallback, true);
    assert.equal(h.log.headers['x-served-by'], 'backup');
    assert.deepEqual(backup.requests.map(keyOf), ['test-backup-1']);
  });

  test('two failed attempts move the request to the fallback; one request counts once, so the breaker stays closed', async () => {
    primary.setBehavior(statusError(529));
    const h = harness({ breaker: { failureThreshold: 2 }, fallback: {} });
    const r = await h.send();
    await finished(r);
    assert.deepEqual(r.attempts.map((a) => [a.target, a.status]), [['anthropic', 529], ['anthropic', 529], ['backup', 200]]);
    assert.equal(h.primaryBreaker.current(), 'closed');
    assert.equal(h.primaryBreaker.snapshot().recentFailures, 1);
    assert.deepEqual(h.waits, [50], 'no backoff before another target');
  });

  test('a fallback model rewrite changes only the model bytes', async () => {
    const body = Buffer.from('{ "model" :  "claude-sonnet-4-5-20250929" ,"max_tokens":16,"messages":[{"role":"user","content":"model: claude-sonnet-4-5-20250929"}],"metadata":{"model":"x"}}');
    const h = harness({ breaker: { failureThreshold: 1 }, fallback: { model: 'claude-haiku-4-5-20251001' } });
    h.primaryBreaker.onFailure();
    const r = await h.send(body);
    await finished(r);
    assert.equal(backup.requests[0]!.body.toString(), body.toString().replace('"claude-sonnet-4-5-20250929" ,', '"claude-haiku-4-5-20251001" ,'));
    assert.equal(r.attempts[0]!.model, 'claude-haiku-4-5-20251001');
  });

  test('an open breaker with no fallback: 503 at once when openMs exceeds maxWaitMs', async () => {
    const h = harness({ breaker: { failureThreshold: 1, openMs: 30_000 } });
    h.primaryBreaker.onFailure();
    await assert.rejects(h.send(), (err: unknown) => {
      assert.ok(err instanceof UpstreamsUnavailableError);
      assert.equal(err.status, 503);
      assert.equal(err.code, 'GATEWAY_CIRCUIT_OPEN');
      assert.equal(err.headers?.['retry-after'], '30');
      return true;
    });
    assert.deepEqual(h.waits, []);
    assert.equal(primary.requests.length, 0);
  });

  test('an open breaker that half-opens within maxWaitMs: wait, probe, close', async () => {
    const h = harness({ breaker: { failureThreshold: 1, openMs: 2_000 } });
    h.primaryBreaker.onFailure();
    const r = await h.send();
    await finished(r);
    assert.deepEqual(h.waits, [2_000]);
    assert.deepEqual(r.attempts.map((a) => [a.status, a.waitMs]), [[200, 2_000]]);
    assert.equal(h.primaryBreaker.current(), 'closed');
  });

  test('a failed probe re-opens the breaker and the fallback serves', async () => {
    primary.setBehavior(statusError(500));
    const h = harness({ breaker: { failureThreshold: 1, openMs: 1_000 }, fallback: {} });
    h.primaryBreaker.onFailure();
    h.clock.t += 1_000;
    const r = await h.send();
    await finished(r);
    assert.deepEqual(r.attempts.map((a) => [a.target, a.status]), [['anthropic', 500], ['backup', 200]]);
    assert.equal(h.primaryBreaker.current(), 'open');
  });

  test('a half-open breaker whose probe slots are taken is skipped without waiting', async () => {
    const h = harness({ breaker: { failureThreshold: 1, openMs: 1_000 }, retry: { maxTotalMs: 40 } });
    h.primaryBreaker.onFailure();
    h.clock.t += 1_000;
    assert.equal(h.primaryBreaker.tryAcquire(), true, 'another request holds the only probe');
    await assert.rejects(h.send(), (err: GatewayError) => err.code === 'GATEWAY_CIRCUIT_OPEN');
    assert.deepEqual(h.waits, []);
  });
});

describe('sendResilient: client aborts', () => {
  test('an abort during a backoff wait stops further attempts and frees the key', async () => {
    primary.setBehavior(statusError(529, { 'retry-after': '2' }));
    const h = harness();
    h.deps.sleep = (ms, signal) => {
      h.waits.push(ms);
      h.controller.abort();
      return abortableSleep(ms, signal);
    };
    await assert.rejects(h.send(), ClientAbortError);
    assert.deepEqual(h.waits, [2_000]);
    assert.equal(primary.requests.length, 1);
    assert.equal(h.primaryPool.snapshot()[0]!.inFlight, 0);
    assert.equal(h.log.status, null);
  });

  test('an abort while a half-open probe is in flight frees the probe slot', async () => {
    primary.setBehavior(stall(3_000));
    const h = harness({ breaker: { failureThreshold: 1, openMs: 1_000 } });
    h.primaryBreaker.onFailure();
    h.clock.t += 1_000;
    const p = h.send();
    setTimeout(() => h.controller.abort(), 100);
    await assert.rejects(p, ClientAbortError);
    assert.equal(h.primaryBreaker.current(), 'half_open');
    assert.equal(h.primaryBreaker.tryAcquire(), true, 'the slot is free for the next probe');
    assert.equal(h.primaryPool.snapshot()[0]!.inFlight, 0);
  });
});

describe('withModel and abortableSleep', () => {
  test('withModel replaces only the top-level model value; a body without one is unchanged', () => {
    const body = Buffer.from('{"messages":[{"model":"inner"}],"model":"a","x":"model"}');
    assert.equal(withModel(body, 'b"c').toString(), '{"messages":[{"model":"inner"}],"model":"b\\"c","x":"model"}');
    const none = Buffer.from('{"messages":[]}');
    assert.equal(withModel(none, 'b'), none);
  });

  test('abortableSleep resolves after the time and rejects on abort', async () => {
    const c = new AbortController();
    const t0 = performance.now();
    await abortableSleep(30, c.signal);
    assert.ok(performance.now() - t0 >= 25);
    const p = abortableSleep(10_000, c.signal);
    c.abort();
    await assert.rejects(p, ClientAbortError);
    await assert.rejects(abortableSleep(10, c.signal), ClientAbortError);
  });
});
