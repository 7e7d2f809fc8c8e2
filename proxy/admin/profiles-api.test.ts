// The profiles admin API on a real gateway: GET /profiles lists names and counts (no provider
// entries, so no keys) with the settings revision; POST /profiles/active switches in one write
// that the next request is routed by, refuses a stale If-Match with 409 (nothing applied), and
// every switch, whichever surface made it (this API, the store the tray uses, a hand edit of
// settings.json), reaches the SSE stream as a `profile` event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authHeaders, rawRequest, until } from '../../test/helpers.js';
import { startAdminStack } from '../../test/ui/admin-stack.js';
import { startMockUpstream, type MockUpstream } from '../../test/mock-upstream.js';
import { applyProfile, ProfilesSettingsSchema } from '../profiles/index.js';

const profile = (provider: string, url: string) => ({
  description: `everything on ${provider}`,
  providers: { [provider]: { type: 'anthropic-compatible', baseUrl: url, discoverModels: false } },
  routing: { rules: [{ name: 'all', match: {}, target: { provider, model: `model-${provider}` } }] },
});

function sse(url: string, token: string): Promise<{ res: IncomingMessage; events: () => { event: string; data: any }[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      let all = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { all += d; });
      resolve({
        res,
        events: () => all.split('\n\n').map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1] ?? '', data: /^data: (.*)$/m.exec(b)?.[1] })).filter((e) => e.event && e.data)
          .map((e) => ({ event: e.event, data: JSON.parse(e.data!) })),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('profiles admin API: list without keys, one-click switch routes the next request, stale If-Match is 409, every switch is an event', async () => {
  const alpha = await startMockUpstream();
  const beta = await startMockUpstream();
  const s = await startAdminStack({ env: { SLUICE_ALPHA_API_KEY: 'alpha-key-FAKE-0001', SLUICE_BETA_API_KEY: 'beta-key-FAKE-0002' } });
  const mocks: MockUpstream[] = [alpha, beta];
  let stream: Awaited<ReturnType<typeof sse>> | null = null;
  try {
    await s.gw.settings.update((st) => { st.profiles.list = ProfilesSettingsSchema.parse({ list: { Alpha: profile('alpha', alpha.url), Beta: profile('beta', beta.url) } }).list; });
    stream = await sse(`${s.gw.url}/admin/api/events`, s.admin.adminToken);
    const profileEvents = () => stream!.events().filter((e) => e.event === 'profile').map((e) => [e.data.previous, e.data.name]);

    const list = await s.api('GET', '/profiles');
    assert.equal(list.status, 200);
    assert.equal(list.json.active, null);
    assert.equal(list.json.revision, list.headers['x-sluice-revision']);
    assert.deepEqual(list.json.profiles.map((p: any) => [p.name, p.active, p.providers, p.rules]), [['Alpha', false, ['alpha'], 1], ['Beta', false, ['beta'], 1]]);
    assert.doesNotMatch(list.body.toString(), /baseUrl|127\.0\.0\.1|FAKE/, 'names and counts only');

    // Switch with the revision just read: applied, and the very next request goes by it.
    const r1 = await s.api('POST', '/profiles/active', { name: 'Alpha' }, { 'if-match': `"${list.json.revision}"` });
    assert.equal(r1.status, 200, r1.body.toString());
    assert.equal(r1.json.active, 'Alpha');
    assert.notEqual(r1.json.revision, list.json.revision);
    const send = () => rawRequest(`${s.gw.url}/v1/messages`, {
      method: 'POST', headers: authHeaders(s.toolToken),
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal((await send()).status, 200);
    assert.equal(alpha.requests.length, 1);
    assert.equal(JSON.parse(alpha.requests[0]!.body.toString()).model, 'model-alpha');
    await until(() => profileEvents().length === 1, 'the switch event');
    assert.deepEqual(profileEvents(), [[null, 'Alpha']]);

    // Stale: the revision before the switch. Refused in the standard envelope; nothing applied.
    const stale = await s.api('POST', '/profiles/active', { name: 'Beta' }, { 'if-match': `"${list.json.revision}"` });
    assert.equal(stale.status, 409);
    assert.equal(stale.headers['x-sluice-error-code'], 'SETTINGS_REVISION_STALE');
    assert.equal(stale.json.type, 'error');
    assert.equal(s.gw.settings.get().profiles.active, 'Alpha');
    assert.equal((await s.api('GET', '/profiles')).json.active, 'Alpha');

    // Unknown names and bad bodies are refused without a write.
    const missing = await s.api('POST', '/profiles/active', { name: 'Gamma' });
    assert.equal(missing.status, 404);
    assert.equal((await s.api('POST', '/profiles/active', { name: 'x/y' })).status, 400);
    assert.equal((await s.api('POST', '/profiles/active', { profile: 'Beta' })).status, 400);

    // The store the tray writes through (same process): an event too.
    await s.gw.settings.update((st) => applyProfile(st, 'Beta'));
    await until(() => profileEvents().length === 2, 'the tray-path switch event');
    assert.equal((await send()).status, 200);
    assert.equal(JSON.parse(beta.requests.at(-1)!.body.toString()).model, 'model-beta');

    // A hand edit of settings.json: the gateway reloads it and says so.
    const file = join(s.dataDir, 'settings.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.profiles.active = 'Alpha';
    doc.routing = profile('alpha', alpha.url).routing;
    await writeFile(file, JSON.stringify(doc, null, 2));
    await until(() => profileEvents().length === 3, 'the hand-edit switch event');
    assert.deepEqual(profileEvents(), [[null, 'Alpha'], ['Alpha', 'Beta'], ['Beta', 'Alpha']]);

    // Cleared: no profile active, routing unchanged.
    const cleared = await s.api('POST', '/profiles/active', { name: null });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.json.active, null);
    assert.equal(s.gw.settings.get().routing.rules[0]!.target!.provider, 'alpha');
    await until(() => profileEvents().length === 4, 'the clear event');
  } finally {
    stream?.res.destroy();
    await s.close();
    for (const m of mocks) await m.close();
  }
});
