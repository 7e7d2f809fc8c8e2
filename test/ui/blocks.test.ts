// The dashboard's Blocks view in real Chromium shows exactly what `sluice report blocks --json`
// says for the same ledger: every 5-hour window's tokens and cost, and the total, through the
// one formatting module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { runSluice } from '../cli-process.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { approx, formatCost, formatTokens } from '../../proxy/format.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { join } from 'node:path';
import { T } from '../../renderer/src/lib/test-ids.js';
import type { BlockRow, ReportSums } from '../../proxy/cli-report.js';

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const HOUR = 3_600_000;
const PICO = 1_000_000_000_000;

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  s = await startAdminStack({ admin: { uiDir: join(packageRoot(), 'renderer', 'dist') }, control: true, insights: true, team: true });
  // Three windows inside the last day: two requests at the start of one, a gap, then two more
  // windows; tokens and costs differ per row so a shuffled column would show.
  const base = Math.floor((Date.now() - 20 * HOUR) / HOUR) * HOUR;
  s.gw.ledger!.write([
    makeRow({ id: 'b1', sessionId: 'sess-b', tsStart: base + 60_000, servedModel: 'claude-sonnet-4-5', inputTokens: 1_200, outputTokens: 340, cacheReadTokens: 50_000, costPico: 31 * PICO / 1000 }),
    makeRow({ id: 'b2', sessionId: 'sess-b', tsStart: base + 2 * HOUR, servedModel: 'claude-opus-4-5', inputTokens: 240_000, outputTokens: 1_500, costPico: 1_234 * PICO / 1000 }),
    makeRow({ id: 'b3', sessionId: 'sess-c', tsStart: base + 7 * HOUR, servedModel: 'claude-haiku-4-5', inputTokens: 999, outputTokens: 1, costPico: 1_000_000 }),
    makeRow({ id: 'b4', sessionId: 'sess-c', tsStart: base + 13 * HOUR, servedModel: 'claude-sonnet-4-5', inputTokens: 12_345, outputTokens: 678, cacheWrite5mTokens: 4_096, costPico: 98_765_432_100 }),
  ]);
  ({ browser, page } = await openDashboard(s, problems));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

test('every window on the Blocks page equals `sluice report blocks --json`', { skip }, async () => {
  const cli = await runSluice(['report', 'blocks', '--json'], { SLUICE_DATA_DIR: s.dataDir });
  assert.equal(cli.code, 0, cli.stderr);
  const report = JSON.parse(cli.stdout) as { rows: BlockRow[]; totals: ReportSums };
  const blocks = report.rows.filter((b) => b.kind === 'block');
  assert.equal(blocks.length, 3, 'the seeded rows fall in three 5-hour windows');

  await page.goto(`${s.gw.url}/ui/#/blocks`);
  await page.locator(`[data-testid="${T.blocks}"][data-ready]`).waitFor();
  const shown = page.locator(`[data-testid="${T.blockRow}"]`);
  assert.equal(await shown.count(), blocks.length);
  for (const b of blocks) {
    const row = page.locator(`[data-testid="${T.blockRow}"][data-start="${b.start}"]`);
    assert.equal(await row.count(), 1, `window at ${new Date(b.start).toISOString()} is shown`);
    assert.equal((await row.locator('[data-col="tokens"]').innerText()).trim(), approx(formatTokens(b.totalTokens), b.estimatedRequests));
    assert.equal((await row.locator('[data-col="cost"]').innerText()).trim(), approx(formatCost(b.costUsd, b.unpricedRequests), b.estimatedRequests));
    assert.equal((await row.locator('[data-col="requests"]').innerText()).trim(), String(b.requests));
  }
  const total = page.locator(`[data-testid="${T.blocksTotal}"]`);
  assert.equal((await total.locator('[data-col="cost"]').innerText()).trim(), approx(formatCost(report.totals.costUsd, report.totals.unpricedRequests), report.totals.estimatedRequests));
  assert.equal((await total.locator('[data-col="tokens"]').innerText()).trim(), approx(formatTokens(report.totals.totalTokens), report.totals.estimatedRequests));
  assert.deepEqual(problems, []);
});
