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
