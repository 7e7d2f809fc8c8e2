// Unit tests of the retry policy: classification, retry-after, rate-limit headers, cooldowns,
// backoff bounds and the global retry budget. Pure functions, fixed clock and random.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffMs, classifyErrorCode, classifyStatus, cooldownUntil, limitScope, parseDuration, parseRateLimitHeaders, parseRetryAfter, parseScopeLimits, RetryBudget,
} from './policy.js';

const NOW = Date.parse('2026-11-21T10:00:00.000Z');
const iso = (msFromNow: number) => new Date(NOW + msFromNow).toISOString();

describe('classifyStatus / classifyErrorCode', () => {
  test('429, 529 and the retryable 5xx; nothing else', () => {
    assert.equal(classifyStatus(429), 'rate_limit');
    assert.equal(classifyStatus(529), 'overloaded');
    for (const s of [500, 502, 503, 504]) assert.equal(classifyStatus(s), 'server', String(s));
    for (const s of [200, 201, 400, 401, 402, 403, 404, 409, 413, 501, 505]) assert.equal(classifyStatus(s), null, String(s));
  });

  test('unreachable and timeout codes retry; a client error does not', () => {
    assert.equal(classifyErrorCode('GATEWAY_UPSTREAM_UNREACHABLE'), 'network');
    assert.equal(classifyErrorCode('GATEWAY_UPSTREAM_TIMEOUT'), 'timeout');
    assert.equal(classifyErrorCode('GATEWAY_INVALID_REQUEST'), null);
    assert.equal(classifyErrorCode('CLIENT_ABORTED'), null);
  });
});

describe('parseRetryAfter', () => {
  test('delta-seconds, fractional seconds and surrounding space', () => {
    assert.equal(parseRetryAfter('30', NOW), 30_000);
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('1.5', NOW), 1500);
    assert.equal(parseRetryAfter(' 7 ', NOW), 7000);
  });

  test('an HTTP date, relative to now; a past date is 0', () => {
    assert.equal(parseRetryAfter(new Date(NOW + 12_000).toUTCString(), NOW), 12_000);
    assert.equal(parseRetryAfter(new Date(NOW - 5_000).toUTCString(), NOW), 0);
  });

  test('absent, empty or garbage is null', () => {
    assert.equal(parseRetryAfter(undefined, NOW), null);
    assert.equal(parseRetryAfter('', NOW), null);
    assert.equal(parseRetryAfter('soon', NOW), null);
  });
});

describe('parseRateLimitHeaders', () => {
  test('every dimension with limit, remaining and an RFC 3339 reset', () => {
    const info = parseRateLimitHeaders({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': iso(60_000),
      'anthropic-ratelimit-tokens-limit': '100000',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': iso(20_000),
      'anthropic-ratelimit-input-tokens-limit': '80000',
      'anthropic-ratelimit-input-tokens-remaining': '1000',
      'anthropic-ratelimit-input-tokens-reset': iso(5_000),
      'anthropic-ratelimit-output-tokens-limit': '20000',
      'anthropic-ratelimit-output-tokens-remaining': '20000',
      'anthropic-ratelimit-output-tokens-reset': iso(1_000),
      'retry-after': '3',
    }, NOW);
    assert.deepEqual(info, {
      requests: { limit: 50, remaining: 49, resetAt: NOW + 60_000 },
      tokens: { limit: 100_000, remaining: 0, resetAt: NOW + 20_000 },
      inputTokens: { limit: 80_000, remaining: 1000, resetAt: NOW + 5_000 },
      outputTokens: { limit: 20_000, remaining: 20_000, resetAt: NOW + 1_000 },
      retryAfterMs: 3000,
    });
  });

  test('missing or malformed values are null, never NaN', () => {
    const info = parseRateLimitHeaders({ 'anthropic-ratelimit-requests-limit': 'lots', 'anthropic-ratelimit-requests-reset': 'tomorrow' }, NOW);
    assert.deepEqual(info.requests, { limit: null, remaining: null, resetAt: null });
    assert.deepEqual(info.tokens, { limit: null, remaining: null, resetAt: null });
    assert.equal(info.retryAfterMs, null);
  });

  test('a repeated header uses its first value', () => {
    const info = parseRateLimitHeaders({ 'retry-after': ['4', '9'] as unknown as string }, NOW);
    assert.equal(info.retryAfterMs, 4000);
  });
});

describe('cooldownUntil', () => {
  const limited = (h: Record<string, string>) => parseRateLimitHeaders(h, NOW);

  test('request-rate limit: rests until the requests reset', () => {
    const c = cooldownUntil(limited({
      'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': iso(15_000),
      'anthropic-ratelimit-tokens-limit': '1000', 'anthropic-ratelimit-tokens-remaining': '900', 'anthropic-ratelimit-tokens-reset': iso(50_000),
    }), NOW, 30_000);
    assert.deepEqual(c, { until: NOW + 15_000, limit: 'requests' });
  });

  test('token-rate limit: rests until the latest exhausted token reset, ignoring ones with room', () => {
    const c = cooldownUntil(limited({
      'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '40', 'anthropic-ratelimit-requests-reset': iso(90_000),
      'anthropic-ratelimit-input-tokens-limit': '1000', 'anthropic-ratelimit-input-tokens-remaining': '0', 'anthropic-ratelimit-input-tokens-reset': iso(8_000),
      'anthropic-ratelimit-output-tokens-limit': '1000', 'anthropic-ratelimit-output-tokens-remaining': '0', 'anthropic-ratelimit-output-tokens-reset': iso(12_000),
      'anthropic-ratelimit-tokens-limit': '2000', 'anthropic-ratelimit-tokens-remaining': '5', 'anthropic-ratelimit-tokens-reset': iso(70_000),
    }), NOW, 30_000);
    assert.deepEqual(c, { until: NOW + 12_000, limit: 'tokens' });
  });

  test('retry-after wins over the reset headers and still names the exhausted dimension', () => {
    const c = cooldownUntil(limited({
      'retry-after': '4',
      'anthropic-ratelimit-tokens-limit': '1000', 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': iso(40_000),
    }), NOW, 30_000);
    assert.deepEqual(c, { until: NOW + 4_000, limit: 'tokens' });
    assert.deepEqual(cooldownUntil(limited({ 'retry-after': '2' }), NOW, 30_000), { until: NOW + 2_000, limit: 'unknown' });
  });

  test('no hint at all: the fallback pause', () => {
    assert.deepEqual(cooldownUntil(limited({}), NOW, 30_000), { until: NOW + 30_000, limit: 'unknown' });
  });

  test('a reset already in the past does not rest the key into the past', () => {
    const c = cooldownUntil(limited({ 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': iso(-5_000) }), NOW, 30_000);
    assert.deepEqual(c, { until: NOW, limit: 'requests' });
  });

  test('requests and tokens both exhausted: rests until the later of the two resets', () => {
    const c = cooldownUntil(limited({
      'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': iso(10_000),
      'anthropic-ratelimit-tokens-limit': '1000', 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': iso(40_000),
    }), NOW, 30_000);
    // Waking at the requests reset only earns another 429: the token window is still spent.
    assert.equal(c.until, NOW + 40_000);
  });
});

describe('backoffMs', () => {
  test('full jitter: random times the capped exponential', () => {
    const half = () => 0.5;
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => backoffMs(a, 100, 1000, half)), [50, 100, 200, 400, 500, 500]);
  });

  test('bounds: 0 with random 0, just under the cap with random near 1', () => {
    for (let a = 0; a < 8; a++) {
      assert.equal(backoffMs(a, 100, 1000, () => 0), 0);
      const cap = Math.min(1000, 100 * 2 ** a);
      const hi = backoffMs(a, 100, 1000, () => 0.999999);
      assert.ok(hi < cap && hi >= cap - 1, `attempt ${a}: ${hi} vs cap ${cap}`);
    }
  });

  test('a negative attempt number counts as the first', () => {
    assert.equal(backoffMs(-3, 100, 1000, () => 0.5), 50);
  });
});

describe('RetryBudget', () => {
  test('starts with the burst, each retry takes one, refuses when empty', () => {
    const b = new RetryBudget(0.1, 3);
    assert.equal(b.available, 3);
    assert.deepEqual([b.tryRetry(), b.tryRetry(), b.tryRetry(), b.tryRetry()], [true, true, true, false]);
    assert.equal(b.available, 0);
  });

  test('each request adds the ratio; 4 requests at 0.25 earn one retry', () => {
    const b = new RetryBudget(0.25, 3);
    while (b.tryRetry());
    for (let i = 0; i < 3; i++) b.onRequest();
    assert.equal(b.tryRetry(), false, 'three requests earn 0.75 retries');
    b.onRequest();
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), false);
  });

  test('10 requests at 0.1 earn one retry', () => {
    const b = new RetryBudget(0.1, 3);
    while (b.tryRetry());
    for (let i = 0; i < 9; i++) b.onRequest();
    assert.equal(b.tryRetry(), false, 'nine requests earn 0.9 retries');
    b.onRequest();
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), false);
  });

  test('never holds more than the burst', () => {
    const b = new RetryBudget(1, 5);
    for (let i = 0; i < 100; i++) b.onRequest();
    assert.equal(b.available, 5);
  });

  test('over many requests retries stay within ratio * requests + burst', () => {
    const b = new RetryBudget(0.2, 10);
    let retries = 0;
    for (let i = 0; i < 1000; i++) {
      b.onRequest();
      // Every request wants three retries (a failing upstream).
      for (let r = 0; r < 3; r++) if (b.tryRetry()) retries++;
    }
    assert.ok(retries <= 0.2 * 1000 + 10, `retries ${retries}`);
    assert.ok(retries >= 0.2 * 1000 - 1, `retries ${retries}`);
  });
});

describe('limit scopes', () => {
  test('Anthropic: one scope per model family, date and version dropped; long context apart', () => {
    assert.equal(limitScope('anthropic', 'claude-sonnet-4-5-20250929'), 'claude-sonnet');
    assert.equal(limitScope(undefined, 'claude-sonnet-4-20250514'), 'claude-sonnet');
    assert.equal(limitScope('anthropic', 'claude-opus-4-1'), 'claude-opus');
    assert.equal(limitScope('anthropic', 'claude-3-5-haiku-20241022'), 'claude-haiku');
    assert.equal(limitScope('anthropic', 'claude-haiku-4-5'), 'claude-haiku');
    assert.equal(limitScope('anthropic', 'claude-sonnet-4-5', 'context-1m-2025-08-07'), 'claude-sonnet+1m');
    assert.equal(limitScope('anthropic', 'my-model-20250101'), 'my-model');
    assert.equal(limitScope('anthropic', null), '*');
  });

  test('OpenAI format: one scope per model', () => {
    assert.equal(limitScope('openai-chat', 'gpt-4.1-mini'), 'gpt-4.1-mini');
  });

  test('parseDuration reads OpenAI reset durations', () => {
    assert.equal(parseDuration('1s'), 1000);
    assert.equal(parseDuration('6m0s'), 360_000);
    assert.equal(parseDuration('20ms'), 20);
    assert.equal(parseDuration('1h2m3.5s'), 3_723_500);
    assert.equal(parseDuration('2'), 2000);
    assert.equal(parseDuration('soon'), null);
  });

  test('parseScopeLimits reads every Anthropic kind and OpenAI headers', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    const a = parseScopeLimits({
      'anthropic-ratelimit-input-tokens-limit': '1000', 'anthropic-ratelimit-input-tokens-remaining': '0', 'anthropic-ratelimit-input-tokens-reset': '2026-11-21T10:00:07Z',
      'retry-after': '7',
    }, now);
    assert.deepEqual(a, { dims: { 'input-tokens': { limit: 1000, remaining: 0, resetAt: now + 7000 } }, retryAfterMs: 7000 });
    const o = parseScopeLimits({ 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '3', 'x-ratelimit-reset-tokens': '500ms' }, now);
    assert.deepEqual(o, { dims: { tokens: { limit: 100, remaining: 3, resetAt: now + 500 } }, retryAfterMs: null });
  });
});
