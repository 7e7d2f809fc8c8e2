// Team replication against a real PostgreSQL: three gateways (child processes) with concurrent
// traffic; PostgreSQL is killed mid-run and one gateway SIGKILLed; both come back; once synced,
// the team table holds exactly the union of the three local ledgers' gateway rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { tempDir, until } from '../helpers.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { openTeamStore, teamDbPath } from '../../proxy/team/local-store.js';
import { TEAM_SCHEMA_VERSION } from '../../proxy/team/schema.js';
import { pgSkipReason, startPg, type PgServer } from './pg-server.js';
import { cli, localRows, message, startChildGateway, type ChildGateway } from './harness.js';

const skip = pgSkipReason();

describe('team replication', { skip }, () => {
  let server: PgServer;
  let mock: MockUpstream;
  const dirs: { path: string; cleanup: () => Promise<void> }[] = [];
  const children: ChildGateway[] = [];
  let db: pg.Pool | null = null;

  before(async () => {
    server = await startPg();
    mock = await startMockUpstream();
  });
  after(async () => {
    await db?.end().catch(() => {});
    for (const c of children) await c.stop('SIGKILL');
    await mock?.close();
    await server?.close();
    for (const d of dirs) await d.cleanup();
  });

  const query = async (sql: string, params: unknown[] = []) => {
    if (!db) {
      db = new pg.Pool({ connectionString: server.url, max: 1 });
      db.on('error', () => {});
      db.on('connect', (c) => { c.on('error', () => {}); });
    }
    return (await db.query(sql, params)).rows;
  };

  test('join creates the schema with its version; a newer schema is refused with a clear message', async () => {
    const d = await tempDir();
    dirs.push(d);
    const r = await cli(d.path, ['team', 'join', server.url, '--member', 'alice', '--machine', 'laptop-a']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Joined postgres:\/\/sluice@127\.0\.0\.1:\d+\/postgres \(TLS disable\) as member "alice"/);
    assert.deepEqual((await query('SELECT max(version) AS v FROM sluice_team_schema'))[0], { v: TEAM_SCHEMA_VERSION });
    // A second join (another machine, same database) migrates nothing and keeps one version row.
    const d2 = await tempDir();
    dirs.push(d2);
    assert.equal((await cli(d2.path, ['team', 'join', server.url, '--member', 'bob'])).code, 0);
    assert.equal((await query('SELECT count(*)::int AS n FROM sluice_team_schema'))[0].n, TEAM_SCHEMA_VERSION);
    // A newer Sluice migrated the database: this one refuses and saves nothing.
    await query("INSERT INTO sluice_team_schema (version, sluice_version) VALUES (99, '9.9.9')");
    const d3 = await tempDir();
    dirs.push(d3);
    const refused = await cli(d3.path, ['team', 'join', server.url, '--member', 'carol']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /schema version 99 \(written by Sluice 9\.9\.9\), but this Sluice .* knows versions up to 1\. Upgrade Sluice/);
    const s = openTeamStore(teamDbPath(d3.path));
    assert.equal(s.config(), null);
    s.close();
    await query('DELETE FROM sluice_team_schema WHERE version = 99');
    // The password never lands in team.sqlite.
    const d4 = await tempDir();
    dirs.push(d4);
    const withPw = await cli(d4.path, ['team', 'join', server.url.replace('sluice@', 'sluice:s3cret-pw@'), '--member', 'dave']);
    assert.equal(withPw.code, 0, withPw.stderr);
    assert.match(withPw.stdout, /password: OS keychain/);
    assert.doesNotMatch(withPw.stdout, /s3cret-pw/);
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(teamDbPath(d4.path)).includes(Buffer.from('s3cret-pw')), false);
  });

  test('three gateways, PostgreSQL killed mid-run, one gateway SIGKILLed: team rows = union of local ledgers', async () => {
    await query('TRUNCATE team_requests');
    const names = ['ann', 'ben', 'cat'];
    const gdirs = await Promise.all(names.map(() => tempDir()));
    dirs.push(...gdirs);
    for (const [i, d] of gdirs.entries()) assert.equal((await cli(d.path, ['team', 'join', server.url, '--member', names[i]!])).code, 0);
    const gws = await Promise.all(gdirs.map((d) => startChildGateway(d.path, mock.url)));
    children.push(...gws);

    const load = (g: ChildGateway, n: number, conc = 4) => Promise.all(Array.from({ length: conc }, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < n / conc; i++) statuses.push(await message(g.url, g.token));
      return statuses;
    }));

    // Phase 1: everything up.
    await Promise.all(gws.map((g) => load(g, 20)));
    // Phase 2: PostgreSQL dies while traffic flows; gateway 1 is SIGKILLed mid-traffic.
    const phase2 = gws.map((g) => load(g, 40));
    await until(() => mock.requests.length >= 60 + 30, 'traffic under way');
    await server.kill();
    await until(() => mock.requests.length >= 60 + 60, 'more traffic with PostgreSQL down');
    await gws[1]!.stop('SIGKILL');
    const results = (await Promise.all(phase2)).map((r) => r.flat());
    // The two live gateways served every request with PostgreSQL down: nothing waits for it.
    assert.ok(results[0]!.every((s) => s === 200), `gateway 0: ${results[0]}`);
    assert.ok(results[2]!.every((s) => s === 200), `gateway 2: ${results[2]}`);
    // Rows wait locally while PostgreSQL is down.
    const pendingWhileDown = openTeamStore(teamDbPath(gdirs[0]!.path));
    await until(() => pendingWhileDown.sync().lastError !== null, 'a recorded sync failure');
    pendingWhileDown.close();

    // Both come back.
    await server.start();
    gws[1] = await startChildGateway(gdirs[1]!.path, mock.url);
    children.push(gws[1]);
    const before3 = gdirs.map((d) => localRows(d.path).length);
    await Promise.all(gws.map((g) => load(g, 8)));
    // Rows reach SQLite in the ledger's 100 ms batches: wait for the last ones to be written.
    await until(() => gdirs.every((d, i) => localRows(d.path).length >= before3[i]! + 8), 'phase 3 rows in the local ledgers');

    const machineIds = gdirs.map((d) => { const s = openTeamStore(teamDbPath(d.path)); const id = s.machineId(); s.close(); return id; });
    const expected = new Map<string, { cost: number | null; input: number; output: number }>();
    for (const [i, d] of gdirs.entries()) for (const r of localRows(d.path)) expected.set(`${machineIds[i]}/${r.id}`, r);
    assert.ok(expected.size >= 3 * 20 + 60, `rows written: ${expected.size}`);
    await until(async () => Number((await query('SELECT count(*) AS n FROM team_requests'))[0].n) >= expected.size, `${expected.size} team rows`, 30_000);

    const team = await query('SELECT machine_id, id, member, cost_pico, input_tokens, output_tokens FROM team_requests');
    const got = new Map(team.map((r) => [`${r.machine_id}/${r.id}`, r]));
    assert.equal(team.length, got.size, 'no duplicate row');
    assert.equal(got.size, expected.size, 'no extra row');
    let localCost = 0n;
    for (const [k, r] of expected) {
      const t = got.get(k);
      assert.ok(t, `missing ${k}`);
      assert.equal(t.cost_pico === null ? null : Number(t.cost_pico), r.cost);
      assert.equal(Number(t.input_tokens), r.input);
      assert.equal(Number(t.output_tokens), r.output);
      localCost += BigInt(r.cost ?? 0);
    }
    const sum = await query('SELECT sum(cost_pico)::text AS s FROM team_requests');
    assert.equal(BigInt(sum[0].s), localCost, 'team total = sum of the local ledgers');
    const byMember = await query('SELECT member, count(*)::int AS n FROM team_requests GROUP BY 1 ORDER BY 1');
    assert.deepEqual(byMember.map((r) => r.member), names);

    // `team status` agrees: nothing pending (the cursor moves just after PostgreSQL's commit).
    const js = await until(async () => {
      const j = JSON.parse((await cli(gdirs[0]!.path, ['team', 'status', '--json'])).stdout) as { pending: number; lastSyncAt: number };
      return j.pending === 0 && j;
    }, 'team status: 0 pending');
    assert.ok(js.lastSyncAt > 0);
    // `team report --by member` equals each member's local ledger.
    const repOut = await cli(gdirs[0]!.path, ['team', 'report', '--by', 'member', '--json']);
    assert.equal(repOut.code, 0, repOut.stderr);
    const rep = JSON.parse(repOut.stdout) as { rows: { key: string; requests: number; costUsd: number }[] };
    for (const [i, d] of gdirs.entries()) {
      const rows = localRows(d.path);
      const row = rep.rows.find((r) => r.key === names[i]);
      assert.equal(row?.requests, rows.length, JSON.stringify({ rep: rep.rows, i, n: rows.length }));
      assert.equal(row?.costUsd, Number(rows.reduce((a, r) => a + BigInt(r.cost ?? 0), 0n)) / 1e12);
    }
    for (const g of gws) assert.equal(await g.stop('SIGTERM'), 0, g.stderr());
  });
});
