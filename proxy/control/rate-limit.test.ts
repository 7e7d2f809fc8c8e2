import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from './rate-limit.js';

test('requests per minute: a full bucket, then retry-after until one request has refilled', () => {
  let t = 0;
  const rl = createRateLimiter(() => t);
  for (let i = 0; i < 3; i++) assert.equal(rl.take('a', { rpm: 3, tpm: null }, 0).ok, true);
  assert.deepEqual(rl.take('a', { rpm: 3, tpm: null }, 0), { ok: false, retryAfterSeconds: 20, limit: 'requests_per_minute' });
  assert.equal(rl.take('b', { rpm: 3, tpm: null }, 0).ok, true, 'buckets are per token');
  t = 19_000;
  assert.equal(rl.take('a', { rpm: 3, tpm: null }, 0).ok, false);
  t = 20_000;
  assert.equal(rl.take('a', { rpm: 3, tpm: null }, 0).ok, true);
});

test('tokens per minute: charged the estimate, corrected at finish', () => {
  let t = 0;
  const rl = createRateLimiter(() => t);
  const lim = { rpm: null, tpm: 1000 };
  assert.equal(rl.take('a', lim, 800).ok, true);
  const r = rl.take('a', lim, 500);
  assert.deepEqual(r, { ok: false, retryAfterSeconds: 18, limit: 'tokens_per_minute' });
  rl.adjustTokens('a', 800 - 100); // the request used 100, not 800
  assert.equal(rl.take('a', lim, 500).ok, true);
  // Bigger than the bucket: admitted only when the bucket is full, leaving it in debt.
  t = 60_000;
  assert.equal(rl.take('a', lim, 5000).ok, true);
  t = 120_000;
  assert.equal(rl.take('a', lim, 1).ok, false);
});

test('bursts: a full burst at once, then held to the sustained rate; retry-after from the refill rate', () => {
  let t = 0;
  const rl = createRateLimiter(() => t);
  const lim = { rpm: 60, tpm: null, burstRequests: 200 };
  for (let i = 0; i < 200; i++) assert.equal(rl.take('cc', lim, 0).ok, true, `request ${i}`);
  // Empty: one request refills in 1 s at 60/min (not 60/200 of a minute).
  assert.deepEqual(rl.take('cc', lim, 0), { ok: false, retryAfterSeconds: 1, limit: 'requests_per_minute' });
  t = 10_000;
  let passed = 0;
  for (let i = 0; i < 50; i++) if (rl.take('cc', lim, 0).ok) passed++;
  assert.equal(passed, 10, 'ten seconds at 60/min refill ten requests');
  const st = rl.state('cc', lim);
  assert.deepEqual(st.requests, { level: 0, capacity: 200, perMinute: 60, fullInSeconds: 200 });
  assert.equal(st.tokens, null);
  assert.deepEqual(rl.state('fresh', lim).requests, { level: 200, capacity: 200, perMinute: 60, fullInSeconds: 0 });
});

test('token bursts: the bucket holds the burst, refills at tokens per minute', () => {
  let t = 0;
  const rl = createRateLimiter(() => t);
  const lim = { rpm: null, tpm: 6000, burstTokens: 60_000 };
  assert.equal(rl.take('a', lim, 50_000).ok, true);
  assert.equal(rl.take('a', lim, 9_000).ok, true);
  // 1000 left; 4000 more take 40 s at 100 tokens/s.
  assert.deepEqual(rl.take('a', lim, 5_000), { ok: false, retryAfterSeconds: 40, limit: 'tokens_per_minute' });
  t = 40_000;
  assert.equal(rl.take('a', lim, 5_000).ok, true);
  // Lowering the burst caps the level at once.
  assert.equal(rl.state('a', { rpm: null, tpm: 6000, burstTokens: 500 }).tokens!.level, 0);
});
