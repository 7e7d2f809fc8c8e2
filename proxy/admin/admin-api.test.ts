// The admin API on a real gateway (mock upstream, temp data dir): auth (admin token, tool tokens
// refused, one-time login), CSRF content-type rule, validation, settings round trip, tokens,
// ledger views and the CSV export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawRequest, authHeaders, PROVIDER_KEY } from '../../test/helpers.js';
import { startAdminStack, type AdminStack } from '../../test/ui/admin-stack.js';
import { ADMIN_COOKIE } from './auth.js';

let s: AdminStack;
let clock = Date.now();
const SESSION = '5f1c1a9e-0000-4000-8000-000000000001';

before(async () => {
  s = await startAdminStack({ admin: { now: () => clock } });
  // One metered request in a Claude Code session, priced by the bundled table.
  const res = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST',
    headers: authHeaders(s.toolToken, { 'x-claude-code-session-id': SESSION }),
    body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  await s.gw.flushUsage();
});
after(() => s.close());

const envelope = (r: { json: any; headers: Record<string, unknown> }, status: number, code: string) => {
  assert.equal(r.json.type, 'error');
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(r.headers['x-sluice-error-code'], code);
  assert.match(String(r.json.request_id), /^sluice_/);
  void status;
};

test('no credential, a wrong token and a tool token all get the 401 envelope', async () => {
  const none = await s.api('GET', '/status', undefined, { authorization: '' });
  assert.equal(none.status, 401);
  const bare = await rawRequest(`${s.gw.url}/admin/api/status`);
  assert.equal(bare.status, 401);
  assert.equal(bare.headers['x-sluice-error-code'], 'GATEWAY_UNAUTHORIZED');
  const wrong = await s.api('GET', '/status', undefined, { authorization: 'Bearer sluice-admin-wrong' });
  assert.equal(wrong.status, 401);
  envelope(wrong, 401, 'GATEWAY_UNAUTHORIZED');
  const tool = await s.api('GET', '/status', undefined, { authorization: `Bearer ${s.toolToken}` });
  assert.equal(tool.status, 401, 'a tool token is not an admin token');
  const toolKey = await rawRequest(`${s.gw.url}/admin/api/status`, { headers: { 'x-api-key': s.toolToken } });
  assert.equal(toolKey.status, 401);
  const ok = await s.api('GET', '/status');
  assert.equal(ok.status, 200);
});

test('the one-time login URL sets the session cookie once, then is spent', async () => {
  const url = s.admin.createLoginUrl();
  assert.match(url, new RegExp(`^${s.gw.url}/ui/login\\?code=[A-Za-z0-9_-]{43}$`));
  const first = await rawRequest(url);
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/ui/');
  const cookie = String(first.headers['set-cookie']);
  assert.match(cookie, new RegExp(`^${ADMIN_COOKIE}=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=/$`));
  const session = cookie.split(';', 1)[0]!;
  const status = await rawRequest(`${s.gw.url}/admin/api/status`, { headers: { cookie: session } });
  assert.equal(status.status, 200);

  const again = await rawRequest(url);
  assert.equal(again.status, 401, 'single use');
  assert.equal(again.headers['set-cookie'], undefined);
  const browser = await rawRequest(url, { headers: { accept: 'text/html' } });
  assert.equal(browser.status, 303);
  assert.equal(browser.headers.location, '/ui/#/signed-out?error=GATEWAY_UNAUTHORIZED');
});

test('a login URL expires after 5 minutes (injected clock)', async () => {
  const url = s.admin.createLoginUrl();
  clock += 5 * 60_000 + 1;
  const r = await rawRequest(url);
  clock -= 5 * 60_000 + 1;
  assert.equal(r.status, 401);
  assert.equal(r.headers['x-sluice-error-code'], 'ADMIN_LOGIN_EXPIRED');
});

test('POST /login-url (admin token) returns a working one-time URL', async () => {
  const r = await s.api('POST', '/login-url', {});
  assert.equal(r.status, 200);
  assert.equal(r.json.expiresInSeconds, 300);
  assert.equal((await rawRequest(r.json.url)).status, 303);
});

test('state-changing requests need a JSON content type; bad JSON is a 400', async () => {
  const form = await s.api('POST', '/tokens', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  assert.equal(form.headers['x-sluice-error-code'], 'ADMIN_UNSUPPORTED_MEDIA_TYPE');
  const plain = await s.api('DELETE', '/tokens/whatever');
  assert.equal(plain.status, 415, 'DELETE without a body still needs the header');
  const bad = await s.api('POST', '/tokens', '{"name":', { 'content-type': 'application/json' });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers['x-sluice-error-code'], 'GATEWAY_INVALID_REQUEST');
  assert.equal(s.gw.tokens.list().filter((t) => t.name === 'x').length, 0);
});

test('query and body validation list the problem', async () => {
  const limit = await s.api('GET', '/sessions?limit=0');
  assert.equal(limit.status, 400);
  assert.match(limit.json.error.message, /limit/);
  const sort = await s.api('GET', '/sessions?sort=price');
  assert.equal(sort.status, 400);
  assert.match(sort.json.error.message, /sort/);
  const unknown = await s.api('GET', '/sessions?colour=red');
  assert.equal(unknown.status, 400);
  assert.match(unknown.json.error.message, /colour/);
  const since = await s.api('GET', '/report?since=yesterday');
  assert.equal(since.status, 400);
  const twice = await s.api('GET', '/sessions?limit=1&limit=2');
  assert.equal(twice.status, 400);
  const by = await s.api('GET', '/report?by=planet');
  assert.equal(by.status, 400);
  const route = await s.api('GET', '/nope');
  assert.equal(route.status, 404);
  assert.equal(route.headers['x-sluice-error-code'], 'ADMIN_NOT_FOUND');
});

test('status: version, port, today and month spend, token count', async () => {
  const r = await s.api('GET', '/status');
  assert.equal(r.status, 200);
  assert.equal(r.json.port, s.gw.port);
  assert.equal(r.json.url, s.gw.url);
  assert.equal(r.json.upstream, s.mock.url);
  assert.equal(r.json.tokens.active, 1);
  assert.equal(r.json.metering, true);
  // Sonnet 4.5 list prices on the mock's usage: 12 in, 100 5m-write, 2000 read, 9 out.
  const expected = (12 * 3 + 100 * 3.75 + 2000 * 0.3 + 9 * 15) / 1e6;
  assert.ok(r.json.spend, 'spend present');
  assert.equal(r.json.spend.today.requests, 1);
  assert.ok(Math.abs(r.json.spend.today.costUsd - expected) < 1e-12, `${r.json.spend.today.costUsd} vs ${expected}`);
  assert.equal(r.json.spend.month.requests, 1);
  assert.deepEqual(r.json.keys, [{ provider: 'anthropic', hint: PROVIDER_KEY.slice(-4), source: 'env' }]);
  assert.ok(!r.body.toString().includes(PROVIDER_KEY.slice(0, -4)), 'only the last 4 characters of the key');
});

test('sessions list, detail with its request, 404 for an unknown session', async () => {
  const list = await s.api('GET', `/sessions?search=${SESSION.slice(0, 8)}&sort=cost&order=desc&limit=10`);
  assert.equal(list.status, 200);
  assert.equal(list.json.total, 1);
  assert.equal(list.json.sessions[0].sessionId, SESSION);
  assert.equal(list.json.sessions[0].tool, 'test-tool');
  assert.deepEqual(list.json.sessions[0].models, ['claude-sonnet-4-5-20250929']);
  const none = await s.api('GET', '/sessions?search=zzzz-not-there');
  assert.equal(none.json.total, 0);
  const detail = await s.api('GET', `/sessions/${SESSION}`);
  assert.equal(detail.status, 200);
  assert.equal(detail.json.requests.length, 1);
  assert.equal(detail.json.requests[0].status, 200);
  assert.equal(detail.json.requests[0].outputTokens, 9);
  const missing = await s.api('GET', '/sessions/not-a-session');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['x-sluice-error-code'], 'ADMIN_NOT_FOUND');
});

test('report by model and the CSV export', async () => {
  const r = await s.api('GET', '/report?by=model');
  assert.equal(r.status, 200);
  assert.equal(r.json.by, 'model');
  assert.deepEqual(r.json.rows.map((x: { key: string }) => x.key), ['claude-sonnet-4-5-20250929']);
  const csv = await s.api('GET', '/export.csv?by=tool');
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.match(String(csv.headers['content-disposition']), /attachment; filename="sluice-spend-by-tool-start-to-now.csv"/);
  const lines = csv.body.toString().trim().split('\r\n');
  assert.equal(lines[0], 'tool,requests,errors,billed_requests,input_tokens,output_tokens,cache_write_5m_tokens,cache_write_1h_tokens,cache_read_tokens,web_search_requests,cost_usd,unpriced_requests');
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^test-tool,1,0,1,12,9,100,0,2000,0,0\.001146,0$/);
});

test('settings round trip: saved to disk, read back; invalid values refused and not saved', async () => {
  const put = await s.api('PUT', '/settings', {
    anthropicBaseUrl: 'https://relay.example.test/anthropic/',
    security: { allowedOrigins: ['http://localhost:5173'], allowPassthrough: false },
    timeouts: { firstByteMs: 120_000 },
    metering: { enabled: true },
  });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  assert.equal(put.json.anthropicBaseUrl, 'https://relay.example.test/anthropic');
  assert.equal(put.json.anthropicBaseUrlEnv, s.mock.url, 'the env override is shown');
  const get = await s.api('GET', '/settings');
  assert.deepEqual(get.json, put.json);
  assert.equal(get.json.timeouts.firstByteMs, 120_000);
  assert.equal(get.json.timeouts.idleMs, 600_000, 'untouched fields keep their value');
  assert.equal('tokens' in get.json, false, 'token hashes are not part of the view');
  const onDisk = JSON.parse(await readFile(join(s.dataDir, 'settings.json'), 'utf8'));
  assert.equal(onDisk.providers.anthropic.baseUrl, 'https://relay.example.test/anthropic');
  assert.deepEqual(onDisk.security.allowedOrigins, ['http://localhost:5173']);
  assert.equal(onDisk.security.allowPassthrough, false);

  const bad = await s.api('PUT', '/settings', { port: 70000, security: { allowedOrigins: ['http://x.test/path'] } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /port/);
  assert.match(bad.json.error.message, /allowedOrigins/);
  const notUrl = await s.api('PUT', '/settings', { anthropicBaseUrl: 'ftp://nope' });
  assert.equal(notUrl.status, 400);
  const sneaky = await s.api('PUT', '/settings', { tokens: [] });
  assert.equal(sneaky.status, 400, 'fields outside the safe subset are refused');
  const price = await s.api('PUT', '/settings', { pricing: { overrides: { 'my-model': { input: 'free' } } } });
  assert.equal(price.status, 400);
  assert.match(price.json.error.message, /pricing\.overrides/);
  const after = JSON.parse(await readFile(join(s.dataDir, 'settings.json'), 'utf8'));
  assert.deepEqual(after, onDisk, 'nothing written by refused updates');
  // Leave passthrough as the other tests expect it.
  await s.api('PUT', '/settings', { security: { allowPassthrough: true } });
});

test('tokens: the value is returned once at creation, never listed; revoke works', async () => {
  const created = await s.api('POST', '/tokens', { name: 'from-window' });
  assert.equal(created.status, 201);
  assert.match(created.json.token, /^sk-sluice-/);
  const list = await s.api('GET', '/tokens');
  const text = list.body.toString();
  assert.ok(!text.includes(created.json.token), 'token value not listed');
  assert.ok(!text.includes('hash'), 'no hash field');
  assert.ok(list.json.tokens.some((t: { name: string; hint: string }) => t.name === 'from-window' && t.hint === created.json.token.slice(-4)));
  const use = await rawRequest(`${s.gw.url}/v1/models`, { headers: authHeaders(created.json.token) });
  assert.equal(use.status, 200, `the new token works on /v1: ${use.body}`);
  const dup = await s.api('POST', '/tokens', { name: 'from-window' });
  assert.equal(dup.status, 409);
  const badName = await s.api('POST', '/tokens', { name: '../etc' });
  assert.equal(badName.status, 400);
  const rev = await s.api('DELETE', `/tokens/${created.json.record.id}`, {});
  assert.equal(rev.status, 200);
  assert.ok(rev.json.revokedAt);
  const refused = await rawRequest(`${s.gw.url}/v1/models`, { headers: authHeaders(created.json.token) });
  assert.equal(refused.status, 401);
  const again = await s.api('DELETE', `/tokens/${created.json.record.id}`, {});
  assert.equal(again.status, 404);
});

test('tools: list, preview, apply and exact undo against a temp home', async () => {
  const list = await s.api('GET', '/tools');
  assert.equal(list.status, 200);
  assert.equal(list.json.gatewayUrl, s.gw.url);
  assert.match(list.json.cursorByokNote, /Cursor/);
  const cc = list.json.tools.find((t: { id: string }) => t.id === 'claude-code');
  assert.ok(cc);
  assert.equal(cc.state === 'not-configured' || cc.state === 'not-installed', true);

  const preview = await s.api('POST', '/tools/claude-code/preview', {});
  assert.equal(preview.status, 200);
  const file = preview.json.files.find((f: { path: string }) => f.path.endsWith(join('.claude', 'settings.json')));
  assert.ok(file, JSON.stringify(preview.json));
  assert.match(file.diff, /ANTHROPIC_BASE_URL/);
  assert.ok(file.diff.includes(s.gw.url));

  await mkdir(join(s.home, '.claude'), { recursive: true });
  const applied = await s.api('POST', '/tools/claude-code/apply', {});
  assert.equal(applied.status, 200, JSON.stringify(applied.json));
  const written = JSON.parse(await readFile(join(s.home, '.claude', 'settings.json'), 'utf8'));
  assert.equal(written.env.ANTHROPIC_BASE_URL, s.gw.url);
  assert.ok(s.gw.tokens.verify(written.env.ANTHROPIC_AUTH_TOKEN), 'the tool got a working token of its own');
  assert.ok(!applied.body.toString().includes(written.env.ANTHROPIC_AUTH_TOKEN), 'the token is not in the response');
  const after = await s.api('GET', '/tools');
  assert.equal(after.json.tools.find((t: { id: string }) => t.id === 'claude-code').state, 'configured-by-sluice');

  const undo = await s.api('POST', '/tools/claude-code/undo', {});
  assert.equal(undo.status, 200);
  assert.equal(undo.json.undone, true);
  assert.equal(undo.json.tokenRevoked, true);
  assert.equal(s.gw.tokens.verify(written.env.ANTHROPIC_AUTH_TOKEN), null, 'its token is revoked');
  const unknown = await s.api('POST', '/tools/emacs/apply', {});
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers['x-sluice-error-code'], 'TOOL_CONFIG_UNKNOWN_TOOL');
});
