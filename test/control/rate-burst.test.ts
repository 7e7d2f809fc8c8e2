// Rate limits with bursts through the real gateway: 300 requests of one token at once against a
// bucket of 200 refilling at 60/min (clock held still): exactly 200 reach upstream, the other 100
// get 429 with the retry-after the bucket computes, and the status route shows the bucket empty.
// Then the clock moves 30 s and exactly 30 more pass (the sustained rate, not the burst).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest } from '../helpers.js';
import { messageJson, sendJson } from '../mock-upstream.js';
import { ADMIN_TOKEN, startControlStack, messagesBody, type ControlStack } from './stack.js';
import type { RateLimitStatus } from '../../proxy/control/index.js';

let clock = Date.parse('2026-05-02T10:00:00Z');
let s: ControlStack;
before(async () => {
  s = await startControlStack({
    tokenNames: ['claude-code', 'other'],
    control: { tokens: { 'claude-code': { requestsPerMinute: 60, burstRequests: 200, tokensPerMinute: 10_000_000 } } },
    behavior: (req, res) => sendJson(req, res, 200, messageJson({ outputTokens: 5 })),
    ext: { now: () => clock },
  });
});
after(() => s.close());

const post = (token: string) =>
  rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: messagesBody({ maxTokens: 20 }) });

async function buckets(): Promise<RateLimitStatus[]> {
  const r = await rawRequest(`${s.gw.url}/admin/api/control/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(r.status, 200);
  return (JSON.parse(r.body.toString()) as { rateLimits: RateLimitStatus[] }).rateLimits;
}

test('300 parallel requests against a burst of 200: exactly 200 pass, the rest wait the bucket\'s retry-after', async () => {
  const full = (await buckets()).find((b) => b.token === 'claude-code')!;
  assert.deepEqual(full.requests, { level: 200, capacity: 200, perMinute: 60, fullInSeconds: 0 });

  const results = await Promise.all(Array.from({ length: 300 }, () => post(s.tokens['claude-code']!)));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status !== 200);
  assert.equal(ok.length, 200);
  assert.equal(s.mock.requests.length, 200, 'refused requests never reach upstream');
  for (const r of refused) {
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '1', 'one request refills in 1 s at 60/min');
    const err = JSON.parse(r.body.toString()).error;
    assert.equal(err.type, 'gateway_rate_limited');
    assert.match(err.message, /60 requests per minute after a burst of 200/);
  }
  const empty = (await buckets()).find((b) => b.token === 'claude-code')!;
  assert.deepEqual(empty.requests, { level: 0, capacity: 200, perMinute: 60, fullInSeconds: 200 });

  // Another token has its own (absent) limits.
  assert.equal((await post(s.tokens.other!)).status, 200);

  // 30 s later: 30 refilled, at the sustained rate.
  clock += 30_000;
  const again = await Promise.all(Array.from({ length: 100 }, () => post(s.tokens['claude-code']!)));
  assert.equal(again.filter((r) => r.status === 200).length, 30);
});
