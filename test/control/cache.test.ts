// Prompt-cache injection through the gateway, opt-in per token, and the savings route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest } from '../helpers.js';
import { startControlStack, messagesBody, ADMIN_TOKEN, type ControlStack } from './stack.js';

let s: ControlStack;
before(async () => {
  s = await startControlStack({ tokenNames: ['cached', 'plain'], control: { tokens: { cached: { injectCache: true } } } });
});
after(() => s.close());

const post = (token: string, body: string) => rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body });

test('an opted-in token gets breakpoints; others and pre-marked bodies are forwarded unchanged', async () => {
  const body = messagesBody({ extra: { system: 'Be brief.' } });
  assert.equal((await post(s.tokens.cached!, body)).status, 200);
  const sent = JSON.parse(s.mock.requests.at(-1)!.body.toString());
  assert.deepEqual(sent.system, [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }]);
  assert.deepEqual(sent.messages[0].content, [{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral' } }]);

  await post(s.tokens.plain!, body);
  assert.equal(s.mock.requests.at(-1)!.body.toString(), body);

  const marked = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'q' }] });
  await post(s.tokens.cached!, marked);
  assert.equal(s.mock.requests.at(-1)!.body.toString(), marked);
});

test('cache savings: cache-read tokens x (input - cache read price), behind admin auth', async () => {
  await s.gw.flushUsage();
  const denied = await rawRequest(`${s.gw.url}/admin/api/control/cache-savings`);
  assert.equal(denied.status, 401);
  const r = await rawRequest(`${s.gw.url}/admin/api/control/cache-savings`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(r.status, 200);
  const j = JSON.parse(r.body.toString());
  // Three metered Messages calls, each with the mock's 2000 cache-read tokens on Sonnet 4.5 ($3 vs $0.30).
  const rows = j.rows as { model: string; cacheReadTokens: number; savedUsd: number }[];
  assert.ok(rows.every((x) => x.model.startsWith('claude-sonnet-4-5')));
  assert.equal(rows.reduce((a, x) => a + x.cacheReadTokens, 0), 6000);
  for (const x of rows) assert.equal(Math.round(x.savedUsd * 1e6), Math.round(x.cacheReadTokens * 2.7));
  assert.equal(Math.round(j.totalUsd * 1e6), 16200);
});
