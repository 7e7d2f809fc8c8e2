// The profile switcher in headless Chromium against a real gateway with two mock providers: a
// click on the Settings page switches the profile and the very next request is routed by it (the
// mocks record which provider and model got it); a switch from the CLI (through the gateway's
// admin API) or the admin API itself shows on the open page without a reload (the SSE `profile`
// event), in the list and in the sidebar chip; a click on a list made stale by another settings
// change is refused with 409 and the page says so; screenshots at 360/760/1440 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { authHeaders, rawRequest } from '../helpers.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { ProfilesSettingsSchema } from '../../proxy/profiles/index.js';
import { runProfileCli } from '../../proxy/profiles/cli.js';
import { T } from '../../renderer/src/lib/test-ids.js';

declare const window: { __sluiceMarker?: number };
declare const document: { querySelector(sel: string): { textContent: string | null } | null };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'profiles');

let s: AdminStack;
let alpha: MockUpstream;
let beta: MockUpstream;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

const profile = (provider: string, url: string, description: string) => ({
  description,
  providers: { [provider]: { type: 'anthropic-compatible', baseUrl: url, discoverModels: false } },
  routing: { rules: [{ name: 'all', match: {}, target: { provider, model: `model-${provider}` } }] },
});

before(async () => {
  if (skip) return;
  alpha = await startMockUpstream();
  beta = await startMockUpstream();
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, env: { SLUICE_ALPHA_API_KEY: 'alpha-key-FAKE-0001', SLUICE_BETA_API_KEY: 'beta-key-FAKE-0002' } });
  await s.gw.settings.update((st) => {
    st.profiles.list = ProfilesSettingsSchema.parse({ list: {
      Alpha: profile('alpha', alpha.url, 'Everything on provider Alpha'),
      'Background on Beta': profile('beta', beta.url, 'Everything on the cheaper Beta'),
      'Anthropic direct': { description: 'No rules: every request to Anthropic as asked' },
    } }).list;
  });
  // The CLI finds the gateway through the file `serve` publishes.
  await s.admin.publish(join(s.dataDir, 'admin.json'));
  ({ browser, page } = await openDashboard(s, problems));
  await page.setViewportSize({ width: 1280, height: 900 });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  await alpha?.close();
  await beta?.close();
});

const option = (name: string) => page.locator(`[data-testid="${T.profileOption(name)}"]`);
const activeIs = (name: string) => page.locator(`[data-testid="${T.profileOption(name)}"][data-active="true"]`).waitFor();

async function send(): Promise<void> {
  const r = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: authHeaders(s.toolToken),
    body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(r.status, 200, r.body.toString());
}
const lastModel = (m: MockUpstream) => JSON.parse(m.requests.at(-1)!.body.toString()).model as string;

test('one click on the Settings page switches the profile; the next request is routed by it', { skip, timeout: 60_000 }, async () => {
  await page.goto(`${s.gw.url}/ui/#/settings`);
  await option('Alpha').waitFor();
  assert.equal(await page.getByTestId(T.profileActive).textContent(), 'None active');
  await option('Alpha').click();
  await activeIs('Alpha');
  assert.match(await page.getByTestId(T.profileNotice).textContent() ?? '', /“Alpha” is active\. The next request uses it\./);
  assert.equal(s.gw.settings.get().profiles.active, 'Alpha');
  await send();
  assert.equal(alpha.requests.length, 1);
  assert.equal(lastModel(alpha), 'model-alpha');

  await option('Background on Beta').click();
  await activeIs('Background on Beta');
  assert.equal(await option('Alpha').getAttribute('data-active'), 'false');
  await send();
  assert.equal(beta.requests.length, 1);
  assert.equal(lastModel(beta), 'model-beta');
  assert.equal(alpha.requests.length, 1, 'nothing more to Alpha after the switch');
  assert.equal(s.mock.requests.length, 0, 'nothing fell through to the default provider');
  assert.deepEqual(problems, []);
});

test('a switch from the CLI or the admin API shows on the open page without a reload', { skip, timeout: 60_000 }, async () => {
  await page.goto(`${s.gw.url}/ui/#/settings`);
  await option('Alpha').waitFor();
  await page.evaluate(() => { window.__sluiceMarker = 1; });
  const out: string[] = [];
  const code = await runProfileCli(['profile', 'use', 'Alpha'], { stdout: (x) => out.push(x), stderr: (x) => out.push(x), env: {} }, s.dataDir);
  assert.equal(code, 0, out.join(''));
  assert.match(out.join(''), /It applies to the next request/, 'through the running gateway');
  await activeIs('Alpha');
  assert.match(await page.getByTestId(T.profileNotice).textContent() ?? '', /Switched to “Alpha” elsewhere/);
  assert.equal(await page.getByTestId(T.profileActive).textContent(), 'Alpha');
  assert.equal(await page.getByTestId(T.profileChip).locator('.chip-name').textContent(), 'Alpha');

  const r = await s.api('POST', '/profiles/active', { name: 'Anthropic direct' });
  assert.equal(r.status, 200);
  await activeIs('Anthropic direct');
  await page.waitForFunction((n) => document.querySelector('[data-testid="profile-chip"] .chip-name')?.textContent === n, 'Anthropic direct');
  assert.equal(await page.evaluate(() => window.__sluiceMarker), 1, 'the page was not reloaded');
  await send();
  assert.equal(s.mock.requests.length, 1, 'Anthropic direct: the default provider got it');
  assert.deepEqual(problems, []);
});

test('a click on a list made stale by another settings change is refused (409) and the page says so', { skip, timeout: 60_000 }, async () => {
  await page.goto(`${s.gw.url}/ui/#/settings`);
  await activeIs('Anthropic direct');
  // Another change meanwhile (not a profile switch, so no event refreshes the page's revision).
  const other = await s.api('PUT', '/settings', { security: { allowedOrigins: ['http://localhost:5173'] } });
  assert.equal(other.status, 200);
  await option('Alpha').click();
  const stale = page.getByTestId('settings-stale');
  await stale.waitFor();
  assert.match(await stale.textContent() ?? '', /changed elsewhere/);
  assert.equal(s.gw.settings.get().profiles.active, 'Anthropic direct', 'nothing applied');
  // The page reloaded the current state: the same click now works.
  await activeIs('Anthropic direct');
  await option('Alpha').click();
  await activeIs('Alpha');
  assert.equal(s.gw.settings.get().profiles.active, 'Alpha');
  assert.deepEqual(problems.filter((p) => !/409/.test(p)), []);
});

test('screenshots of the switcher at 360, 760 and 1440 px for a person to look at', { skip, timeout: 60_000 }, async () => {
  await mkdir(SHOTS, { recursive: true });
  // A fresh document: the stale notice of the test before is not part of the picture.
  await page.goto('about:blank');
  for (const width of [360, 760, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/settings`);
    await activeIs('Alpha');
    await page.screenshot({ path: join(SHOTS, `profiles-${width}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});
