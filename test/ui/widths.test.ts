// Every dashboard page at three widths in headless Chromium against a real gateway (admin and
// control extensions, mock upstream, seeded ledger): 360 px (a phone), the Electron window's
// minimum (app/window-policy.ts) and 1440 px. Fails on any console error or page error and on a
// page that scrolls sideways; the cost column stays visible on Sessions; screenshots land in
// test-results/screenshots/widths/ for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { seedLedger } from './seed.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { windowOptions } from '../../app/window-policy.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { scrollingElement: { scrollWidth: number } | null; querySelector(sel: string): { getBoundingClientRect(): { left: number; right: number; width: number } } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;

const ROOT = packageRoot();
const SHOTS = join(ROOT, 'test-results', 'screenshots', 'widths');
const UI_DIR = join(ROOT, 'renderer', 'dist');
const SESSION = '0e2e7a11-5eed-4c0d-9a11-c0ffee000002';
const WIDTHS = [360, windowOptions('preload.js').minWidth ?? 760, 1440];

/** Hash route, the page's test id, and a selector that is there once its data has loaded. */
const PAGES: { name: string; hash: string; ready: string }[] = [
  { name: 'overview', hash: '#/', ready: `[data-testid="${T.upstreamCard}"]` },
  { name: 'sessions', hash: '#/sessions', ready: `[data-testid="${T.sessions}"][data-ready]` },
  { name: 'session', hash: `#/sessions/${encodeURIComponent(SESSION)}`, ready: `[data-testid="${T.requestRow}"]` },
  { name: 'spend', hash: '#/spend', ready: `[data-testid="${T.spend}"][data-ready]` },
  { name: 'insights', hash: '#/insights', ready: `[data-testid="${T.insights}"][data-ready]` },
  { name: 'providers', hash: '#/providers', ready: `[data-testid="${T.providers}"]` },
  { name: 'routing', hash: '#/routing', ready: `[data-testid="${T.upstreamInput}"]` },
  { name: 'budgets', hash: '#/budgets', ready: `[data-testid="${T.budgets}"][data-ready]` },
  { name: 'tools', hash: '#/tools', ready: `[data-testid="${T.tools}"]` },
  { name: 'blocks', hash: '#/blocks', ready: `[data-testid="${T.blocks}"][data-ready]` },
  { name: 'team', hash: '#/team', ready: `[data-testid="${T.team}"][data-ready]` },
  { name: 'settings', hash: '#/settings', ready: `[data-testid="${T.settings}"]` },
];

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  await mkdir(SHOTS, { recursive: true });
  // Team mode mounted but this machine not in a team: the Team page shows how to join (its
  // joined state at every width is in test/ui/team.test.ts, which needs PostgreSQL).
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, insights: true, team: true });
  seedLedger(s.gw.ledger!, { now: Date.now() - 2 * 3_600_000, days: 45, sessions: 40, requests: 3000, idPrefix: 'w' });
  // One session through the gateway, so the session page has a real request to show.
  const client = new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION } });
  await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
  // A token policy with every field set, so the Budgets page's policy table has its widest row.
  const policy = await s.api('PUT', '/control/policies/test-tool', {
    models: ['claude-sonnet-*', 'claude-haiku-*'], dailyUsd: 12.5, monthlyUsd: 250, requestsPerMinute: 60, tokensPerMinute: 400_000, expires: '2030-12-31', injectCache: true,
  });
  assert.equal(policy.status, 200, policy.body.toString());
  ({ browser, page } = await openDashboard(s, problems));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

for (const width of WIDTHS) {
  test(`every page at ${width} px: no console error, no sideways scroll`, { skip, timeout: 120_000 }, async () => {
    await page.setViewportSize({ width, height: width < 500 ? 780 : 900 });
    for (const p of PAGES) {
      const before = problems.length;
      await page.goto(`${s.gw.url}/ui/${p.hash}`);
      await page.locator(p.ready).first().waitFor({ timeout: 15_000 });
      // Let late effects (charts, the event stream) run before judging the page.
      await page.waitForTimeout(250);
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
      await page.screenshot({ path: join(SHOTS, `${p.name}-${width}.png`), fullPage: true });
      assert.deepEqual(problems.slice(before), [], `${p.name} at ${width} px`);
      assert.ok(scrollWidth <= innerWidth, `${p.name} at ${width} px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
      if (p.name === 'budgets') {
        // Every part of a token's policy (its budgets above all) is on screen, not cut off at the right.
        for (const col of ['models', 'limits', 'budgets', 'expires', 'cache', 'action']) {
          const box = await page.evaluate((sel) => {
            const el = document.querySelector(sel);
            return el ? el.getBoundingClientRect() : null;
          }, `[data-testid="${T.policyRow}"][data-token="test-tool"] [data-col="${col}"]`);
          assert.ok(box && box.width > 0 && box.left >= 0 && box.right <= innerWidth, `policy ${col} at ${width} px: ${JSON.stringify(box)}`);
        }
      }
      if (p.name === 'sessions') {
        // The cost of the first session is on screen, not hidden or scrolled away.
        const box = await page.evaluate((sel) => {
          const el = document.querySelector(sel);
          return el ? el.getBoundingClientRect() : null;
        }, `[data-testid="${T.sessionsRow}"] [data-col="cost"]`);
        assert.ok(box && box.width > 0 && box.left >= 0 && box.right <= innerWidth, `cost cell at ${width} px: ${JSON.stringify(box)}`);
      }
    }
  });
}
