// What happened to each request of a session, as a person sees it: the session page rendered in
// headless Chromium from a seeded ledger whose requests were retried, switched keys, fell back,
// skipped an open breaker and were refused, each explained under its request with its reason and
// wait; and the session named by its project with its first prompt's time, read from a Claude
// Code transcript in the fake home.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { windowOptions } from '../../app/window-policy.js';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import type { AttemptRecord, LedgerRow } from '../../proxy/ledger/types.js';
import { requestStory } from '../../proxy/ledger/explain.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { scrollingElement: { scrollWidth: number } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'session-story');
const SID = '7a1b2c3d-0000-4000-8000-5e55104a11ce';
const PROJECT = '/home/dev/work/payments-api';
const FIRST_PROMPT = Date.now() - 3_600_000;

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

const att = (n: number, ts: number, o: Partial<AttemptRecord> = {}): AttemptRecord => ({
  n, ts: ts + n * 500, target: 'anthropic', keyId: 'anthropic:2', model: null, status: 200, error: null, durationMs: 300, waitMs: 0, ...o,
});

before(async () => {
  if (skip) return;
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true });
  // Claude Code's transcript for the session: its cwd and the first prompt's time.
  const dir = join(s.home, '.claude', 'projects', '-home-dev-work-payments-api');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${SID}.jsonl`), [
    { type: 'summary', summary: 'x' },
    { type: 'user', cwd: PROJECT, sessionId: SID, timestamp: new Date(FIRST_PROMPT).toISOString() },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n');
  const t = Date.now() - 30 * 60_000;
  const row = (id: string, i: number, o: Partial<LedgerRow>) => makeRow({ sessionId: SID, tsStart: t + i * 60_000, tsEnd: t + i * 60_000 + 2000, project: null, ...o, id });
  s.gw.ledger!.write([
    row('plain', 0, {}),
    row('retried', 1, { target: 'anthropic', attempts: [att(1, t, { status: 529 }), att(2, t, { waitMs: 431 })] }),
    row('switched', 2, { target: 'anthropic', attempts: [att(1, t, { status: 429, keyId: 'anthropic:1' }), att(2, t)] }),
    row('fellback', 3, { target: 'bedrock', fallback: true, attempts: [att(1, t, { status: 503 }), att(2, t, { status: 503, waitMs: 1_530 }), att(3, t, { target: 'bedrock', keyId: null, model: 'claude-sonnet-bedrock' })] }),
    row('skipped', 4, { target: 'bedrock', fallback: true, attempts: [att(1, t, { target: 'bedrock', keyId: null })] }),
    row('refused', 5, { billed: false, costPico: 0, status: 400, errorType: 'gateway_guardrail_blocked', servedModel: null, stopReason: null, attempts: [] }),
    row('gaveup', 6, { billed: false, costPico: 0, status: null, errorType: 'GATEWAY_UPSTREAM_UNREACHABLE', servedModel: null, stopReason: null, attempts: [att(1, t, { status: null, error: 'GATEWAY_UPSTREAM_UNREACHABLE' })] }),
  ]);
  ({ browser, page } = await openDashboard(s, problems, { failedResponses: true }));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

const dateTime = (ts: number) => new Date(ts).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

test('each request shows its retries, key switches, fallbacks, skips and refusals with reasons', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/#/sessions/${SID}`);
  await page.getByTestId(T.requestRow).first().waitFor();
  const ledger = s.gw.ledger!.getSession(SID)!;
  const stories = page.getByTestId(T.requestStory);
  const want = ledger.requests.filter((r) => requestStory(r).length > 0);
  assert.deepEqual(await stories.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), want.map((r) => r.id));
  for (const r of want) {
    const text = await page.locator(`[data-testid="${T.requestStory}"][data-id="${r.id}"]`).innerText();
    for (const step of requestStory(r)) assert.ok(text.includes(step.text), `${r.id}: "${step.text}" in "${text}"`);
  }
  const read = async (id: string) => (await page.locator(`[data-testid="${T.requestStory}"][data-id="${id}"]`).innerText()).replace(/\s+/g, ' ');
  assert.match(await read('retried'), /Retry retried after 529 overloaded on key anthropic:2, waited 431 ms/);
  assert.match(await read('switched'), /Key switch switched to key anthropic:2 after 429 rate limited on key anthropic:1/);
  assert.match(await read('fellback'), /Fallback fell back to bedrock \(claude-sonnet-bedrock\) after 503 unavailable on key anthropic:2/);
  assert.match(await read('skipped'), /Skipped primary skipped \(circuit open or keys resting\), sent to bedrock/);
  assert.match(await read('refused'), /Refused blocked by a guardrail before it left the machine/);
  assert.match(await read('gaveup'), /Failed gave up after 1 attempt: no response \(unreachable\)/);
  assert.equal(await page.locator(`[data-testid="${T.requestStory}"][data-id="plain"]`).count(), 0, 'a request served at once tells no story');
  assert.deepEqual(problems, []);
});

test('the session is named by its project, with the first prompt time, on its page and in the list', { skip }, async () => {
  await page.goto(`${s.gw.url}/ui/#/sessions/${SID}`);
  await page.getByTestId(T.requestRow).first().waitFor();
  const sub = await page.locator(`[data-testid="${T.sessionDetail}"] header p.sub`).innerText();
  assert.ok(sub.includes('work/payments-api'), sub);
  assert.ok(sub.includes(`first prompt ${dateTime(FIRST_PROMPT)}`), sub);
  const api = await s.api('GET', `/sessions/${SID}`);
  assert.equal(api.json.session.firstPromptAt, FIRST_PROMPT);
  assert.equal(api.json.session.project, PROJECT);

  await page.goto(`${s.gw.url}/ui/#/sessions`);
  const row = page.locator(`[data-testid="${T.sessionsRow}"][data-session="${SID}"]`);
  await row.waitFor();
  const cell = await row.locator('[data-col="session"]').innerText();
  assert.match(cell, /payments-api/);
  assert.ok(cell.includes(`first prompt ${dateTime(FIRST_PROMPT)}`), cell);
  assert.deepEqual(problems, []);
});

test('the session page with its stories at 360 px, the window minimum and 1440 px: no sideways scroll', { skip, timeout: 60_000 }, async () => {
  await mkdir(SHOTS, { recursive: true });
  for (const width of [360, windowOptions('preload.js').minWidth ?? 760, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/sessions/${SID}`);
    await page.getByTestId(T.requestStory).first().waitFor();
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    await page.screenshot({ path: join(SHOTS, `session-${width}.png`), fullPage: true });
    assert.ok(scrollWidth <= innerWidth, `session page at ${width} px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
    // The story's text starts on screen, not scrolled away with the table.
    const box = await page.getByTestId(T.requestStory).first().locator('li').first().boundingBox();
    assert.ok(box && box.x >= 0 && box.x < innerWidth, `story at ${width} px: ${JSON.stringify(box)}`);
  }
  assert.deepEqual(problems, []);
});
