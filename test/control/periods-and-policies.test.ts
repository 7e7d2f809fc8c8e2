// Through the real gateway: budget periods roll over at LOCAL midnight and at the local month
// start (fake clock, fixed +02:00 zone), alerts fire once per threshold per period, and token
// policies refuse with 403 (model, expiry) and 429 + retry-after (rate limits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest } from '../helpers.js';
import { messageJson, sendJson } from '../mock-upstream.js';
import { startControlStack, messagesBody, type ControlStack } from './stack.js';

// Each request: 30 input x $3/M + 20 output x $15/M = $0.00039 (estimate ~$0.00044).
const USAGE = { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
let clock = 0;
let s: ControlStack;
before(async () => {
  s = await startControlStack({
    tokenNames: ['tool-a', 'limited', 'expired'],
    control: {
      budgets: { dailyUsd: 0.002 },
      tokens: {
        limited: { models: ['claude-haiku-*'], requestsPerMinute: 2 },
        expired: { expires: '2026-03-31' },
      },
    },
    behavior: (req, res) => sendJson(req, res, 200, messageJson({ usage: USAGE, outputTokens: 20 })),
    ext: { now: () => clock, tz: () => 120 },
  });
});
after(() => s.close());

const post = (token: string, body = messagesBody({ maxTokens: 20 })) =>
  rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body });

async function untilRefused(token: string): Promise<number> {
  for (let i = 1; i <= 20; i++) {
    const r = await post(token);
    await s.gw.flushUsage();
    if (r.status === 429) return i;
    assert.equal(r.status, 200);
  }
  throw new Error('never refused');
}

test('the daily budget rolls over at local midnight, not UTC midnight; alerts once per period', async () => {
  clock = Date.parse('2026-03-31T21:00:00Z'); // 23:00 local on March 31
  assert.equal(await untilRefused(s.tokens['tool-a']!), 6);
  const day1 = s.alerts.filter((a) => a.kind === 'budget').map((a) => `${a.data?.period}:${a.data?.threshold}`);
  assert.deepEqual(day1, ['2026-03-31:0.5', '2026-03-31:0.8']);
  clock = Date.parse('2026-03-31T21:59:59Z'); // still March 31 locally
  const last = await post(s.tokens['tool-a']!);
  assert.equal(last.status, 429);
  assert.equal(last.headers['retry-after'], '1', 'one second to local midnight');
  assert.equal(last.headers['anthropic-ratelimit-unified-overage-period'], 'daily');
  clock = Date.parse('2026-03-31T22:00:00Z'); // local midnight: April 1 (UTC is still March 31)
  assert.equal(await untilRefused(s.tokens['tool-a']!), 6);
  const all = s.alerts.filter((a) => a.kind === 'budget').map((a) => `${a.data?.period}:${a.data?.threshold}`);
  assert.deepEqual(all, ['2026-03-31:0.5', '2026-03-31:0.8', '2026-04-01:0.5', '2026-04-01:0.8']);
  // The log the admin API reads holds the same alerts.
  assert.equal(s.ext.store.listAlerts().filter((a) => a.kind === 'budget').length, 4);
});

test('the monthly budget rolls over at the local month start', async () => {
  s.config.set({ ...s.config.get(), budgets: { ...s.config.get().budgets, dailyUsd: null, monthlyUsd: 0.002 } });
  clock = Date.parse('2026-04-30T21:30:00Z'); // 23:30 local, April 30
  assert.equal(await untilRefused(s.tokens['tool-a']!), 6);
  clock = Date.parse('2026-04-30T22:00:01Z'); // 00:00:01 local, May 1
  const r = await post(s.tokens['tool-a']!);
  assert.equal(r.status, 200);
  assert.ok(s.alerts.some((a) => a.data?.budget === 'monthly' && a.data?.period === '2026-04' && a.data?.threshold === 0.8));
  s.config.set({ ...s.config.get(), budgets: { ...s.config.get().budgets, monthlyUsd: null } });
});

test('a model outside the token policy is refused with 403 naming the rule; allowed ones pass', async () => {
  clock = Date.parse('2026-05-02T10:00:00Z');
  const n = s.mock.requests.length;
  const denied = await post(s.tokens.limited!);
  assert.equal(denied.status, 403);
  const err = JSON.parse(denied.body.toString()).error;
  assert.equal(err.type, 'gateway_policy_denied');
  assert.match(err.message, /may not use model "claude-sonnet-4-5-20250929" \(policy rule "models" allows claude-haiku-\*\)/);
  assert.equal(s.mock.requests.length, n);
  const ok = await post(s.tokens.limited!, messagesBody({ model: 'claude-haiku-4-5', maxTokens: 20 }));
  assert.equal(ok.status, 200);
});

test('requests per minute: 429 with retry-after and gateway_rate_limited', async () => {
  clock = Date.parse('2026-05-02T10:05:00Z');
  const body = messagesBody({ model: 'claude-haiku-4-5', maxTokens: 20 });
  assert.equal((await post(s.tokens.limited!, body)).status, 200);
  assert.equal((await post(s.tokens.limited!, body)).status, 200);
  const r = await post(s.tokens.limited!, body);
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '30');
  assert.equal(JSON.parse(r.body.toString()).error.type, 'gateway_rate_limited');
  clock += 30_000;
  assert.equal((await post(s.tokens.limited!, body)).status, 200);
});

test('an expired token is refused after the last local day of its validity', async () => {
  clock = Date.parse('2026-03-31T21:59:00Z'); // 23:59 local on the expiry date: still valid
  assert.equal((await post(s.tokens.expired!)).status, 200);
  clock = Date.parse('2026-03-31T22:00:00Z');
  const r = await post(s.tokens.expired!);
  assert.equal(r.status, 403);
  assert.match(JSON.parse(r.body.toString()).error.message, /expired on 2026-03-31 \(policy rule "expires"\)/);
});
