// Every number a person sees equals the ledger, and it is current: the Sessions page rendered in
// headless Chromium from a seeded ledger (with requests that had no session id), each shown
// figure checked against the ledger's own query through the shared formatter; then a request
// sent with the Overview and the Sessions page open shows up on both without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { seedLedger } from './seed.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { formatInt, formatTokens, formatUsd } from '../../proxy/format.js';
import { T } from '../../renderer/src/lib/test-ids.js';
import { join } from 'node:path';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { querySelector(sel: string): { textContent: string | null } | null };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const HOUR = 3_600_000;
/** Generous: the page reloads within a second of the ledger commit; a loaded CI box gets slack. */
const DEADLINE = 15_000;

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true });
  const now = Date.now();
  // Seeded sessions end before yesterday's last hours, so today's top list has room for the new ones.
  seedLedger(s.gw.ledger!, { now: now - 26 * HOUR, days: 20, sessions: 30, requests: 1500, idPrefix: 'live' });
  // Requests without a session id, two tools, the newest ones: "No session" rows on page one.
  s.gw.ledger!.write([
    makeRow({ id: 'ns1', sessionId: null, tool: 'cursor-terminal', tsStart: now - 2 * HOUR + 1000, inputTokens: 240_000, outputTokens: 1_500, costPico: 1_234_567_000_000 }),
    makeRow({ id: 'ns2', sessionId: null, tool: 'cursor-terminal', tsStart: now - 2 * HOUR + 2000, inputTokens: 999, outputTokens: 1, costPico: 1_000_000 }),
    makeRow({ id: 'ns3', sessionId: null, tool: 'cline', tsStart: now - 2 * HOUR + 3000, inputTokens: 12_345_678, outputTokens: 0, costPico: 1_234_560_000_000_000 }),
  ]);
  ({ browser, page } = await openDashboard(s, problems));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

test('each number on the Sessions page equals the ledger, "No session" rows included', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/#/sessions`);
  await page.locator(`[data-testid="${T.sessions}"][data-ready]`).waitFor();
  const expected = s.gw.ledger!.listSessions({ sort: 'lastSeen', order: 'desc', limit: 25 });
  const rows = page.locator(`[data-testid="${T.sessionsRow}"]`);
  assert.equal(await rows.count(), expected.sessions.length);
  assert.equal(await page.getByTestId(T.sessionsRange).innerText(), `1–25 of ${formatInt(expected.total)}`);
  let noSession = 0;
  for (let i = 0; i < expected.sessions.length; i++) {
    const want = expected.sessions[i]!;
    const row = rows.nth(i);
    assert.equal(await row.getAttribute('data-session'), want.sessionId, `row ${i}`);
    const tokens = want.inputTokens + want.outputTokens + want.cacheWriteTokens + want.cacheReadTokens;
    assert.equal(await row.getByTestId(T.sessionsTokens).innerText(), formatTokens(tokens), `tokens of ${want.sessionId}`);
    assert.equal(await row.getByTestId(T.sessionsCost).innerText(), formatUsd(want.costUsd), `cost of ${want.sessionId}`);
    assert.equal(await row.locator('[data-col="requests"]').innerText(), formatInt(want.requests), `requests of ${want.sessionId}`);
    assert.equal(await row.locator('[data-col="errors"]').innerText(), formatInt(want.errors), `errors of ${want.sessionId}`);
    if (want.sessionId.startsWith('nosession:')) {
      noSession++;
      assert.match(await row.locator('[data-col="session"]').innerText(), new RegExp(`No session · ${want.tool}`));
    }
  }
  assert.equal(noSession, 2, 'two tools without session ids in the same hour: two "No session" rows');
  // The figures that exercise the formatter: 240,000 tokens read as 240K, never 24K.
  const cursor = page.locator(`[data-testid="${T.sessionsRow}"][data-session^="nosession:cursor-terminal:"]`);
  assert.equal(await cursor.getByTestId(T.sessionsTokens).innerText(), formatTokens(240_000 + 1_500 + 999 + 1));
  assert.equal(await page.locator(`[data-testid="${T.sessionsRow}"][data-session^="nosession:cline:"]`).getByTestId(T.sessionsCost).innerText(), '$1,234.56');
  assert.deepEqual(problems, []);
});

test('a request shows on the open Overview and the open Sessions page without a reload', { skip, timeout: 60_000 }, async () => {
  const client = (session: string) => new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': session } });
  const ask = (session: string) => client(session).messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

  await page.goto(`${s.gw.url}/ui/#/`);
  await page.locator(`[data-testid="${T.feedStatus}"][data-state="live"]`).waitFor();
  await page.getByTestId(T.overviewTop).waitFor();
  const todayBefore = (await s.api('GET', '/status')).json.spend.today.requests as number;
  // A mark on the page's global object survives only if the page is never reloaded.
  await page.evaluate(() => { (globalThis as Record<string, unknown>).sluiceNoReload = true; });
  const first = '0e2e7a11-5eed-4c0d-9a11-c0ffee00a001';
  await ask(first);
  // Spend today counts it, and the session leads today's top list (it is the only one today).
  await page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes(want) ?? false,
    [T.spendToday, `${formatInt(todayBefore + 1)} requests`] as const, { timeout: DEADLINE });
  await page.locator(`[data-testid="${T.overviewTop}"] a[href="#/sessions/${first}"]`).waitFor({ timeout: DEADLINE });
  const shown = await page.locator(`[data-testid="${T.overviewTop}"] a[href="#/sessions/${first}"]`).locator('xpath=..').innerText();
  assert.match(shown, new RegExp(formatUsd(s.gw.ledger!.getSession(first)!.session.costUsd).replace('$', '\\$')));

  await page.getByTestId(T.nav('sessions')).click();
  await page.locator(`[data-testid="${T.sessions}"][data-ready]`).waitFor();
  const second = '0e2e7a11-5eed-4c0d-9a11-c0ffee00a002';
  await ask(second);
  const row = page.locator(`[data-testid="${T.sessionsRow}"][data-session="${second}"]`);
  await row.waitFor({ timeout: DEADLINE });
  const want = s.gw.ledger!.getSession(second)!.session;
  assert.equal(await row.getByTestId(T.sessionsCost).innerText(), formatUsd(want.costUsd));
  assert.equal(await page.evaluate(() => (globalThis as Record<string, unknown>).sluiceNoReload), true, 'no page reload');
  assert.deepEqual(problems, []);
});
