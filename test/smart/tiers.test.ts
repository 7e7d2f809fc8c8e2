// Complexity tiers through a real gateway: a rule with `tiers: true` sends Claude Code's title
// request to the simple tier's model and a big code paste to the complex tier's, says so in
// x-sluice-tier, and records the tier and the (text-free) features in the ledger row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest, startStack, type Stack } from '../helpers.js';
import { codePasteRequest, titleRequest } from '../../proxy/smart/fixtures/claude-code.js';
import type { RequestRecord } from '../../proxy/ledger/types.js';

let s: Stack;
before(async () => {
  s = await startStack({ tokenName: 'claude-code' });
  await s.gw.settings.update((st) => {
    st.routing.smart.tiers.simple = { provider: 'anthropic', model: 'test-small-1' };
    st.routing.smart.tiers.complex = { provider: 'anthropic', model: 'test-large-1' };
    st.routing.rules = [{ name: 'smart', match: {}, tiers: true, fallbacks: [] }] as never;
  });
});
after(async () => { await s.close(); });

async function rowOf(upstreamRequestId: string): Promise<RequestRecord> {
  await s.gw.flushUsage();
  const row = s.gw.ledger!.requestsInRange().requests.find((r) => r.upstreamRequestId === upstreamRequestId);
  assert.ok(row, `ledger row of ${upstreamRequestId}`);
  return row;
}

test('a Claude Code title request goes to the simple tier model', async () => {
  const body = titleRequest();
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body });
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.headers['x-sluice-tier'], 'simple');
  assert.equal(res.headers['x-sluice-route'], 'smart');
  assert.equal(res.headers['x-sluice-served-by'], 'anthropic; model=test-small-1');
  const up = s.mock.requests.at(-1)!;
  assert.equal(JSON.parse(up.body.toString()).model, 'test-small-1');
  // Only the model changed: the rest of the client's bytes went up as they were.
  assert.equal(up.body.toString(), body.toString().replace('"claude-haiku-4-5-20251001"', '"test-small-1"'));
  const row = await rowOf(String(res.headers['request-id']));
  assert.equal(row.tier, 'simple');
  assert.equal(row.route, 'smart');
  assert.equal(row.features!.toolCount, 0);
  assert.equal(row.features!.maxTokens, 512);
  assert.equal('userText' in row.features!, false);
  assert.ok(!JSON.stringify(row.features).includes('checkout fail'), 'no prompt text in the ledger');
});

test('a big code paste goes to the complex tier model', async () => {
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: codePasteRequest() });
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.headers['x-sluice-tier'], 'complex');
  assert.equal(JSON.parse(s.mock.requests.at(-1)!.body.toString()).model, 'test-large-1');
  const row = await rowOf(String(res.headers['request-id']));
  assert.equal(row.tier, 'complex');
  assert.equal(row.features!.hasCode, true);
  assert.ok((row.features!.userChars as number) > 4000);
  assert.ok(!JSON.stringify(row.features).includes('race condition'), 'no prompt text in the ledger');
});

test('a request no rule matches gets no tier header and keeps its model', async () => {
  await s.gw.settings.update((st) => {
    st.routing.rules = [{ name: 'smart', match: { model: 'claude-opus-*' }, tiers: true, fallbacks: [] }] as never;
  });
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: titleRequest() });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-tier'], undefined);
  assert.equal(JSON.parse(s.mock.requests.at(-1)!.body.toString()).model, 'claude-haiku-4-5-20251001');
  const row = await rowOf(String(res.headers['request-id']));
  assert.equal(row.tier, null);
  assert.equal(row.features, null);
});
