// Resilience end to end: a real gateway (createGateway, env key pools) in front of fault-mode
// mock upstreams. Each fault's attempts, keys, waits, client answer and ledger rows; key pools
// under a rate-limited key; breaker states in /health; fallback chains; the retry budget.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { anthropicBehavior, sleep } from '../mock-upstream.js';
import {
  connectionReset, dropMidStream, firstN, keyOf, rateLimited, rateLimitHeaders, slowFirstByte, stall, statusError,
} from './faults.js';
import { BACKUP_KEY, BODY, KEY_1, KEY_2, STREAM_BODY, keysSeen, startResilienceStack } from './stack.js';

const fast = { baseDelayMs: 20, maxDelayMs: 200 };

describe('each fault mode through the gateway', () => {
  test('529 burst: retried, one billed row with every attempt', async () => {
    const s = await startResilienceStack({ behavior: firstN(2, statusError(529)), resilience: { retry: fast } });
    try {
      const res = await s.post();
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-sluice-attempts'], '3');
      assert.equal(res.headers['x-sluice-served-by'], 'anthropic');
      assert.equal(res.headers['x-sluice-fallback'], undefined);
      assert.equal(s.primary.requests.length, 3);
      const rows = await s.rows();
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.equal(row.status, 200);
      assert.equal(row.billed, true);
      assert.equal(row.attemptsMade, 3);
      assert.equal(row.target, 'anthropic');
      assert.equal(row.fallback, false);
      assert.deepEqual(row.attempts.map((a) => [a.n, a.status, a.keyId]), [[1, 529, 'anthropic:env1'], [2, 529, 'anthropic:env1'], [3, 200, 'anthropic:env1']]);
      assert.equal(row.attempts[0]!.waitMs, 0);
      assert.ok(row.attempts[1]!.waitMs! >= 0 && row.attempts[1]!.waitMs! < 20, `first backoff within [0, base): ${row.attempts[1]!.waitMs}`);
      assert.ok(row.attempts[2]!.waitMs! >= 0 && row.attempts[2]!.waitMs! < 40, `second backoff within [0, 2 base): ${row.attempts[2]!.waitMs}`);
      // The delivered response's tokens only: one response's usage, not three.
      assert.equal(row.outputTokens, 9);
      const stats = s.gw.ledger!.attemptStats();
      assert.deepEqual(stats.map((x) => [x.target, x.keyId, x.attempts, x.overloaded, x.successes]), [['anthropic', 'anthropic:env1', 3, 2, 1]]);
    } finally {
      await s.close();
    }
  });

  test('529 with retry-after: the wait honours it', async () => {
    const s = await startResilienceStack({ behavior: firstN(1, statusError(529, { 'retry-after': '1' })), resilience: { retry: fast } });
    try {
      const t0 = performance.now();
      const res = await s.post();
      assert.equal(res.status, 200);
      assert.ok(performance.now() - t0 >= 950);
      const [row] = await s.rows();
      assert.deepEqual(row!.attempts.map((a) => a.status), [529, 200]);
      assert.ok(row!.attempts[1]!.waitMs! >= 1000, `waited ${row!.attempts[1]!.waitMs}`);
    } finally {
      await s.close();
    }
  });

  test('connection reset before headers: retried; the failed attempt is a network error', async () => {
    const s = await startResilienceStack({ behavior: firstN(2, connectionReset), resilience: { retry: fast } });
    try {
      const res = await s.post();
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-sluice-attempts'], '3');
      const [row] = await s.rows();
      assert.deepEqual(row!.attempts.map((a) => [a.status, a.error]), [[null, 'GATEWAY_UPSTREAM_UNREACHABLE'], [null, 'GATEWAY_UPSTREAM_UNREACHABLE'], [200, null]]);
      assert.equal(row!.billed, true);
      assert.equal(s.gw.ledger!.attemptStats()[0]!.networkErrors, 2);
    } finally {
      await s.close();
    }
  });

  test('stall past the first-byte timeout: cut at the timeout and retried', async () => {
    const s = await startResilienceStack({ behavior: firstN(1, stall(5_000)), resilience: { retry: fast }, timeouts: { firstByteMs: 1_000 } });
    try {
      const t0 = performance.now();
      const res = await s.post();
      const ms = performance.now() - t0;
      assert.equal(res.status, 200);
      assert.ok(ms >= 950 && ms < 3_000, `took ${ms} ms`);
      const [row] = await s.rows();
      assert.deepEqual(row!.attempts.map((a) => [a.status, a.error]), [[null, 'GATEWAY_UPSTREAM_TIMEOUT'], [200, null]]);
    } finally {
      await s.close();
    }
  });

  test('slow first byte within the timeout: one attempt, no retry', async () => {
    const s = await startResilienceStack({ behavior: slowFirstByte(300), resilience: { retry: fast }, timeouts: { firstByteMs: 1_000 } });
    try {
      const res = await s.post();
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-sluice-attempts'], undefined);
      assert.equal(s.primary.requests.length, 1);
      const [row] = await s.rows();
      assert.equal(row!.attemptsMade, 1);
    } finally {
      await s.close();
    }
  });

  test('a started stream that drops is never retried: the client gets the SSE error event', async () => {
    const s = await startResilienceStack({ behavior: dropMidStream(3), resilience: { retry: fast } });
    try {
      const res = await s.post(STREAM_BODY);
      assert.equal(res.status, 200);
      const text = res.body.toString();
      assert.match(text, /^event: message_start/);
      // The upstream was reached and had answered: the error says it closed mid-response.
      assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"gateway_upstream_closed","message":"[^"]*closed the connection mid-response/);
      await sleep(100);
      assert.equal(s.primary.requests.length, 1, 'never retried');
      const [row] = await s.rows();
      assert.equal(row!.attemptsMade, 1);
      assert.equal(row!.complete, false);
    } finally {
      await s.close();
    }
  });

  test('every attempt failing: the ledger row keeps all of them', async () => {
    const s = await startResilienceStack({ behavior: connectionReset, resilience: { retry: { ...fast, maxAttempts: 3 } } });
    try {
      const res = await s.post();
      assert.equal(res.status, 502);
      assert.equal(s.primary.requests.length, 3);
      const [row] = await s.rows();
      assert.equal(row!.billed, false);
      assert.equal(row!.attemptsMade, 3);
      assert.deepEqual(row!.attempts.map((a) => a.error), ['GATEWAY_UPSTREAM_UNREACHABLE', 'GATEWAY_UPSTREAM_UNREACHABLE', 'GATEWAY_UPSTREAM_UNREACHABLE']);
    } finally {
      await s.close();
    }
  });
});

describe('key pools', () => {
  test('two keys, one rate limited: 50 requests all succeed on the other key', async () => {
    const s = await startResilienceStack({
      keys: [KEY_1, KEY_2],
      behavior: rateLimited({ keys: [KEY_1], retryAfterS: 30 }),
      resilience: { retry: fast },
    });
    try {
      const statuses: number[] = [];
      const attemptsHeader: (string | undefined)[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await s.post();
        statuses.push(res.status);
        attemptsHeader.push(res.headers['x-sluice-attempts'] as string | undefined);
      }
      assert.deepEqual(statuses, Array(50).fill(200));
      // The first request found out about key 1 (and retried at once); the rest never touch it.
      assert.equal(attemptsHeader[0], '2');
      assert.deepEqual(attemptsHeader.slice(1), Array(49).fill(undefined));
      const seen = keysSeen(s.primary);
      assert.equal(seen.length, 51);
      assert.equal(seen.filter((k) => k === KEY_1).length, 1);
      const rows = await s.rows();
      assert.equal(rows.length, 50);
      assert.ok(rows.every((r) => r.billed && r.keyId === 'anthropic:env2'));
      assert.deepEqual(rows[0]!.attempts.map((a) => [a.keyId, a.status, a.waitMs]), [['anthropic:env1', 429, 0], ['anthropic:env2', 200, 0]]);
      const h = await s.health();
      const pool = h.resilience.pools.anthropic!;
      assert.equal(pool.find((k) => k.id === 'anthropic:env1')!.rateLimited, 1);
      assert.ok(pool.find((k) => k.id === 'anthropic:env1')!.coolingUntil! > Date.now() + 25_000);
      assert.equal(pool.find((k) => k.id === 'anthropic:env2')!.coolingUntil, null);
      assert.ok(pool.every((k) => k.hint === undefined), '/health shows no key hints');
      assert.ok(!JSON.stringify(h).includes(KEY_1));
    } finally {
      await s.close();
    }
  });

  test('a request-limit 429 without retry-after: the key rests until its reset, then serves', async () => {
    const s = await startResilienceStack({
      behavior: firstN(1, rateLimited({ retryAfterS: null, headers: () => rateLimitHeaders('requests', 50, 0, 400) })),
      resilience: { retry: { ...fast, maxWaitMs: 2_000 } },
    });
    try {
      const res = await s.post();
      assert.equal(res.status, 200);
      const [row] = await s.rows();
      assert.deepEqual(row!.attempts.map((a) => [a.keyId, a.status]), [['anthropic:env1', 429], ['anthropic:env1', 200]]);
      const w = row!.attempts[1]!.waitMs!;
      assert.ok(w >= 250 && w <= 450, `waited ${w} ms for a reset 400 ms out`);
    } finally {
      await s.close();
    }
  });

  test('every key resting longer than maxWaitMs: a fast 429 with retry-after, then local refusals', async () => {
    const s = await startResilienceStack({ keys: [KEY_1, KEY_2], behavior: rateLimited({ retryAfterS: 45 }), resilience: { retry: { ...fast, maxWaitMs: 1_000 } } });
    try {
      const t0 = performance.now();
      const res = await s.post();
      assert.ok(performance.now() - t0 < 1_000);
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '45');
      assert.equal(JSON.parse(res.body.toString()).error.type, 'rate_limit_error', 'the upstream answer, unmodified');
      assert.deepEqual(keysSeen(s.primary), [KEY_1, KEY_2]);
      const again = await s.post();
      assert.equal(again.status, 429);
      assert.equal(JSON.parse(again.body.toString()).error.type, 'gateway_rate_limited');
      const ra = Number(again.headers['retry-after']);
      assert.ok(ra >= 44 && ra <= 45, `retry-after ${ra}`);
      assert.equal(s.primary.requests.length, 2, 'refused without calling upstream');
      const rows = await s.rows();
      assert.equal(rows.length, 2);
      assert.ok(rows.every((r) => !r.billed));
    } finally {
      await s.close();
    }
  });
});

describe('circuit breaker', () => {
  test('opens after the threshold, refuses at once, half-opens after openMs, closes on success; /health shows each state', async () => {
    const s = await startResilienceStack({
      behavior: statusError(500),
      resilience: { retry: { ...fast, maxAttempts: 1, maxWaitMs: 0 }, breaker: { failureThreshold: 2, windowMs: 10_000, openMs: 200, halfOpenProbes: 1 } },
    });
    const state = async () => (await s.health()).resilience.breakers.find((b) => b.target === 'anthropic')?.state;
    try {
      assert.equal((await s.post()).status, 500);
      assert.equal(await state(), 'closed');
      assert.equal((await s.post()).status, 500);
      assert.equal(await state(), 'open');
      const t0 = performance.now();
      const refused = await s.post();
      assert.ok(performance.now() - t0 < 150, 'no wait for an open breaker');
      assert.equal(refused.status, 503);
      assert.equal(JSON.parse(refused.body.toString()).error.type, 'gateway_circuit_open');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(s.primary.requests.length, 2, 'an open breaker sends nothing upstream');
      await sleep(250);
      assert.equal(await state(), 'half_open');
      // A failing probe opens it again.
      assert.equal((await s.post()).status, 500);
      assert.equal(await state(), 'open');
      await sleep(250);
      s.primary.setBehavior(anthropicBehavior);
      assert.equal((await s.post()).status, 200);
      assert.equal(await state(), 'closed');
      assert.equal(s.primary.requests.length, 4);
    } finally {
      await s.close();
    }
  });

  test('a 20 % 529 rate that retries absorb does not take the only target offline', async () => {
    let n = 0;
    // Every fifth upstream call is a 529; a retry always succeeds.
    const s = await startResilienceStack({ behavior: (req, res, m) => (++n % 5 === 0 ? statusError(529)(req, res, m) : anthropicBehavior(req, res, m)), resilience: { retry: { ...fast, maxAttempts: 4 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await s.post()).status);
      assert.deepEqual(statuses, Array(40).fill(200));
    } finally {
      await s.close();
    }
  });

  test('breaker transitions are published as alerts', async () => {
    const s = await startResilienceStack({
      behavior: statusError(529),
      resilience: { retry: { ...fast, maxAttempts: 1, maxWaitMs: 0 }, breaker: { failureThreshold: 1, windowMs: 10_000, openMs: 100 } },
    });
    const alerts: { kind: string; message: string }[] = [];
    s.gw.events.on('alert', (a) => alerts.push(a as { kind: string; message: string }));
    try {
      await s.post();
      await sleep(150);
      s.primary.setBehavior(anthropicBehavior);
      await s.post();
      assert.deepEqual(alerts.filter((a) => a.kind === 'breaker').map((a) => a.message), [
        'Upstream anthropic: circuit open', 'Upstream anthropic: circuit half-open', 'Upstream anthropic: circuit closed',
      ]);
    } finally {
      await s.close();
    }
  });
});

describe('fallback chains', () => {
  test('a failing first target falls back to the backup provider, visibly', async () => {
    const s = await startResilienceStack({
      behavior: statusError(529),
      backup: anthropicBehavior,
      resilience: {
        retry: { ...fast, maxWaitMs: 0 },
        // Breakers count client requests (one verdict per request, however many attempts), so
        // one failed request opens a breaker only with a threshold of 1.
        breaker: { failureThreshold: 1, windowMs: 10_000, openMs: 60_000 },
        fallbacks: [{ models: 'claude-sonnet-*', to: [{ provider: 'backup' }] }],
      },
    });
    try {
      const res = await s.post();
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-sluice-fallback'], '1');
      assert.equal(res.headers['x-sluice-served-by'], 'backup');
      assert.equal(res.headers['x-sluice-attempts'], '2');
      assert.deepEqual(s.backup!.requests.map(keyOf), [BACKUP_KEY]);
      const res2 = await s.post();
      assert.equal(res2.status, 200);
      assert.equal(res2.headers['x-sluice-fallback'], '1');
      assert.equal(res2.headers['x-sluice-attempts'], undefined, 'the open breaker is skipped: one attempt');
      assert.equal(s.primary.requests.length, 1);
      const rows = await s.rows();
      assert.equal(rows.length, 2);
      assert.deepEqual(rows.map((r) => [r.target, r.fallback, r.provider, r.keyId, r.billed]), [
        ['backup', true, 'backup', 'backup:env', true], ['backup', true, 'backup', 'backup:env', true],
      ]);
      assert.deepEqual(rows[0]!.attempts.map((a) => [a.target, a.status]), [['anthropic', 529], ['backup', 200]]);
      // A model with no fallback rule gets no fallback, and the open breaker of another model
      // does not refuse it: it reaches the upstream and gets the upstream's own 529.
      const other = await s.post(BODY.replace('claude-sonnet-4-5-20250929', 'claude-opus-4-5-20251101'));
      assert.equal(other.status, 529);
      assert.equal(JSON.parse(other.body.toString()).error.type, 'overloaded_error');
      assert.equal(s.backup!.requests.length, 2);
    } finally {
      await s.close();
    }
  });

  test('a fallback model rewrite changes only the model bytes and is recorded', async () => {
    const body = '{"model":"claude-sonnet-4-5-20250929","max_tokens":16,"system":"keep model: claude-sonnet-4-5-20250929","messages":[{"role":"user","content":"hi"}]}';
    const s = await startResilienceStack({
      behavior: statusError(503),
      backup: anthropicBehavior,
      resilience: {
        retry: { ...fast, maxWaitMs: 0 },
        breaker: { failureThreshold: 1, windowMs: 10_000, openMs: 60_000 },
        fallbacks: [{ models: '*', to: [{ provider: 'backup', model: 'claude-haiku-4-5-20251001' }] }],
      },
    });
    try {
      const res = await s.post(body);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-sluice-served-by'], 'backup; model=claude-haiku-4-5-20251001');
      assert.equal(s.backup!.requests[0]!.body.toString(), body.replace('"model":"claude-sonnet-4-5-20250929"', '"model":"claude-haiku-4-5-20251001"'));
      assert.equal(s.primary.requests[0]!.body.toString(), body, 'the first target got the bytes as sent');
      const [row] = await s.rows();
      assert.equal(row!.requestedModel, 'claude-sonnet-4-5-20250929');
      assert.equal(row!.servedModel, 'claude-haiku-4-5-20251001');
      assert.deepEqual(row!.attempts.map((a) => a.model), [null, 'claude-haiku-4-5-20251001']);
    } finally {
      await s.close();
    }
  });
});

describe('client abort and the retry budget', () => {
  test('a client abort during a backoff wait stops further attempts', async () => {
    const s = await startResilienceStack({ behavior: statusError(529, { 'retry-after': '2' }), resilience: { retry: { ...fast, maxWaitMs: 5_000 } } });
    try {
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${s.gw.url}/v1/messages`, { method: 'POST', agent: false, headers: { 'x-api-key': s.token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } });
        req.on('error', () => resolve());
        req.end(BODY);
        setTimeout(() => { req.destroy(); resolve(); }, 300);
      });
      await sleep(2_300);
      assert.equal(s.primary.requests.length, 1, 'no attempt after the client left');
      const rows = await s.rows();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.errorType, 'CLIENT_ABORTED');
      assert.equal(rows[0]!.billed, false);
      assert.equal((await s.health()).resilience.pools.anthropic![0]!.coolingUntil, null);
    } finally {
      await s.close();
    }
  });

  test('under a 100% failing upstream, retries stay within the budget ratio', async () => {
    const ratio = 0.1;
    // The breaker is kept closed so that only the budget limits the retries.
    const s = await startResilienceStack({ behavior: statusError(529), resilience: { retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, budgetRatio: ratio }, breaker: { failureThreshold: 1000 } } });
    try {
      const n = 200;
      for (let i = 0; i < n; i++) assert.equal((await s.post()).status, 529);
      const retries = s.primary.requests.length - n;
      // Burst of 10 plus ratio * requests; without a budget it would be 2 * n.
      assert.ok(retries <= 10 + ratio * n, `retries ${retries}`);
      assert.ok(retries >= ratio * n - 2, `retries ${retries}`);
      const rows = await s.rows();
      assert.equal(rows.length, n);
      assert.equal(rows.reduce((a, r) => a + r.attemptsMade, 0), s.primary.requests.length, 'every upstream call is an attempt of some row');
    } finally {
      await s.close();
    }
  });

  test('a budgetRatio changed in settings applies without a restart', async () => {
    const s = await startResilienceStack({ behavior: statusError(529), resilience: { retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0, budgetRatio: 0 }, breaker: { failureThreshold: 1000 } } });
    try {
      await s.gw.settings.update((x) => { x.resilience.retry.budgetRatio = 1; });
      const n = 30;
      for (let i = 0; i < n; i++) await s.post();
      assert.equal(s.primary.requests.length - n, n, 'every request retried once');
    } finally {
      await s.close();
    }
  });
});
