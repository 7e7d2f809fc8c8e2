// The dashboard end to end in headless Chromium against a real gateway (mock upstream, temp data
// dir, a private Secret Service): log in with the one-time URL, watch an SDK request arrive live
// and land in Sessions with its exact cost, open it, store a key in the keychain, change the
// upstream on Routing, and screenshot every page. Budgets are not part of this issue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { createKeychainStore, type SecretStore } from '../../proxy/store/secrets.js';
import { secretServiceUnavailable, startSecretService, type SecretService } from '../secret-service.js';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, launchBrowser } from './browser.js';
import { seedLedger } from './seed.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';
import { formatUsd } from '../../renderer/src/lib/format.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { querySelector(sel: string): { textContent: string | null } | null; documentElement: { dataset: Record<string, string | undefined> } };

const noBrowser = browserUnavailable();
const noKeychain = secretServiceUnavailable();
const skip = (noBrowser || noKeychain) && process.env.CI !== 'true' ? `${noBrowser ?? noKeychain}` : false;

const ROOT = packageRoot();
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const UI_DIR = join(ROOT, 'renderer', 'dist');
const SESSION = '0e2e7a11-5eed-4c0d-9a11-c0ffee000001';
const KEY = `sk-ant-api03-FAKE-${randomBytes(4).toString('hex')}`;
const service = `SluiceUiTest-${randomBytes(4).toString('hex')}`;

let ss: SecretService | null = null;
let savedBus: string | undefined;
let s: AdminStack;
let secrets: SecretStore;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const shots: string[] = [];

async function shot(name: string) {
  // Let charts and fonts settle; the feed's pulse is off under reduced motion.
  await page.waitForTimeout(150);
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  shots.push(path);
}

const byId = (id: string) => page.getByTestId(id);

before(async () => {
  if (skip) return;
  await mkdir(SHOTS, { recursive: true });
  ss = await startSecretService();
  savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = ss.env.DBUS_SESSION_BUS_ADDRESS;
  secrets = createKeychainStore({ service });
  s = await startAdminStack({ secrets, env: { SLUICE_ANTHROPIC_API_KEY: '' }, admin: { uiDir: UI_DIR } });
  await mkdir(join(s.home, '.claude'), { recursive: true });
  seedLedger(s.gw.ledger!, { now: Date.now() - 2 * 3_600_000, days: 45, sessions: 64, requests: 6000, idPrefix: 'e2e' });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? await browser.context.newPage();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
  await ss?.stop();
  // SLUICE_UPDATE_SCREENSHOTS=1 refreshes the committed set in docs/screenshots.
  if (process.env.SLUICE_UPDATE_SCREENSHOTS === '1') {
    const docs = join(ROOT, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    for (const p of shots) await copyFile(p, join(docs, p.split('/').at(-1)!));
  }
});

test('without the login link the dashboard shows how to sign in', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/`);
  await byId(T.signedOut).waitFor();
  assert.match(await byId(T.signedOut).innerText(), /sluice open/);
  await shot('signed-out');
});

test('the one-time login URL signs in; a second use is refused', { skip }, async () => {
  const url = s.admin.createLoginUrl();
  await page.goto(url);
  await page.waitForURL(`${s.gw.url}/ui/`);
  await byId(T.overview).waitFor();
  const cookies = await browser.context.cookies();
  const c = cookies.find((x) => x.name === 'sluice_admin');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(cookies));
  const again = await browser.context.newPage();
  await again.goto(url);
  await again.getByTestId(T.signedOut).waitFor();
  assert.equal(await again.getByTestId(T.signedOut).getAttribute('data-code'), 'GATEWAY_UNAUTHORIZED');
  await again.close();
});

test('a key added on Providers lands in the OS keychain and tests ok', { skip }, async () => {
  await byId(T.nav('providers')).click();
  await byId(T.providers).waitFor();
  await byId(T.keyInput).fill(KEY);
  await byId(T.keySave).click();
  const row = page.locator(`[data-testid="${T.keyRow}"][data-provider="anthropic"][data-source="keychain"]`);
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`…${KEY.slice(-4)}`));
  assert.equal(await createKeychainStore({ service }).get('anthropic'), KEY, 'the key is in the Secret Service');
  assert.equal(await byId(T.keyInput).inputValue(), '', 'the field is cleared');
  assert.ok(!(await page.content()).includes(KEY), 'the page never shows the key');
  await row.getByTestId(T.keyTest).click();
  const result = byId(T.keyTestResult);
  await result.waitFor();
  assert.equal(await result.getAttribute('data-ok'), 'true');
  assert.equal(s.mock.requests.at(-1)!.headers['x-api-key'], KEY);
  await byId(T.tokenName).fill('my-laptop');
  await byId(T.tokenCreate).click();
  await byId(T.tokenCreated).waitFor();
  await shot('providers');
});

test('an SDK request appears live on Overview, then in Sessions with its cost', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/#/`);
  await page.locator(`[data-testid="${T.feedStatus}"][data-state="live"]`).waitFor();
  const client = new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION } });
  const msg = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(msg.type, 'message');
  // Sonnet 4.5 list prices on the mock's usage: 12 in, 100 5m-write, 2000 read, 9 out.
  const cost = (12 * 3 + 100 * 3.75 + 2000 * 0.3 + 9 * 15) / 1e6;
  const row = page.locator(`[data-testid="${T.feedRow}"][data-state="done"]`).first();
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(formatUsd(cost).replace('$', '\\$')));
  // The totals reload once the request has finished: the upstream card then shows its reply.
  await page.waitForFunction((id) => !document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes('no request yet'), T.upstreamCard);
  await shot('overview');

  await byId(T.nav('sessions')).click();
  await page.locator(`[data-testid="${T.sessions}"][data-ready]`).waitFor();
  await shot('sessions');
  await byId(T.sessionsSearch).fill(SESSION.slice(0, 13));
  const srow = page.locator(`[data-testid="${T.sessionsRow}"][data-session="${SESSION}"]`);
  await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent === '1–1 of 1', T.sessionsRange);
  await srow.waitFor();
  assert.equal(await page.locator(`[data-testid="${T.sessionsRow}"]`).count(), 1);
  const text = await srow.innerText();
  assert.match(text, /test-tool/);
  assert.match(text, new RegExp(formatUsd(cost).replace('$', '\\$')));

  await srow.getByRole('link').first().click();
  await byId(T.sessionDetail).waitFor();
  const req = byId(T.requestRow);
  await req.waitFor();
  assert.equal(await req.count(), 1);
  const rtext = await req.innerText();
  assert.match(rtext, /claude-sonnet-4-5-20250929/);
  assert.match(rtext, /200/);
  assert.match(rtext, /2,000/);
  await shot('session-detail');
});

test('sorting and paging the seeded sessions', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/#/sessions`);
  await page.locator(`[data-testid="${T.sessions}"][data-ready]`).waitFor();
  const range = await byId(T.sessionsRange).innerText();
  assert.match(range, /^1–25 of 65$/, range);
  await byId(T.sessionsSort('cost')).click();
  await page.waitForFunction((id) => document.querySelector(`th[aria-sort="descending"] [data-testid="${id}"]`) !== null, T.sessionsSort('cost'));
  await byId(T.sessionsNext).click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent === '26–50 of 65', T.sessionsRange);
});

test('Spend draws the chart and breakdowns', { skip }, async () => {
  await byId(T.nav('spend')).click();
  await page.locator(`[data-testid="${T.spend}"][data-ready]`).waitFor();
  await byId(T.spendChart).waitFor();
  const bars = await page.locator(`[data-testid="${T.spendChart}"] rect.bar`).count();
  assert.equal(bars, 30);
  assert.match(await byId(T.spendBreakdown('model')).innerText(), /claude-opus-4-5-20251101/);
  assert.match(await byId(T.spendBreakdown('model')).innerText(), /unpriced/);
  const href = await byId(T.exportCsv).getAttribute('href');
  assert.match(href ?? '', /^\/admin\/api\/export\.csv\?by=day&since=\d{4}-\d{2}-\d{2}&until=/);
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href!);
  assert.match(csv, /^day,requests,errors/);
  await shot('spend');
});

test('an upstream URL edited on Routing is saved to the settings', { skip }, async () => {
  await byId(T.nav('routing')).click();
  await byId(T.upstreamInput).waitFor();
  await byId(T.upstreamInput).fill('https://relay.example.test/anthropic');
  await byId(T.upstreamSave).click();
  await byId(T.routingSaved).waitFor();
  const onDisk = JSON.parse(await readFile(join(s.dataDir, 'settings.json'), 'utf8'));
  assert.equal(onDisk.providers.anthropic.baseUrl, 'https://relay.example.test/anthropic');
  assert.equal(s.gw.settings.get().providers.anthropic.baseUrl, 'https://relay.example.test/anthropic');
  await page.reload();
  await byId(T.upstreamInput).waitFor();
  assert.equal(await byId(T.upstreamInput).inputValue(), 'https://relay.example.test/anthropic');
  await shot('routing-upstream');
});

test('Tools previews the change for Claude Code', { skip }, async () => {
  await byId(T.nav('tools')).click();
  const card = byId(T.toolCard('claude-code'));
  await card.waitFor();
  await card.getByTestId(T.toolPreview).click();
  await card.getByTestId(T.toolDiff).waitFor();
  assert.match(await card.getByTestId(T.toolDiff).innerText(), /ANTHROPIC_BASE_URL/);
  await shot('tools');
});

test('Settings saves passthrough', { skip }, async () => {
  await byId(T.nav('settings')).click();
  await byId(T.settingPassthrough).waitFor();
  await byId(T.settingPassthrough).uncheck();
  await byId(T.settingsSave).click();
  await byId(T.settingsSaved).waitFor();
  assert.equal(s.gw.settings.get().security.allowPassthrough, false);
  await byId(T.settingPassthrough).check();
  await byId(T.settingsSave).click();
  await page.waitForFunction(() => true);
  await shot('settings');
});

test('dark theme: Overview and Sessions', { skip }, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${s.gw.url}/ui/#/`);
  await byId(T.spendToday).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot('overview-dark');
  await byId(T.nav('sessions')).click();
  await page.locator(`[data-testid="${T.sessions}"][data-ready]`).waitFor();
  await shot('sessions-dark');
  // The toggle overrides the system: system -> light.
  await byId(T.themeToggle).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('the page runs under the strict CSP without violations', { skip }, async () => {
  const violations: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(`${s.gw.url}/ui/#/spend`);
  await page.locator(`[data-testid="${T.spend}"][data-ready]`).waitFor();
  assert.deepEqual(violations, []);
});
