// The Insights page in headless Chromium on a seeded ledger plus live traffic through the
// gateway: every figure it shows (cache candidates, tool names and loops, latency percentiles,
// the weekday x hour heat map and its totals, each model's 30-day spend) equals GET
// /admin/api/insights through the shared formatter; then the one click turns on cache injection
// for the tool, and the page and the settings say so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { seedLedger } from './seed.js';
import { rawRequest, authHeaders } from '../helpers.js';
import { messageJson, sendJson } from '../mock-upstream.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { formatDuration, formatInt, formatPercent, formatUsd } from '../../proxy/format.js';
import type { InsightsReport } from '../../proxy/insights/types.js';
import { modelSeries } from '../../renderer/src/lib/insights.js';
import { localDayOf } from '../../renderer/src/lib/format.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
interface El { textContent: string | null; getAttribute(n: string): string | null; querySelector(s: string): El | null }
declare const document: { querySelectorAll(sel: string): Iterable<El> };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'insights');
const HOUR = 3_600_000;
const NO_CACHE = { input_tokens: 4000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  s = await startAdminStack({
    admin: { uiDir: UI_DIR }, control: true, insights: true,
    behavior: (req, res) => sendJson(req, res, 200, messageJson({ model: 'claude-sonnet-4-5-20250929', outputTokens: 5, usage: NO_CACHE })),
  });
  const now = Date.now();
  seedLedger(s.gw.ledger!, { now: now - 3 * HOUR, days: 25, sessions: 24, requests: 900, idPrefix: 'ins' });
  // A session with a tool loop (five tool_use turns in a row) and requests that needed retries.
  const loop = ['tool_use', 'tool_use', 'end_turn', 'tool_use', 'tool_use', 'tool_use', 'tool_use', 'tool_use', 'end_turn'];
  s.gw.ledger!.write([
    ...loop.map((stopReason, i) => makeRow({ id: `loop${i}`, sessionId: 'loop-session-0001', tool: 'claude-code', tsStart: now - 2 * HOUR + i * 1000, stopReason, requestedModel: 'claude-sonnet-4-5-20250929', servedModel: 'claude-sonnet-4-5-20250929', costPico: 2_000_000_000 })),
    ...[1, 2, 3].map((i) => makeRow({ id: `retry${i}`, sessionId: 'loop-session-0001', tsStart: now - 2 * HOUR + 20_000 + i * 1000, attemptsMade: 1 + i, totalMs: 9000 + i * 1000, requestedModel: 'claude-sonnet-4-5-20250929', servedModel: 'claude-sonnet-4-5-20250929' })),
  ]);
  // Live traffic: a repeated system prompt (a cache candidate) and a tool loop with one failed tool.
  const system = 'You are a careful coding agent. '.repeat(500);
  const history: unknown[] = [{ role: 'user', content: 'fix the failing test' }];
  const calls = [['Read', 'Grep'], ['Bash'], ['Edit', 'Bash']];
  for (const [i, names] of calls.entries()) {
    const uses = names.map((name, k) => ({ type: 'tool_use', id: `t${i}${k}`, name, input: { arg: 'x' } }));
    history.push({ role: 'assistant', content: uses }, { role: 'user', content: uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content: 'out', is_error: i === 1 })) });
    const body = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, system, messages: history });
    const r = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.toolToken, { 'x-claude-code-session-id': 'live-session-0001' }), body });
    assert.equal(r.status, 200);
  }
  await s.gw.flushUsage();
  await s.insights!.idle();
  ({ browser, page } = await openDashboard(s, problems));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

async function apiReport(): Promise<InsightsReport> {
  const r = await s.api('GET', '/insights');
  assert.equal(r.status, 200);
  return r.json as InsightsReport;
}

const texts = (sel: string, attr?: string) => page.evaluate(({ sel, attr }) => [...document.querySelectorAll(sel)].map((e) => (attr ? e.getAttribute(attr) : e.textContent?.trim()) ?? ''), { sel, attr });

test('every number on the Insights page equals GET /admin/api/insights', { skip, timeout: 60_000 }, async () => {
  await page.goto(`${s.gw.url}/ui/#/insights`);
  await page.locator(`[data-testid="${T.insights}"][data-ready]`).waitFor();
  const rep = await apiReport();

  // Cache candidates: the repeated prefix of test-tool, with its repeats and savings.
  assert.ok(rep.cache.length > 0, 'the live traffic made a candidate');
  const cacheRows = page.getByTestId(T.insightsCacheRow);
  assert.equal(await cacheRows.count(), rep.cache.length);
  for (const [i, c] of rep.cache.entries()) {
    const row = cacheRows.nth(i);
    assert.equal(await row.getAttribute('data-tool'), c.tool);
    assert.equal(await row.locator('[data-col="repeats5m"]').innerText(), formatInt(c.repeats5m));
    assert.equal(await row.locator('[data-col="repeats1h"]').innerText(), formatInt(c.repeats1h));
    assert.equal(await row.locator('[data-col="savings"]').innerText(), formatUsd(c.savingsUsd));
  }

  // Tool calls by name: counts and error rate per tool, each name's count.
  const tt = rep.toolCalls.byTool.find((t) => t.tool === 'test-tool')!;
  assert.deepEqual(tt.names.map((n) => [n.name, n.calls]), [['Bash', 2], ['Edit', 1], ['Grep', 1], ['Read', 1]]);
  const block = page.locator(`[data-testid="${T.insightsToolNames}"][data-tool="test-tool"]`);
  assert.equal(await block.locator('[data-col="calls"]').innerText(), formatInt(tt.calls));
  assert.equal(await block.locator('[data-col="errors"]').innerText(), formatPercent(tt.errorRate));
  assert.deepEqual((await block.locator('li').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()), tt.names.map((n) => `${n.name} ${formatInt(n.calls)}`));

  // Tool-use loops (first ten), the seeded five-turn loop among them.
  assert.ok(rep.tools.some((t) => t.session === 'loop-session-0001' && t.longestLoop === 5));
  const loops = page.getByTestId(T.insightsLoopRow);
  assert.equal(await loops.count(), Math.min(10, rep.tools.length));
  for (const [i, t] of rep.tools.slice(0, 10).entries()) {
    const row = loops.nth(i);
    assert.equal(await row.locator('[data-col="turns"]').innerText(), `${formatInt(t.toolUseTurns)} of ${formatInt(t.turns)}`);
    assert.equal(await row.locator('[data-col="share"]').innerText(), formatPercent(t.share));
    assert.equal(await row.locator('[data-col="loop"]').innerText(), formatInt(t.longestLoop));
  }

  // Latency per model: every percentile, retries apart.
  assert.ok(rep.latency.some((l) => l.retried.n === 3), 'the retried requests are counted apart');
  for (const l of rep.latency) {
    const row = page.locator(`[data-testid="${T.insightsLatencyRow}"][data-model="${l.model}"][data-provider="${l.provider}"]`);
    const cell = (c: string) => row.locator(`[data-col="${c}"]`).innerText();
    assert.equal(await cell('n'), formatInt(l.total.n));
    assert.equal(await cell('ttfb50'), formatDuration(l.ttfb.p50));
    assert.equal(await cell('ttfb90'), formatDuration(l.ttfb.p90));
    assert.equal(await cell('ttfb99'), formatDuration(l.ttfb.p99));
    assert.equal(await cell('total50'), formatDuration(l.total.p50));
    assert.equal(await cell('total90'), formatDuration(l.total.p90));
    assert.equal(await cell('total99'), formatDuration(l.total.p99));
    assert.equal((await cell('retried')).replace(/\s+/g, ' '), l.retried.n ? `${formatInt(l.retried.n)} p50 ${formatDuration(l.retried.total.p50)}` : '0');
  }

  // The heat map: each cell's amount, each weekday's total, the grand total.
  const days = await texts(`[data-testid="${T.insightsHeatCell}"]`, 'data-day');
  const hours = await texts(`[data-testid="${T.insightsHeatCell}"]`, 'data-hour');
  const titles = await texts(`[data-testid="${T.insightsHeatCell}"] title`);
  assert.equal(titles.length, 7 * 24);
  titles.forEach((t, i) => assert.ok(t.endsWith(` · ${formatUsd(rep.heat[Number(days[i])]![Number(hours[i])]!)}`), `${t} (day ${days[i]} hour ${hours[i]})`));
  const totalDays = await texts(`[data-testid="${T.insightsHeatTotal}"]`, 'data-day');
  const totals = await texts(`[data-testid="${T.insightsHeatTotal}"]`);
  totals.forEach((t, i) => assert.equal(t, formatUsd(rep.heat[Number(totalDays[i])]!.reduce((a, b) => a + b, 0))));
  assert.ok(rep.heat.flat().some((x) => x > 0));
  assert.equal(await page.getByTestId(T.insightsSpendTotal).innerText(), formatUsd(rep.heat.flat().reduce((a, b) => a + b, 0)));

  // The 30-day curve: each model's total in the legend.
  const since = new Date(); since.setDate(since.getDate() - 29);
  const series = modelSeries(rep.daily, localDayOf(since.getTime()), localDayOf(Date.now()));
  assert.ok(series.length >= 2);
  assert.deepEqual(await texts(`[data-testid="${T.insightsModelTotal}"]`, 'data-model'), series.map((x) => x.model));
  assert.deepEqual(await texts(`[data-testid="${T.insightsModelTotal}"] .num`), series.map((x) => formatUsd(x.total)));
  assert.deepEqual(problems, []);
});

test('screenshots of the filled page at 360, 760 and 1440 px for a person to look at', { skip, timeout: 60_000 }, async () => {
  await mkdir(SHOTS, { recursive: true });
  for (const width of [360, 760, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/insights`);
    await page.locator(`[data-testid="${T.insights}"][data-ready]`).waitFor();
    await page.screenshot({ path: join(SHOTS, `insights-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(problems, []);
});

test('one click turns cache injection on for the tool; the page and the settings say so', { skip, timeout: 60_000 }, async () => {
  await page.goto(`${s.gw.url}/ui/#/insights`);
  await page.locator(`[data-testid="${T.insights}"][data-ready]`).waitFor();
  const row = page.locator(`[data-testid="${T.insightsCacheRow}"][data-tool="test-tool"]`).first();
  await row.getByTestId(T.insightsCacheOn).click();
  await row.getByTestId(T.insightsCacheCovered).waitFor();
  const control = (s.gw.settings.get() as unknown as { control: { tokens: Record<string, { injectCache?: boolean }> } }).control;
  assert.equal(control.tokens['test-tool']?.injectCache, true);
  assert.ok((await apiReport()).cache.filter((c) => c.tool === 'test-tool').every((c) => c.covered));
  assert.deepEqual(problems, []);
});
