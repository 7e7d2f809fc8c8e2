// The token-policy form: round trip, the schema's rules, and the table summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPEN_POLICY, describeBucket, expiryInstant, policyDraft, readPolicyDraft, summarizePolicy, validExpiry } from './policy-form.js';
import type { TokenPolicy } from './api.js';

const FULL: TokenPolicy = { models: ['claude-sonnet-*', 'claude-haiku-4-5'], dailyUsd: 2.5, monthlyUsd: 40, requestsPerMinute: 30, tokensPerMinute: 200000, burstRequests: 90, burstTokens: null, expires: '2026-12-31', injectCache: true };

test('a policy survives the form unchanged', () => {
  const d = policyDraft(FULL);
  assert.equal(d.models, 'claude-sonnet-*, claude-haiku-4-5');
  assert.equal(d.dailyUsd, '2.5');
  assert.deepEqual(readPolicyDraft(d), { ok: true, value: FULL });
  assert.deepEqual(readPolicyDraft(policyDraft(null)), { ok: true, value: OPEN_POLICY }, 'no policy: every field empty, nothing limited');
});

test('models split on commas, spaces and new lines', () => {
  const r = readPolicyDraft({ ...policyDraft(null), models: ' claude-opus-*,\nclaude-sonnet-*  ,, ' });
  assert.ok(r.ok);
  assert.deepEqual(r.value.models, ['claude-opus-*', 'claude-sonnet-*']);
});

test('every bad field is named at once', () => {
  const r = readPolicyDraft({ models: 'x'.repeat(201), dailyUsd: '-3', monthlyUsd: 'lots', requestsPerMinute: '2.5', tokensPerMinute: '0', burstRequests: '', burstTokens: '', expires: '2026-02-30', injectCache: false });
  assert.equal(r.ok, false);
  assert.deepEqual(Object.keys((r as { errors: object }).errors).sort(), ['dailyUsd', 'expires', 'models', 'monthlyUsd', 'requestsPerMinute', 'tokensPerMinute']);
  const one = readPolicyDraft({ ...policyDraft(FULL), requestsPerMinute: '1000001' });
  assert.deepEqual(one, { ok: false, errors: { requestsPerMinute: 'At most 1,000,000.' } });
});

test('expiry: real calendar dates or date-times, as the schema accepts', () => {
  assert.equal(validExpiry('2026-02-28'), true);
  assert.equal(validExpiry('2026-02-29'), false);
  assert.equal(validExpiry('2026-13-01'), false);
  assert.equal(validExpiry('2026-03-01T12:00:00Z'), true);
  assert.equal(validExpiry('next week'), false);
  assert.equal(expiryInstant('2026-03-04'), new Date(2026, 2, 5).getTime(), 'valid through that local day');
  assert.equal(expiryInstant('2026-03-04T10:00:00Z'), Date.parse('2026-03-04T10:00:00Z'));
});

test('summary for the table, with expiry against the clock', () => {
  const s = summarizePolicy(FULL, new Date(2026, 5, 1).getTime());
  assert.deepEqual(s, { models: 'claude-sonnet-*, claude-haiku-4-5', limits: '30 req/min (burst 90) · 200,000 tokens/min', budgets: '$2.50/day · $40.00/month', expires: '2026-12-31', expired: false, cache: 'Injected' });
  assert.equal(summarizePolicy(FULL, new Date(2027, 0, 1).getTime()).expired, true);
  assert.equal(summarizePolicy(FULL, new Date(2026, 11, 31, 23, 59).getTime()).expired, false, 'still valid on its last day');
  assert.deepEqual(summarizePolicy(OPEN_POLICY, 0), { models: 'All models', limits: 'No rate limit', budgets: 'No budget', expires: 'Never', expired: false, cache: 'Off' });
});

test('bursts: need their sustained rate; shown beside it; bucket state in words', () => {
  const r = readPolicyDraft({ ...policyDraft(null), burstRequests: '200', burstTokens: '0' });
  assert.deepEqual(r, { ok: false, errors: { burstRequests: 'A burst needs a requests-per-minute rate to refill at.', burstTokens: 'At least 1, or leave it empty for no limit.' } });
  assert.equal(summarizePolicy(FULL, 0).limits, '30 req/min (burst 90) · 200,000 tokens/min');
  assert.equal(describeBucket({ level: 139.6, capacity: 200, fullInSeconds: 61 }, 'requests'), '139 of 200 requests left · full in 1m 01s');
  assert.equal(describeBucket({ level: -40, capacity: 1000, fullInSeconds: 0 }, 'tokens'), '0 of 1,000 tokens left');
  assert.equal(describeBucket(null, 'tokens'), null);
});
