// The Spend page says, per UTC day, whether Sluice matches Anthropic's own usage and cost report
// (as `sluice reconcile --anthropic` cached it in the data dir; the page never calls the Admin
// API): a matching day, and a day with traffic that bypassed Sluice, explained. 360 and 1440 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, launchBrowser } from './browser.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { loadAnthropicReport } from '../../proxy/reconcile-anthropic.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';

declare const document: { scrollingElement: { scrollWidth: number } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'anthropic-match');
const MODEL = 'claude-sonnet-4-5-20250929';
const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
const D1 = day(4);
const D2 = day(3);

let s: AdminStack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true });
  const at = (d: string) => Date.parse(`${d}T12:00:00Z`);
  s.gw.ledger!.write([
    makeRow({ id: 'm1', servedModel: MODEL, target: 'anthropic', tsStart: at(D1), tsEnd: at(D1) + 10, inputTokens: 100, outputTokens: 50, costPico: 1_000_000_000 }),
    makeRow({ id: 'm2', servedModel: MODEL, target: 'anthropic', tsStart: at(D2), tsEnd: at(D2) + 10, inputTokens: 10, outputTokens: 5, costPico: 100_000_000 }),
  ]);
  // The report as the CLI fetches and caches it, from a stand-in for the Admin API.
  const usage = (d: string, requests: number, input: number, out: number) => ({ starting_at: `${d}T00:00:00Z`, ending_at: `${d}T23:59:59Z`, group: { model: MODEL, service_tier: 'standard' },
    usage: { uncached_input_tokens: input, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 }, cache_read_input_tokens: 0, output_tokens: out, requests } });
  const cost = (d: string, cents: string) => ({ starting_at: `${d}T00:00:00Z`, ending_at: `${d}T23:59:59Z`, group: { model: MODEL }, cost: { amount: cents, list_amount: cents, currency: 'USD' } });
  const body = (url: string) => (url.includes('/analytics/usage') ? { data: [usage(D1, 1, 100, 50), usage(D2, 4, 90, 40)], has_more: false } : { data: [cost(D1, '0.1'), cost(D2, '0.05')], has_more: false });
  await loadAnthropicReport({ dataDir: s.dataDir, adminKey: 'sk-ant-admin01-x', since: D1, until: D2, baseUrl: 'http://127.0.0.1:9',
    fetchImpl: async (url) => ({ ok: true, status: 200, json: async () => body(url), text: async () => '' }) });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('favicon.svg')) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(s.admin.createLoginUrl());
  await page.waitForURL(`${s.gw.url}/ui/`);
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

test('per day: matches, or differs with its cause; the admin API says the same', { skip, timeout: 60_000 }, async () => {
  const api = await s.api('GET', '/reconcile/anthropic');
  assert.equal(api.status, 200);
  assert.deepEqual(api.json.days, [{ day: D1, status: 'match', causes: [] }, { day: D2, status: 'explained', causes: ['not_via_sluice'] }]);
  await mkdir(SHOTS, { recursive: true });
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/spend`);
    const card = page.getByTestId(T.spendAnthropic);
    await card.waitFor();
    const row = (d: string) => page.locator(`[data-testid="${T.spendAnthropicDay}"][data-day="${d}"]`);
    assert.equal(await row(D1).getAttribute('data-status'), 'match');
    assert.match(await row(D1).innerText(), /Matches/);
    assert.match((await row(D2).innerText()).replace(/\s+/g, ' '), /Differs, explained traffic not via Sluice/);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, `spend-${width}.png`) });
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    assert.ok(scrollWidth <= innerWidth, `spend at ${width} px scrolls sideways`);
  }
  assert.deepEqual(problems, []);
});
