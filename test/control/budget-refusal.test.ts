// Sluice's budgets inside Claude Code (issue 19, item 5, the refusing half): over budget, a request
// on the user's own API key (a tool token) is refused before it leaves the machine with exactly
// the shape Claude Code shows natively for a gateway's spend cap: 429, error.type billing_error,
// x-should-retry: false, retry-after = seconds to the period's reset, the rejected unified-limit
// headers (no representative-claim / overage-status), and the period and reset in the message.
// Subscription (OAuth) traffic gets the same refusal without unified headers; count_tokens is
// never blocked; an upstream's own "do not retry" 429 is relayed after one attempt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { authHeaders, rawRequest } from '../helpers.js';
import { messageJson, sendJson } from '../mock-upstream.js';
import { startControlStack, messagesBody, type ControlStack } from './stack.js';

const USAGE = { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
const U = 'anthropic-ratelimit-unified-';
// 22:00 local (+02:00) on 2026-03-10: the daily budget resets at local midnight, 2 h away,
// which is 2026-03-10T22:00:00Z (so Claude Code's "resets <UTC date>" reads Mar 10).
const NOW = Date.parse('2026-03-10T20:00:00Z');
const RESET_S = String(Date.parse('2026-03-10T22:00:00Z') / 1000);
const OAUTH = { authorization: 'Bearer sk-ant-oat01-FAKE-sub', 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };

let upstream: 'ok' | 'billing' = 'ok';
let s: ControlStack;
before(async () => {
  s = await startControlStack({
    tokenNames: ['tool-a'],
    control: { budgets: { dailyUsd: 0.002 } },
    behavior: (req, res) => (upstream === 'billing'
      ? sendJson(req, res, 429, { type: 'error', error: { type: 'billing_error', message: 'spend limit reached · upstream cap' } }, { 'x-should-retry': 'false', 'retry-after': '1' })
      : sendJson(req, res, 200, messageJson({ usage: USAGE, outputTokens: 20 }))),
    ext: { now: () => NOW, tz: () => 120 },
  });
});
after(() => s.close());

const post = (headers: Record<string, string>, path = '/v1/messages') => rawRequest(`${s.gw.url}${path}`, { method: 'POST', headers, body: messagesBody({ maxTokens: 20 }) });
const unifiedOf = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith(U)));
const upstreamMessages = () => s.mock.requests.filter((r) => r.url === '/v1/messages').length;

test('over the daily budget a token request gets Claude Code\'s billing_error shape and never reaches upstream', async () => {
  let refused: Awaited<ReturnType<typeof post>> | null = null;
  let admitted = 0;
  for (let i = 0; i < 20 && refused === null; i++) {
    const r = await post(authHeaders(s.tokens['tool-a']!));
    await s.gw.flushUsage();
    if (r.status === 200) admitted++;
    else refused = r;
  }
  assert.ok(refused, 'the budget ran out');
  assert.ok(admitted >= 1);
  assert.equal(upstreamMessages(), admitted, 'the refused request was not forwarded');
  assert.equal(refused.status, 429, refused.body.toString());
  assert.equal(refused.headers['x-should-retry'], 'false');
  assert.equal(refused.headers['retry-after'], '7200', 'seconds to local midnight');
  assert.equal(refused.headers['x-sluice-error-code'], 'GATEWAY_BUDGET_EXCEEDED');
  const u = unifiedOf(refused.headers);
  // Claude Code's gateway reference: rejected, the reset, the period, the reason; utilization is
  // the settled share (the last request did not fit beside it).
  assert.deepEqual(Object.keys(u).sort(), [`${U}overage-disabled-reason`, `${U}overage-period`, `${U}overage-reset`, `${U}overage-surpassed-threshold`, `${U}overage-utilization`, `${U}reset`, `${U}status`]);
  assert.equal(u[`${U}status`], 'rejected');
  assert.equal(u[`${U}reset`], RESET_S);
  assert.equal(u[`${U}overage-reset`], RESET_S);
  assert.equal(u[`${U}overage-period`], 'daily');
  assert.equal(u[`${U}overage-surpassed-threshold`], '1');
  assert.equal(u[`${U}overage-disabled-reason`], 'org_spend_cap_reached');
  assert.equal(u[`${U}overage-utilization`], String(Math.round(((admitted * 0.00039) / 0.002) * 100) / 100));
  const body = JSON.parse(refused.body.toString());
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'billing_error');
  assert.match(body.error.message, /^spend limit (nearly )?reached · resets Mar 10 · Sluice refused this request: the daily budget \(all tools\) \(\$0\.0020, period 2026-03-10\) would be exceeded: /);
  assert.match(body.error.message, /It resets at 2026-03-11 00:00 \(in 2 h 0 min\)\. To raise it: `sluice budget set daily <usd>`\.$/);

  // The Anthropic SDK (what Claude Code is built on) reads x-should-retry: one request, no retries.
  const before = s.mock.requests.length;
  let gatewayHits = 0;
  const client = new Anthropic({
    baseURL: s.gw.url, apiKey: s.tokens['tool-a']!, maxRetries: 5,
    fetch: async (url, init) => { gatewayHits++; return fetch(url, init); },
  });
  await assert.rejects(client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 429);
    assert.match(err.message, /spend limit/);
    return true;
  });
  assert.equal(gatewayHits, 1, 'no retry storm: the SDK asked once');
  assert.equal(s.mock.requests.length, before);

  // count_tokens is never blocked by a budget.
  const count = await post(authHeaders(s.tokens['tool-a']!), '/v1/messages/count_tokens');
  assert.notEqual(count.status, 429, count.body.toString());
  assert.ok(s.mock.requests.some((r) => r.url === '/v1/messages/count_tokens'), 'count_tokens reached the upstream');
});

test('subscription (OAuth) traffic over budget: the same refusal, without unified headers of Sluice\'s', async () => {
  const r = await post(OAUTH);
  assert.equal(r.status, 429, r.body.toString());
  assert.equal(r.headers['x-should-retry'], 'false');
  assert.equal(r.headers['retry-after'], '7200');
  assert.deepEqual(unifiedOf(r.headers), {}, 'its windows are Anthropic\'s');
  assert.equal(JSON.parse(r.body.toString()).error.type, 'billing_error');
});

test('an upstream 429 billing_error (x-should-retry: false, retry-after: 1) on the only key is relayed after one attempt', async () => {
  s.config.set({ ...s.config.get(), budgets: { ...s.config.get().budgets, dailyUsd: null } });
  upstream = 'billing';
  try {
    const before = upstreamMessages();
    const r = await post(authHeaders(s.tokens['tool-a']!));
    assert.equal(r.status, 429);
    assert.equal(r.headers['x-should-retry'], 'false');
    assert.equal(JSON.parse(r.body.toString()).error.message, 'spend limit reached · upstream cap');
    assert.equal(upstreamMessages() - before, 1, 'Sluice did not retry into the upstream\'s block');
  } finally {
    upstream = 'ok';
  }
});
