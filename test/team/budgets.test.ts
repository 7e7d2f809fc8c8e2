// Team budgets over a real PostgreSQL: two gateways under concurrent load share one daily budget
// through leases and both stop within the documented bound (README "Teams", proxy/team/leases.ts):
// spend <= limit when estimates are upper bounds (they are here: bodies are padded so the
// worst-case estimate exceeds the mock's usage). Then the offline policies with PostgreSQL down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { teamExtension } from '../../proxy/team/index.js';
import { authHeaders, PROVIDER_KEY, rawRequest, tempDir, until } from '../helpers.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { pgSkipReason, startPg, type PgServer } from './pg-server.js';
import { cli, localRows } from './harness.js';

const skip = pgSkipReason();
const PAD = 'x'.repeat(7000);

async function send(g: { url: string; token: string }): Promise<{ status: number; body: string }> {
  const r = await rawRequest(`${g.url}/v1/messages`, {
    method: 'POST', headers: authHeaders(g.token),
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: PAD }] }),
  });
  return { status: r.status, body: r.body.toString() };
}

const costOf = (dir: string) => localRows(dir).reduce((a, r) => a + (r.billed ? r.cost ?? 0 : 0), 0);

describe('team budgets', { skip }, () => {
  let server: PgServer;
  let mock: MockUpstream;
  let admin: pg.Pool;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    server = await startPg();
    mock = await startMockUpstream();
    admin = new pg.Pool({ connectionString: server.url, max: 1 });
    admin.on('error', () => {});
    admin.on('connect', (c) => { c.on('error', () => {}); });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await admin?.end().catch(() => {});
    await mock?.close();
    await server?.close();
  });

  const gateway = async (member: string, leaseTtlMs = 60_000) => {
    const d = await tempDir();
    assert.equal((await cli(d.path, ['team', 'join', server.url, '--member', member])).code, 0);
    const gw: Gateway = await createGateway({
      dataDir: d.path, port: 0, secrets: null, watchSettings: false,
      env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
      logger: createLogger({ level: process.env.TEAM_TEST_LOG ? 'debug' : 'error', write: (l) => { if (process.env.TEAM_TEST_LOG) process.stderr.write(`${l}\n`); } }),
      extensions: [teamExtension({ tickMs: 100, leaseTtlMs, renewWaitMs: 1000, backoff: { baseMs: 50, maxMs: 300 } })],
    });
    const { token } = await gw.tokens.create('claude-code');
    let closed = false;
    const close = async () => { if (!closed) { closed = true; await gw.close({ drainMs: 2000 }); } await d.cleanup(); };
    cleanups.push(close);
    return { gw, url: gw.url, token, dir: d.path, close };
  };

  test('two gateways under load stop within the bound: team spend <= limit, and close to it', async () => {
    const a = await gateway('ann');
    const b = await gateway('ben');
    const LIMIT = 0.1;
    const SLICE = 0.02;
    const set = await cli(a.dir, ['team', 'budget', 'set', 'daily', String(LIMIT), '--slice', String(SLICE), '--offline', 'closed']);
    assert.equal(set.code, 0, set.stderr);
    // Both gateways have read the budget and hold a lease before the load starts.
    await until(async () => (await admin.query("SELECT count(*)::int AS n FROM team_leases WHERE budget_id = 'team:daily'")).rows[0].n === 2, 'two leases');
    // Load until each gateway has been refused 4 times in a row.
    const run = (g: typeof a) => Promise.all(Array.from({ length: 4 }, async () => {
      let refusals = 0;
      for (let i = 0; i < 500 && refusals < 4; i++) {
        const r = await send(g);
        if (r.status === 429) {
          refusals++;
          assert.match(r.body, /team daily budget .* would be exceeded/);
        } else {
          assert.equal(r.status, 200, r.body);
          refusals = 0;
        }
      }
    }));
    await Promise.all([run(a), run(b)]);
    await a.gw.flushUsage();
    await b.gw.flushUsage();
    const spent = (costOf(a.dir) + costOf(b.dir)) / 1e12;
    const est = 0.00904; // worst case of one padded request (2000 tokens at the 5m-write rate + 64 output)
    assert.ok(spent <= LIMIT, `team spend ${spent} exceeds the limit ${LIMIT}`);
    assert.ok(spent >= LIMIT - 2 * (SLICE + est), `stopped too early: ${spent}`);
    assert.ok(costOf(a.dir) > 0 && costOf(b.dir) > 0, 'both gateways spent');
    const g = (await admin.query("SELECT granted_pico FROM team_budget_periods WHERE budget_id = 'team:daily'")).rows[0];
    assert.ok(Number(g.granted_pico) <= LIMIT * 1e12, 'grants never pass the limit');
    await a.close();
    await b.close();
    // Clean shutdown gave the unspent grants back: what stays granted is what was spent.
    const after = (await admin.query("SELECT granted_pico FROM team_budget_periods WHERE budget_id = 'team:daily'")).rows[0];
    assert.equal(Math.round(Number(after.granted_pico) / 1e6), Math.round(spent * 1e6));
    await admin.query('DELETE FROM team_budgets; DELETE FROM team_budget_periods; DELETE FROM team_leases');
  });

  test('PostgreSQL down: the lease keeps serving; at its end "closed" refuses and "open" serves one more slice', async () => {
    const c = await gateway('cat', 1500);
    const o = await gateway('olga', 1500);
    await cli(c.dir, ['team', 'budget', 'set', 'daily', '10', '--member', 'cat', '--slice', '0.05', '--offline', 'closed']);
    await cli(o.dir, ['team', 'budget', 'set', 'daily', '10', '--member', 'olga', '--slice', '0.01', '--offline', 'open']);
    // Both hold a lease.
    await until(async () => (await admin.query("SELECT count(*)::int AS n FROM team_leases WHERE budget_id IN ('member:cat:daily', 'member:olga:daily')")).rows[0].n === 2, 'two leases');
    assert.equal((await send(c)).status, 200);
    await server.kill();
    try {
      // Under the lease: served (a 0.05 slice covers several 0.009 reservations).
      assert.equal((await send(c)).status, 200);
      assert.equal((await send(o)).status, 200);
      // After expiry (1.5 s): "closed" refuses, naming the unreachable database.
      const refused = await until(async () => { const r = await send(c); return r.status === 429 && r; }, 'closed policy refusal', 15_000);
      assert.match(refused.body, /team database is unreachable/);
      // "open" serves past its lease, but at most one offline slice more: bounded.
      let served = 0;
      for (let i = 0; i < 60; i++) {
        const r = await send(o);
        if (r.status === 429) { assert.match(r.body, /one offline slice/); break; }
        assert.equal(r.status, 200, r.body);
        served++;
      }
      await o.gw.flushUsage();
      const spentOpen = costOf(o.dir) / 1e12;
      assert.ok(served > 0 && served < 60, `served ${served} offline`);
      // Bound: the lease (one slice) + one offline slice, and not much less (it did serve the offline slice).
      assert.ok(spentOpen <= 0.01 * 2, `open policy spent ${spentOpen}`);
      assert.ok(spentOpen >= 0.02 - 2 * 0.00904, `open policy stopped early: ${spentOpen}`);
    } finally {
      await server.start();
    }
  });
});
