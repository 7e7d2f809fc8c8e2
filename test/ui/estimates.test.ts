// What a person sees of numbers that are not exact, and of a ledger that cannot write: a
// cancelled or cut stream's output and cost carry "≈" and a badge on the session page, the
// session, Sessions and Spend totals say what share is estimated; while the ledger's disk refuses
// writes every page shows a banner that clears by itself once the disk takes the rows again.
// Headless Chromium at 360 px, the window minimum and 1440 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { windowOptions } from '../../app/window-policy.js';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { openLedger, type Ledger } from '../../proxy/ledger/index.js';
import type { LedgerRow } from '../../proxy/ledger/types.js';
import { formatUsd } from '../../proxy/format.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';
import { until } from '../helpers.js';

declare const document: { scrollingElement: { scrollWidth: number } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'estimates');
const SID = '5e55104a-0000-4000-8000-00000000e571';
const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });

let s: AdminStack;
let ledger: Ledger;
let ledgerDir: string;
let full = false;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  ledgerDir = await mkdtemp(join(tmpdir(), 'sluice-est-ledger-'));
  ledger = openLedger(join(ledgerDir, 'ledger.sqlite'), { retryMs: 50, beforeWrite: () => { if (full) throw diskFull(); } });
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, ledger });
  const t = Date.now() - 20 * 60_000;
  const row = (id: string, i: number, o: Partial<LedgerRow>) => makeRow({ sessionId: SID, tsStart: t + i * 60_000, tsEnd: t + i * 60_000 + 2000, project: null, ...o, id });
  ledger.write([
    row('exact', 0, { outputTokens: 800, costPico: 12_000_000_000 }),
    row('cancelled', 1, { outputTokens: 57, costPico: 3_000_000_000, estimated: 'client_cancelled', stopReason: null }),
    row('cut', 2, { outputTokens: 9, costPico: 1_000_000_000, estimated: 'upstream_cut', stopReason: null }),
    row('exact2', 3, { outputTokens: 300, costPico: 6_000_000_000 }),
  ]);
  ({ browser, page } = await openDashboard(s, problems, { failedResponses: true }));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  ledger?.close();
  await rm(ledgerDir, { recursive: true, force: true });
});

const widths = () => [360, windowOptions('preload.js').minWidth ?? 760, 1440];

test('a cancelled and a cut response: ≈ and a badge on the row, the share under the session total', { skip, timeout: 60_000 }, async () => {
  await mkdir(SHOTS, { recursive: true });
  const total = formatUsd(0.022);
  for (const width of widths()) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/sessions/${SID}`);
    await page.getByTestId(T.requestRow).first().waitFor();
    const row = (id: string) => page.locator(`[data-testid="${T.requestRow}"][data-id="${id}"]`);
    assert.equal(await row('cancelled').getByTestId(T.requestEstimated).innerText(), 'cancelled');
    assert.equal(await row('cut').getByTestId(T.requestEstimated).innerText(), 'cut');
    assert.equal(await row('exact').getByTestId(T.requestEstimated).count(), 0);
    assert.equal((await row('cancelled').locator('[data-col="cost"]').innerText()).trim(), `≈${formatUsd(0.003)}`);
    assert.equal((await row('exact').locator('[data-col="cost"]').innerText()).trim(), formatUsd(0.012));
    if (width >= 1000) assert.equal((await row('cancelled').locator('[data-col="output"]').innerText()).trim(), '≈57');
    const card = (await page.getByTestId(T.sessionCost).innerText()).replace(/\s+/g, ' ');
    assert.ok(card.includes(`≈${total}`) && card.includes('≈ 2 of 4 billed responses estimated (50%)'), card);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    await page.screenshot({ path: join(SHOTS, `session-${width}.png`), fullPage: true });
    assert.ok(scrollWidth <= innerWidth, `session page at ${width} px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${s.gw.url}/ui/#/sessions`);
  const listRow = page.locator(`[data-testid="${T.sessionsRow}"][data-session="${SID}"]`);
  await listRow.waitFor();
  assert.equal((await listRow.getByTestId(T.sessionsCost).innerText()).trim(), `≈${total}`);
  await page.goto(`${s.gw.url}/ui/#/spend`);
  const spend = page.getByTestId(T.estimatedShare);
  await until(async () => (await spend.count()) > 0 && (await spend.innerText()).includes('≈ 2 of 4'), 'the Spend total with its estimated share');
  assert.ok((await spend.innerText()).includes(`≈${total}`));
  await page.screenshot({ path: join(SHOTS, 'spend-1440.png') });
  assert.deepEqual(problems, []);
});

test('a ledger the disk refuses: a banner on every page while rows wait, gone once they are written', { skip, timeout: 60_000 }, async () => {
  full = true;
  const client = new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0 });
  await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  ledger.flush();
  await until(() => !ledger.storage().ok && ledger.storage().pending === 1, 'the row held in the spool');
  const status = await s.api('GET', '/status');
  assert.equal(status.json.ledger.ok, false);
  assert.equal(status.json.ledger.pending, 1);
  for (const width of widths()) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/sessions`);
    const banner = page.getByTestId(T.ledgerSpoolWarning);
    await banner.waitFor();
    const text = (await banner.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Usage is not being saved/);
    assert.match(text, /1 request held in memory and retried every second/);
    assert.ok(text.includes(ledgerDir), text);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    await page.screenshot({ path: join(SHOTS, `banner-${width}.png`) });
    assert.ok(scrollWidth <= innerWidth, `banner at ${width} px scrolls sideways`);
  }
  full = false;
  await until(() => ledger.storage().ok, 'the spool written once the disk takes it');
  assert.equal(ledger.storage().pending, 0);
  await page.reload();
  await page.getByTestId(T.sessions).waitFor();
  await until(async () => (await s.api('GET', '/status')).json.ledger.ok === true, 'status ok again');
  assert.equal(await page.getByTestId(T.ledgerSpoolWarning).count(), 0);
  assert.deepEqual(problems, []);
});
