// Sluice's budgets inside Claude Code (issue 19, item 5, the announcing half): on API-key traffic
// the fullest budget is announced in the anthropic-ratelimit-unified-* shape Claude Code reads
// from a gateway (the `overage` claim; allowed_warning past 75% / 95%), while subscription
// (OAuth) traffic and any unified headers of the upstream's own are left exactly as they are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest } from '../helpers.js';
import { messageJson, sendJson } from '../mock-upstream.js';
import { startControlStack, messagesBody, type ControlStack } from './stack.js';

// Each request: 30 input x $3/M + 20 output x $15/M = $0.00039 of a $0.002 daily budget (19.5%).
const USAGE = { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
const U = 'anthropic-ratelimit-unified-';
let upstreamUnified: Record<string, string> = {};
let s: ControlStack;
before(async () => {
  s = await startControlStack({
    tokenNames: ['tool-a'],
    control: { budgets: { dailyUsd: 0.002 } },
    behavior: (req, res) => sendJson(req, res, 200, messageJson({ usage: USAGE, outputTokens: 20 }), upstreamUnified),
    ext: { now: () => 0, tz: () => 120 },
  });
});
after(() => s.close());

const post = (headers: Record<string, string>) => rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers, body: messagesBody({ maxTokens: 20 }) });
const unifiedOf = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith(U)));

test('the fullest budget is announced per request; past 75% it is a warning', async () => {
  // Local midnight after 1970-01-01 00:00 UTC in +02:00 is 22:00 UTC.
  const reset = String(22 * 3600);
  const seen: Record<string, unknown>[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await post(authHeaders(s.tokens['tool-a']!));
    assert.equal(r.status, 200, r.body.toString());
    await s.gw.flushUsage();
    seen.push(unifiedOf(r.headers));
  }
  const util = (n: number) => String(Math.round(((n * 0.00039) / 0.002) * 1e4) / 1e4);
  assert.deepEqual(seen[0], { [`${U}status`]: 'allowed', [`${U}reset`]: reset, [`${U}representative-claim`]: 'overage', [`${U}overage-status`]: 'allowed', [`${U}overage-reset`]: reset, [`${U}overage-utilization`]: '0' });
  assert.equal(seen[3]![`${U}overage-utilization`], util(3));
  assert.equal(seen[3]![`${U}status`], 'allowed', '58.5%: no warning yet');
  assert.deepEqual(seen[4], { [`${U}status`]: 'allowed_warning', [`${U}reset`]: reset, [`${U}representative-claim`]: 'overage', [`${U}overage-status`]: 'allowed_warning', [`${U}overage-reset`]: reset, [`${U}overage-utilization`]: util(4), [`${U}overage-surpassed-threshold`]: '0.75' });
});

test('subscription traffic and the upstream\'s own unified headers are never touched', async () => {
  s.config.set({ ...s.config.get(), budgets: { ...s.config.get().budgets, dailyUsd: 1 } });
  const oauth = { authorization: 'Bearer sk-ant-oat01-FAKE-sub', 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const plain = await post(oauth);
  assert.equal(plain.status, 200, plain.body.toString());
  assert.deepEqual(unifiedOf(plain.headers), {}, 'nothing announced on OAuth traffic');
  upstreamUnified = { [`${U}status`]: 'allowed', [`${U}5h-utilization`]: '0.42' };
  try {
    const sub = await post(oauth);
    assert.deepEqual(unifiedOf(sub.headers), upstreamUnified);
    const tok = await post(authHeaders(s.tokens['tool-a']!));
    assert.deepEqual(unifiedOf(tok.headers), upstreamUnified, 'the upstream\'s own window state wins over an announcement');
  } finally {
    upstreamUnified = {};
  }
});
