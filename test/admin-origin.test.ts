// The admin API answers the gateway's own pages only. An origin listed in
// security.allowedOrigins is trusted to spend through /v1 with a tool token; it must not change
// settings with the dashboard's session cookie, which SameSite=Strict still sends from another
// port of localhost (ports do not make a site). And every state-changing admin route, the
// extensions' included, takes JSON only, as the admin router's own routes do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminStack, type AdminStack } from './ui/admin-stack.js';
import { rawRequest } from './helpers.js';

const PAGE = 'http://localhost:5173';
let s: AdminStack;
let cookie: string;

before(async () => {
  s = await startAdminStack({ control: true, insights: true });
  await s.gw.settings.update((x) => { x.security.allowedOrigins = [PAGE]; });
  const login = await rawRequest(s.admin.createLoginUrl(), {});
  assert.equal(login.status, 303);
  cookie = String(login.headers['set-cookie']).split(';', 1)[0]!;
});
after(async () => { await s?.close(); });

const injectCache = () => (s.gw.settings.get() as unknown as { control: { tokens: Record<string, { injectCache?: boolean }> } }).control.tokens.agent?.injectCache === true;

test('a listed origin cannot use the dashboard cookie on any admin route (admin router and extensions)', async () => {
  const form = { cookie, origin: PAGE, 'content-type': 'text/plain' };
  const insights = await rawRequest(`${s.gw.url}/admin/api/insights/cache/agent`, { method: 'POST', headers: form, body: '' });
  assert.equal(insights.status, 403);
  assert.equal(insights.headers['x-sluice-error-code'], 'GATEWAY_FORBIDDEN_ORIGIN');
  assert.equal(injectCache(), false);
  const guardTest = await rawRequest(`${s.gw.url}/admin/api/control/guardrails/test`, { method: 'POST', headers: form, body: '{"text":"x"}' });
  assert.equal(guardTest.status, 403);
  const json = { cookie, origin: PAGE, 'content-type': 'application/json' };
  const budgets = await rawRequest(`${s.gw.url}/admin/api/control/budgets`, { method: 'PUT', headers: json, body: '{"daily":1}' });
  assert.equal(budgets.status, 403);
  const settings = await rawRequest(`${s.gw.url}/admin/api/settings`, { headers: { cookie, origin: PAGE } });
  assert.equal(settings.status, 403);
  // /v1 still serves that origin, as listed.
  const v1 = await rawRequest(`${s.gw.url}/v1/models`, { headers: { origin: PAGE, 'x-api-key': s.toolToken } });
  assert.notEqual(v1.status, 403);
});

test('extension routes refuse a state change that is not JSON, like the admin router', async () => {
  for (const [method, path] of [['POST', '/insights/cache/agent'], ['POST', '/control/guardrails/test'], ['PUT', '/control/budgets'], ['DELETE', '/control/policies/agent']] as const) {
    // content-length: Node sends a DELETE body without framing unless told its length.
    const variants: Record<string, string>[] = [{ cookie, 'content-type': 'text/plain' }, { authorization: `Bearer ${s.admin.adminToken}` }];
    for (const headers of variants) {
      const r = await rawRequest(`${s.gw.url}/admin/api${path}`, { method, headers: { ...headers, 'content-length': '2' }, body: '{}' });
      assert.equal(r.status, 415, `${method} ${path} ${Object.keys(headers).join(',')}`);
      assert.equal(r.headers['x-sluice-error-code'], 'ADMIN_UNSUPPORTED_MEDIA_TYPE');
    }
  }
  assert.equal(injectCache(), false);
});

test('the dashboard\'s own origin still works with its cookie and JSON', async () => {
  const own = await rawRequest(`${s.gw.url}/admin/api/insights/cache/agent`, { method: 'POST', headers: { cookie, origin: s.gw.url, 'content-type': 'application/json' }, body: '' });
  assert.equal(own.status, 200, own.body.toString());
  assert.equal(injectCache(), true);
  const status = await rawRequest(`${s.gw.url}/admin/api/control/status`, { headers: { cookie, origin: s.gw.url.replace('127.0.0.1', 'localhost') } });
  assert.equal(status.status, 200);
});
