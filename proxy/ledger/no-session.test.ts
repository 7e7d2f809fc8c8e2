// Requests without a session id: grouped per tool token and hour into "No session" rows that
// list, open, sort and report like sessions, so every request counts in the per-session views.
// Also the per-hour report the Overview draws. Real SQLite files in a temp dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger, type Ledger } from './ledger.js';
import { parseNoSessionId } from './queries.js';
import { makeRow } from './fixtures/rows.js';
import { rollupMismatches } from './fixtures/check-rollups.js';
import { openDb, value, values } from './fixtures/sql.js';

const PICO = 1_000_000_000_000;
const H = 3_600_000;
const T0 = Date.UTC(2026, 2, 10, 12);
let dir: string;
let l: Ledger;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-nosession-'));
  l = openLedger(join(dir, 'ledger.sqlite'), { tzOffsetMinutes: () => 0 });
  l.write([
    makeRow({ id: 's1', sessionId: 'sess-a', tool: 'claude-code', tsStart: T0 + 60_000, inputTokens: 100, costPico: 1 * PICO }),
    makeRow({ id: 'n1', sessionId: null, tool: 'cline', tsStart: T0 + 5 * 60_000, inputTokens: 10, costPico: 2 * PICO, servedModel: 'm-a' }),
    makeRow({ id: 'n2', sessionId: null, tool: 'cline', tsStart: T0 + 50 * 60_000, inputTokens: 20, costPico: 3 * PICO, servedModel: 'm-b' }),
    makeRow({ id: 'n3', sessionId: null, tool: 'cline', tsStart: T0 + H + 1, inputTokens: 40, costPico: 4 * PICO }),
    makeRow({ id: 'n4', sessionId: null, tool: 'cursor', tsStart: T0 + 10 * 60_000, inputTokens: 80, costPico: 8 * PICO }),
  ]);
});
test('"No session" groups are rollups written with the rows, consistent with a recount from requests', () => {
  assert.deepEqual(rollupMismatches(join(dir, 'ledger.sqlite'), () => 0), []);
  const db = openDb(join(dir, 'ledger.sqlite'), true);
  try {
    assert.deepEqual(values(db, "SELECT session_id FROM sessions WHERE session_id LIKE 'nosession:%' ORDER BY session_id"),
      [`nosession:cline:${T0}`, `nosession:cline:${T0 + H}`, `nosession:cursor:${T0}`]);
    assert.equal(value(db, 'SELECT count(*) FROM requests WHERE session_id IS NULL'), 4, 'the requests themselves keep no session id');
  } finally {
    db.close();
  }
});

after(() => {
  l.close();
  rmSync(dir, { recursive: true, force: true });
});

test('requests without a session id list as "No session" groups per tool and hour, and every request is in some row', () => {
  const page = l.listSessions({ sort: 'cost', order: 'desc', limit: 100 });
  assert.deepEqual(page.sessions.map((s) => [s.sessionId, s.requests, s.inputTokens, s.costUsd]), [
    [`nosession:cursor:${T0}`, 1, 80, 8],
    [`nosession:cline:${T0}`, 2, 30, 5],
    [`nosession:cline:${T0 + H}`, 1, 40, 4],
    ['sess-a', 1, 100, 1],
  ]);
  assert.equal(page.total, 4);
  const sum = page.sessions.reduce((a, s) => a + s.requests, 0);
  assert.equal(sum, l.totals().requests, 'the rows add up to the ledger total');
  const cline = page.sessions.find((s) => s.sessionId === `nosession:cline:${T0}`)!;
  // Like a real session's: every model asked for or served (makeRow asks for test-sonnet).
  assert.deepEqual(cline.models, ['m-a', 'm-b', 'test-sonnet']);
  assert.equal(cline.firstSeen, T0 + 5 * 60_000);
  assert.equal(cline.lastSeen, T0 + 50 * 60_000);
  assert.equal(l.listSessions({ search: 'cursor' }).total, 1);
  assert.equal(l.listSessions({ search: 'm-b' }).total, 1);
});

test('a "No session" group opens like a session', () => {
  const d = l.getSession(`nosession:cline:${T0}`)!;
  assert.deepEqual(d.requests.map((r) => r.id), ['n1', 'n2']);
  assert.equal(d.session.costUsd, 5);
  assert.equal(l.getSession(`nosession:cline:${T0 + 2 * H}`), null);
  assert.equal(l.getSession('nosession:cline:12345'), null, 'not an hour boundary');
  assert.deepEqual(parseNoSessionId('nosession:a:b:7200000'), { tool: 'a:b', hourStart: 7_200_000 });
  assert.equal(parseNoSessionId('sess-a'), null);
});

test('report by session includes the groups; report by hour sums each hour', () => {
  const bySession = l.report({ by: 'session' });
  assert.equal(bySession.reduce((a, r) => a + r.requests, 0), 5);
  const ranged = l.report({ by: 'session', since: T0, until: T0 + 2 * H });
  assert.equal(ranged.reduce((a, r) => a + r.requests, 0), 5);
  assert.ok(ranged.some((r) => r.key === `nosession:cline:${T0 + H}`));
  const byHour = l.report({ by: 'hour', since: T0, until: T0 + 2 * H });
  assert.deepEqual(byHour.map((r) => [Number(r.key), r.requests, r.costUsd]), [[T0, 4, 14], [T0 + H, 1, 4]]);
});
