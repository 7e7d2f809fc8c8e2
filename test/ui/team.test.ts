// The Team page in a real Chromium against real gateways and a real PostgreSQL: a joined machine
// (its own traffic plus other members' rows in the team database, two team budgets) shows, for
// every group-by, exactly the rows and numbers of `sluice team report --json` through
// proxy/format.ts, its own member row equal to the local ledger; a machine not in a team shows
// how to join (the CLI command) and no password field. Screenshots land in
// test-results/screenshots/team/ for a person to look at.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { until } from '../helpers.js';
import { pgSkipReason, startPg, type PgServer } from '../team/pg-server.js';
import { cli, seedTeamRows } from '../team/harness.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { formatInt, formatUsd } from '../../proxy/format.js';
import { TEAM_REPORT_BY, type TeamReportRow } from '../../proxy/team/index.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { scrollingElement: { scrollWidth: number } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = (noBrowser && process.env.CI !== 'true' ? noBrowser : false) || pgSkipReason();
const ROOT = packageRoot();
const SHOTS = join(ROOT, 'test-results', 'screenshots', 'team');
const UI_DIR = join(ROOT, 'renderer', 'dist');
const TEAM_OPTS = { tickMs: 100, syncIntervalMs: 200, backoff: { baseMs: 50, maxMs: 300 } };

describe('Team page', { skip }, () => {
  let server: PgServer;
  let db: pg.Pool;
  const stacks: AdminStack[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    server = await startPg();
    db = new pg.Pool({ connectionString: server.url, max: 1 });
    db.on('error', () => {});
  });
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const s of stacks) await s.close().catch(() => {});
    await db?.end().catch(() => {});
    await server?.close();
  });

  const open = async (s: AdminStack, problems: string[]): Promise<Page> => {
    const { browser, page } = await openDashboard(s, problems);
    closers.push(() => browser.close());
    return page;
  };

  test('joined: every group-by shows the numbers of `sluice team report --json`; own row = local ledger', { timeout: 120_000 }, async () => {
    const s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, team: TEAM_OPTS });
    stacks.push(s);
    const joined = await cli(s.dataDir, ['team', 'join', server.url, '--member', 'alice', '--machine', 'alice-laptop']);
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal((await cli(s.dataDir, ['team', 'budget', 'set', 'daily', '40', '--slice', '2'])).code, 0);
    assert.equal((await cli(s.dataDir, ['team', 'budget', 'set', 'monthly', '150', '--member', 'alice', '--offline', 'open'])).code, 0);
    await until(async () => (await s.api('GET', '/team/status')).json.connected === true, 'connected to the team database');
    const client = new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0 });
    for (let i = 0; i < 4; i++) await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: `team page ${i}` }] });
    const t0 = Date.now() - 2 * 86_400_000;
    const query = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
    await seedTeamRows(query, [
      { member: 'bob', machine: 'bob-desktop', tool: 'cursor', project: '/home/bob/src/billing-service', model: 'claude-opus-4-1', ts: t0, input: 182_000, output: 9_100, cacheRead: 1_240_000, costPico: 4_815_000_000_000 },
      { member: 'bob', machine: 'bob-desktop', tool: 'cursor', project: '/home/bob/src/billing-service', model: 'claude-opus-4-1', ts: t0 + 60_000, input: 10, output: 0, costPico: null, status: 429 },
      { member: 'bob', machine: 'bob-laptop', tool: 'claude-code', project: '/home/bob/src/web', model: 'claude-sonnet-4-5', ts: t0 - 86_400_000, input: 52_000, output: 3_300, costPico: 612_400_000_000 },
      { member: 'carol', machine: 'carol-mbp', tool: 'cline', project: null, model: 'claude-haiku-4-5', ts: t0 - 4 * 86_400_000, input: 3_000, output: 400, costPico: 4_200_000_000 },
    ]);
    await s.team!.syncNow();
    await until(async () => (await s.api('GET', '/team/status')).json.pending === 0, 'own rows shared');
    await until(async () => ((await s.api('GET', '/team/status')).json.leases as unknown[]).length === 2, 'leases on both budgets');

    const problems: string[] = [];
    const page = await open(s, problems);
    await page.setViewportSize({ width: 1440, height: 1000 });
    await page.goto(`${s.gw.url}/ui/#/team`);
    await page.locator(`[data-testid="${T.team}"][data-ready]`).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator(`[data-testid="${T.teamStat('member')}"] .value`).innerText(), 'alice');
    assert.equal(await page.locator(`[data-testid="${T.teamStat('pending')}"] .value`).innerText(), '0');
    assert.equal(await page.locator(`[data-testid="${T.teamBudgetRow}"]`).count(), 2);
    assert.equal(await page.locator(`[data-testid="${T.teamBudgetRow}"][data-budget="team:daily"] [data-col="limit"]`).innerText(), formatUsd(40));
    assert.equal(await page.locator(`[data-testid="${T.teamBudgetRow}"][data-budget="member:alice:monthly"] [data-col="limit"]`).innerText(), formatUsd(150));
    assert.equal(await page.locator('input[type="password"]').count(), 0);

    for (const by of TEAM_REPORT_BY) {
      const out = await cli(s.dataDir, ['team', 'report', '--by', by, '--json']);
      assert.equal(out.code, 0, out.stderr);
      const rows = (JSON.parse(out.stdout) as { rows: TeamReportRow[] }).rows;
      await page.getByTestId(T.teamReportBy(by)).click();
      await page.locator(`[data-testid="${T.teamReport}"][data-by="${by}"] table[aria-busy="false"]`).waitFor();
      const rowSel = `[data-testid="${T.teamReportRow}"]`;
      await until(async () => (await page.locator(rowSel).count()) === rows.length, `${rows.length} rows by ${by}`);
      const shown = await page.locator(rowSel).evaluateAll((els) => els.map((e) => ({
        key: e.getAttribute('data-key'),
        requests: (e.querySelector('[data-col="requests"]')?.firstChild?.textContent ?? '').trim(),
        cost: (e.querySelector('[data-col="cost"]')?.textContent ?? '').trim(),
      })));
      assert.deepEqual(shown, rows.map((r) => ({ key: r.key, requests: formatInt(r.requests), cost: formatUsd(r.costUsd) })), `by ${by}`);
      const total = rows.reduce((a, r) => a + (r.costUsd ?? 0), 0);
      assert.equal(await page.locator(`[data-testid="${T.teamReportTotal}"] [data-col="cost"]`).innerText(), formatUsd(total), `total by ${by}`);
      if (by === 'member') {
        // This member's row is this machine's local ledger, as the local views show it.
        const local = (await s.api('GET', '/report?by=tool')).json.rows as { costUsd: number | null; requests: number }[];
        const alice = rows.find((r) => r.key === 'alice')!;
        assert.equal(alice.requests, local.reduce((a, r) => a + r.requests, 0));
        assert.equal(formatUsd(alice.costUsd), formatUsd(local.reduce((a, r) => a + (r.costUsd ?? 0), 0)));
        await page.screenshot({ path: join(SHOTS, 'team-joined-1440.png'), fullPage: true });
      }
    }
    await page.getByTestId(T.teamReportBy('project')).click();
    await page.locator(`[data-testid="${T.teamReport}"][data-by="project"] table[aria-busy="false"]`).waitFor();
    for (const width of [360, 760]) {
      await page.setViewportSize({ width, height: width < 500 ? 780 : 900 });
      await page.screenshot({ path: join(SHOTS, `team-joined-${width}.png`), fullPage: true });
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
      assert.ok(scrollWidth <= innerWidth, `joined Team page at ${width} px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
    }
    assert.deepEqual(problems, []);
  });

  test('not joined: the join command, no password field, no database call', { timeout: 60_000 }, async () => {
    const s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, team: TEAM_OPTS });
    stacks.push(s);
    const problems: string[] = [];
    const page = await open(s, problems);
    const asked: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/admin/api/team/')) asked.push(new URL(r.url()).pathname); });
    await page.goto(`${s.gw.url}/ui/#/team`);
    await page.locator(`[data-testid="${T.team}"][data-ready][data-joined="false"]`).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId(T.teamJoinCommand).innerText(), 'sluice team join <postgres-url> --member NAME');
    assert.equal(await page.locator('input[type="password"]').count(), 0);
    assert.equal(await page.getByTestId(T.teamReport).count(), 0);
    assert.ok(asked.length > 0 && asked.every((p) => p === '/admin/api/team/status'), asked.join(', '));
    await page.screenshot({ path: join(SHOTS, 'team-not-joined-1440.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
