// The team view's admin API (GET /admin/api/team/status|report|budgets) over a real PostgreSQL:
// not joined (status says how to join, report and budgets refuse with TEAM_NOT_JOINED), then
// joined with a password in the URL: status carries membership, sync and leases and never the
// password; the report per member, machine, tool, project, model and day equals
// `sluice team report --json` (one implementation), and this member's row equals this machine's
// local ledger; budgets equal `sluice team budget list --json`; PostgreSQL down answers 503.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import Anthropic from '@anthropic-ai/sdk';
import { startAdminStack, type AdminStack } from '../ui/admin-stack.js';
import { until } from '../helpers.js';
import { pgSkipReason, startPg, type PgServer } from './pg-server.js';
import { cli, localRows, seedTeamRows } from './harness.js';
import { TEAM_REPORT_BY } from '../../proxy/team/index.js';

const skip = pgSkipReason();
const PASSWORD = 'team-pw-marker-5b1d';

describe('team admin API', { skip }, () => {
  let server: PgServer;
  let admin: pg.Pool;
  let s: AdminStack;
  const query = async (sql: string, params: unknown[] = []) => (await admin.query(sql, params)).rows;

  before(async () => {
    server = await startPg();
    admin = new pg.Pool({ connectionString: server.url, max: 1 });
    admin.on('error', () => {});
    s = await startAdminStack({ team: { tickMs: 100, syncIntervalMs: 200, backoff: { baseMs: 50, maxMs: 300 } } });
  });
  after(async () => {
    await s?.close();
    await admin?.end().catch(() => {});
    await server?.close();
  });

  test('not joined: status explains how to join; report and budgets refuse; the routes need the admin login', async () => {
    const st = await s.api('GET', '/team/status');
    assert.equal(st.status, 200);
    assert.equal(st.json.joined, false);
    assert.equal(st.json.member, null);
    assert.equal(st.json.database, null);
    assert.match(st.json.joinCommand, /^sluice team join <postgres-url> --member NAME$/);
    assert.match(st.json.machineId, /^[0-9a-f-]{36}$/);
    for (const path of ['/team/report', '/team/budgets']) {
      const r = await s.api('GET', path);
      assert.equal(r.status, 409, path);
      assert.equal(r.headers['x-sluice-error-code'], 'TEAM_NOT_JOINED');
    }
    const anon = await s.api('GET', '/team/status', undefined, { authorization: '' });
    assert.equal(anon.status, 401);
  });

  test('joined: status, report by every grouping and budgets equal the CLI; own rows equal the local ledger; no password anywhere', async () => {
    const join = await cli(s.dataDir, ['team', 'join', server.url.replace('sluice@', `sluice:${PASSWORD}@`), '--member', 'alice', '--machine', 'alice-laptop']);
    assert.equal(join.code, 0, join.stderr);
    // The gateway re-reads team.sqlite every tick and connects.
    await until(async () => (await s.api('GET', '/team/status')).json.connected === true, 'gateway connected to the team database');

    // This member's traffic through the gateway, and two other members' rows already in the team database.
    const client = new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0 });
    for (let i = 0; i < 5; i++) await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: `hello ${i}` }] });
    const t0 = Date.now() - 3 * 86_400_000;
    await seedTeamRows(query, [
      { member: 'bob', machine: 'bob-desktop', tool: 'cursor', project: '/src/api', model: 'claude-opus-4-1', ts: t0, input: 12_000, output: 900, cacheRead: 40_000, costPico: 321_000_000_000 },
      { member: 'bob', machine: 'bob-desktop', tool: 'cursor', project: '/src/api', model: 'claude-opus-4-1', ts: t0 + 60_000, input: 10, output: 0, costPico: null, status: 429 },
      { member: 'carol', machine: 'carol-mbp', tool: 'claude-code', project: null, model: 'claude-haiku-4-5', ts: t0 - 86_400_000, input: 3_000, output: 400, costPico: 4_200_000_000 },
    ]);
    await until(() => localRows(s.dataDir).length === 5, 'five local rows');
    await s.team!.syncNow();
    await until(async () => (await s.api('GET', '/team/status')).json.pending === 0, 'nothing pending');

    const st = await s.api('GET', '/team/status');
    assert.equal(st.status, 200);
    assert.equal(st.json.joined, true);
    assert.equal(st.json.member, 'alice');
    assert.equal(st.json.machine, 'alice-laptop');
    assert.equal(st.json.pending, 0);
    assert.equal(st.json.lagMs, 0);
    assert.ok(st.json.lastSyncAt > 0);
    assert.ok(st.json.rowsSynced >= 5);
    assert.match(st.json.database, /^postgres:\/\/sluice@127\.0\.0\.1:\d+\/postgres \(TLS disable\)$/);

    const local = localRows(s.dataDir);
    const localCost = local.reduce((a, r) => a + (r.billed ? r.cost ?? 0 : 0), 0) / 1e12;
    for (const by of TEAM_REPORT_BY) {
      const api = await s.api('GET', `/team/report?by=${by}`);
      assert.equal(api.status, 200, `${by}: ${api.body.toString()}`);
      const fromCli = await cli(s.dataDir, ['team', 'report', '--by', by, '--json']);
      assert.equal(fromCli.code, 0, fromCli.stderr);
      assert.deepEqual(api.json.rows, JSON.parse(fromCli.stdout).rows, `report by ${by}: API = CLI`);
      assert.equal(api.json.rows.reduce((a: number, r: { requests: number }) => a + r.requests, 0), 8, `every row once by ${by}`);
    }
    const byMember = (await s.api('GET', '/team/report?by=member')).json.rows as { key: string; requests: number; errors: number; inputTokens: number; outputTokens: number; costUsd: number | null }[];
    assert.deepEqual(new Set(byMember.map((r) => r.key)), new Set(['alice', 'bob', 'carol']));
    const alice = byMember.find((r) => r.key === 'alice')!;
    assert.equal(alice.requests, local.length);
    assert.equal(alice.inputTokens, local.reduce((a, r) => a + r.input, 0));
    assert.equal(alice.outputTokens, local.reduce((a, r) => a + r.output, 0));
    assert.equal(alice.costUsd, localCost, 'own row = local ledger');
    const bob = byMember.find((r) => r.key === 'bob')!;
    assert.deepEqual({ requests: bob.requests, errors: bob.errors, costUsd: bob.costUsd }, { requests: 2, errors: 1, costUsd: 0.321 });
    // The local ledger's own report agrees for this machine (same rows, same sums).
    const localReport = await s.api('GET', '/report?by=tool');
    assert.equal(localReport.json.rows.reduce((a: number, r: { costUsd: number | null }) => a + (r.costUsd ?? 0), 0), alice.costUsd);

    const ranged = await s.api('GET', `/team/report?by=day&since=${new Date(t0 - 86_400_000).toISOString().slice(0, 10)}&until=${new Date(t0).toISOString().slice(0, 10)}`);
    assert.equal(ranged.status, 200);
    const ranged2 = await cli(s.dataDir, ['team', 'report', '--by', 'day', '--json', '--since', ranged.json.since, '--until', ranged.json.until]);
    assert.deepEqual(ranged.json.rows, JSON.parse(ranged2.stdout).rows);
    for (const bad of ['by=session', 'since=yesterday', 'limit=5']) assert.equal((await s.api('GET', `/team/report?${bad}`)).status, 400, bad);

    // Budgets: set through the CLI, listed the same by the API; this machine takes a lease.
    assert.equal((await cli(s.dataDir, ['team', 'budget', 'set', 'daily', '50', '--slice', '2'])).code, 0);
    assert.equal((await cli(s.dataDir, ['team', 'budget', 'set', 'monthly', '200', '--member', 'alice', '--offline', 'open'])).code, 0);
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'under a budget' }] });
    await until(async () => {
      const ls = (await s.api('GET', '/team/status')).json.leases as { grantedPico: number }[];
      return ls.length === 2 && ls.every((l) => l.grantedPico > 0);
    }, 'two leases granted');
    // A lease renewal may land between two reads: compare until both reads saw the same grants.
    const view = (b: { budget: string; limitUsd: number; sliceUsd: number; offline: string; grantedUsd: number }) => ({ budget: b.budget, limitUsd: b.limitUsd, sliceUsd: b.sliceUsd, offline: b.offline, grantedUsd: b.grantedUsd });
    let budgets!: Awaited<ReturnType<AdminStack['api']>>;
    await until(async () => {
      budgets = await s.api('GET', '/team/budgets');
      assert.equal(budgets.status, 200);
      const cliBudgets = JSON.parse((await cli(s.dataDir, ['team', 'budget', 'list', '--json'])).stdout) as unknown[];
      return JSON.stringify(budgets.json.budgets.map(view)) === JSON.stringify(cliBudgets);
    }, 'API budgets = `sluice team budget list --json`');
    assert.ok(budgets.json.budgets.every((b: { grantedUsd: number }) => b.grantedUsd > 0));
    assert.deepEqual(budgets.json.budgets.map((b: { budget: string; member: string | null; kind: string; offline: string }) => [b.budget, b.member, b.kind, b.offline]),
      [['member:alice:monthly', 'alice', 'monthly', 'open'], ['team:daily', null, 'daily', 'closed']]);
    const lease = (await s.api('GET', '/team/status')).json.leases.find((l: { budgetId: string }) => l.budgetId === 'team:daily');
    assert.equal(lease.limitPico, 50e12);
    assert.equal(lease.slicePico, 2e12);
    assert.equal(lease.offline, 'closed');
    assert.ok(lease.grantedPico > lease.spentPico && lease.grantedPico <= 50e12, JSON.stringify(lease));

    // The password is in no response and no log line.
    for (const path of ['/team/status', '/team/report?by=machine', '/team/budgets', '/settings', '/status']) {
      assert.equal((await s.api('GET', path)).body.includes(Buffer.from(PASSWORD)), false, path);
    }
    assert.equal(s.logs.some((l) => l.includes(PASSWORD)), false);

    // PostgreSQL down: status still answers from this machine; the database reads say why.
    await server.kill();
    try {
      const down = await s.api('GET', '/team/report?by=member');
      assert.equal(down.status, 503);
      assert.equal(down.headers['x-sluice-error-code'], 'TEAM_DATABASE_UNAVAILABLE');
      assert.equal((await s.api('GET', '/team/status')).status, 200);
    } finally {
      await server.start();
    }
  });
});
