// The control admin API: behind the injected authorize(), zod-validated, audited with its source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest } from '../helpers.js';
import { startControlStack, ADMIN_TOKEN, type ControlStack } from './stack.js';

let s: ControlStack;
before(async () => { s = await startControlStack(); });
after(() => s.close());

const call = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => rawRequest(`${s.gw.url}/admin/api/control${path}`, {
  method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...extra }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

test('every route refuses without the admin credential', async () => {
  for (const [m, p] of [['GET', '/status'], ['PUT', '/budgets'], ['GET', '/audit'], ['POST', '/guardrails/test']] as const) {
    const r = await rawRequest(`${s.gw.url}/admin/api/control${p}`, { method: m, headers: { authorization: 'Bearer wrong' }, ...(m === 'GET' ? {} : { body: '{}' }) });
    assert.equal(r.status, 401, `${m} ${p}`);
    assert.equal(JSON.parse(r.body.toString()).error.type, 'gateway_authentication_error');
  }
  assert.equal(s.config.saves, 0);
});

test('budgets and policies: validated, merged, audited with the source', async () => {
  const bad = await call('PUT', '/budgets', { dailyUsd: -1, bogus: true });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body.toString()).error.message, /dailyUsd.*bogus|bogus.*dailyUsd/s);
  const ok = await call('PUT', '/budgets', { dailyUsd: 5 });
  assert.deepEqual(JSON.parse(ok.body.toString()), { dailyUsd: 5, monthlyUsd: null, sessionUsd: null, alertAt: [0.5, 0.8, 1] });
  const pol = await call('PUT', '/policies/claude-code', { models: ['claude-*'], requestsPerMinute: 10 }, { 'x-sluice-source': 'app' });
  assert.equal(pol.status, 200);
  assert.equal(s.config.get().tokens['claude-code']!.requestsPerMinute, 10);
  const badRule = await call('PUT', '/guardrails', { policies: [{ name: 'p', rules: [{ id: 'r', pattern: '(a+)+$' }] }] });
  assert.equal(badRule.status, 400);
  assert.match(JSON.parse(badRule.body.toString()).error.message, /nested quantifiers/);
  const audit = JSON.parse((await call('GET', '/audit')).body.toString()).entries;
  assert.deepEqual(audit.map((e: { source: string; action: string }) => `${e.source} ${e.action}`), ['app policy.update', 'admin budget.update']);
  assert.deepEqual(audit[1].detail.before.dailyUsd, null);
});

test('the guardrail test route returns positions, not values', async () => {
  const r = await call('POST', '/guardrails/test', { text: 'x ada@example.com' });
  assert.deepEqual(JSON.parse(r.body.toString()), { findings: [{ detector: 'email', action: 'redact', line: 1, column: 3, length: 15 }] });
});
