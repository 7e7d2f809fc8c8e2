// Ledger tests against real SQLite files in a temp dir: schema and migrations, batching, exact
// sums worked out by hand, duplicate rules, rollup consistency, local days, paging and sorting.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, pragma, row, rows, value, values, type Db } from './fixtures/sql.js';
import { InvalidRequestError } from '../errors.js';
import { openLedger, type Ledger, type LedgerOptions } from './ledger.js';
import { LedgerVersionError, migrate, SCHEMA_VERSION, MIGRATIONS } from './schema.js';
import { createRng, makeRow, randomRow } from './fixtures/rows.js';
import { rollupMismatches } from './fixtures/check-rollups.js';
import type { TzOffset } from './dates.js';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const UTC: TzOffset = () => 0;
const fresh = () => join(dir, `l${n++}`, 'ledger.sqlite');
const open = (path = fresh(), opts: LedgerOptions = {}): Ledger => openLedger(path, { tzOffsetMinutes: UTC, ...opts });
const PICO = 1_000_000_000_000;

describe('schema', () => {
  test('an empty file is migrated to the current version with WAL, and reopening keeps rows', () => {
    const path = fresh();
    const l = open(path);
    l.write([makeRow({ id: 'sluice_1' })]);
    l.close();
    const db = openDb(path);
    assert.equal(pragma(db, 'user_version'), SCHEMA_VERSION);
    assert.equal(pragma(db, 'journal_mode'), 'wal');
    const tables = (rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") as { name: string }[]).map((t) => t.name);
    assert.deepEqual(tables, ['attempts', 'daily', 'requests', 'session_model_pairs', 'session_models', 'sessions']);
    db.close();
    const again = open(path);
    assert.equal(again.totals().requests, 1);
    again.close();
  });

  test('a file from a newer schema is refused with a clear error and left untouched', () => {
    const path = fresh();
    open(path).close();
    const db = openDb(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => open(path), (err: unknown) => err instanceof LedgerVersionError && /newer Sluice/.test(err.message) && err.code === 'LEDGER_TOO_NEW');
    const check = openDb(path);
    assert.equal(pragma(check, 'user_version'), SCHEMA_VERSION + 1);
    check.close();
  });

  test('pending migrations run in order in one transaction; a failing step rolls all back', () => {
    const path = join(dir, `migrate-${n++}.sqlite`);
    const db = openDb(path);
    const steps = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, up: (d: Db) => d.exec('CREATE TABLE extra (x INTEGER)') },
      { version: SCHEMA_VERSION + 2, up: (d: Db) => d.exec('INSERT INTO extra VALUES (1)') },
    ];
    assert.deepEqual(migrate(db, path, steps), { from: 0, to: SCHEMA_VERSION + 2 });
    assert.equal(pragma(db, 'user_version'), SCHEMA_VERSION + 2);
    assert.deepEqual(rows(db, 'SELECT x FROM extra'), [{ x: 1 }]);
    const broken = [...steps, { version: SCHEMA_VERSION + 3, up: (d: Db) => { d.exec('CREATE TABLE half (y)'); throw new Error('boom'); } }];
    assert.throws(() => migrate(db, path, broken), /boom/);
    assert.equal(pragma(db, 'user_version'), SCHEMA_VERSION + 2);
    assert.deepEqual(row(db, "SELECT count(*) AS c FROM sqlite_master WHERE name = 'half'"), { c: 0 });
    db.close();
  });
});

describe('record, flush and exact sums', () => {
  // Two sessions and one unattributed request, sums worked out by hand:
  // sess-a: r1 (in 1000, out 200, w5 300, w1 100, read 5000, cost $0.50) + r2 (529 failure, not billed)
  //         + r3 (count_tokens, not billed) + r4 (unpriced model, in 10, out 20)
  // sess-b: r5 (in 7, out 8, read 9, cost $2.25), tool cline
  // none:   r6 (in 1, out 1, cost $0.01)
  const rows = [
    makeRow({ id: 'r1', tsStart: Date.UTC(2026, 2, 10, 9), inputTokens: 1000, outputTokens: 200, cacheWrite5mTokens: 300, cacheWrite1hTokens: 100, cacheReadTokens: 5000, costPico: 0.5 * PICO, messageId: 'msg_1' }),
    makeRow({ id: 'r2', tsStart: Date.UTC(2026, 2, 10, 10), status: 529, errorType: 'overloaded_error', billed: false, costPico: 0, servedModel: null }),
    makeRow({ id: 'r3', tsStart: Date.UTC(2026, 2, 10, 11), endpoint: 'count_tokens', path: '/v1/messages/count_tokens', billed: false, costPico: 0 }),
    makeRow({ id: 'r4', tsStart: Date.UTC(2026, 2, 11, 8), requestedModel: 'mystery', servedModel: 'mystery', inputTokens: 10, outputTokens: 20, costPico: null }),
    makeRow({ id: 'r5', tsStart: Date.UTC(2026, 2, 11, 9), sessionId: 'sess-b', tool: 'cline', inputTokens: 7, outputTokens: 8, cacheReadTokens: 9, costPico: 2.25 * PICO, path: '/v1/messages?beta=true' }),
    makeRow({ id: 'r6', tsStart: Date.UTC(2026, 2, 12, 9), sessionId: null, inputTokens: 1, outputTokens: 1, costPico: 0.01 * PICO }),
  ];
  let l: Ledger;
  before(() => {
    l = open();
    for (const r of rows) l.record(r);
    assert.equal(l.totals().requests, 0, 'nothing is written before the batch window ends');
    l.flush();
  });
  after(() => l.close());

  test('listSessions returns per-session sums; requests without a session form a "No session" row', () => {
    const page = l.listSessions({ sort: 'sessionId', order: 'asc' });
    assert.equal(page.total, 3);
    const [none, a, b] = page.sessions;
    assert.equal(none!.sessionId, `nosession:claude-code:${Date.UTC(2026, 2, 12, 9)}`);
    assert.equal(none!.requests, 1);
    assert.equal(none!.costUsd, 0.01);
    assert.deepEqual(a, {
      sessionId: 'sess-a', firstSeen: Date.UTC(2026, 2, 10, 9), lastSeen: Date.UTC(2026, 2, 11, 8), tool: 'claude-code', project: null,
      models: ['mystery', 'test-sonnet'], imported: false, viaGateway: true,
      requests: 4, errors: 1, billedRequests: 2,
      inputTokens: 1010, outputTokens: 220, cacheWriteTokens: 400, cacheWrite5mTokens: 300, cacheWrite1hTokens: 100, cacheReadTokens: 5000,
      webSearchRequests: 0, costUsd: 0.5, unpricedRequests: 1, estimatedRequests: 0,
    });
    assert.equal(b!.sessionId, 'sess-b');
    assert.equal(b!.tool, 'cline');
    assert.equal(b!.costUsd, 2.25);
    assert.equal(b!.cacheReadTokens, 9);
  });

  test('totals include requests without a session', () => {
    const t = l.totals();
    assert.equal(t.requests, 6);
    assert.equal(t.billedRequests, 4);
    assert.equal(t.inputTokens, 1000 + 10 + 7 + 1);
    assert.equal(t.outputTokens, 200 + 20 + 8 + 1);
    assert.equal(t.costUsd, 2.76);
    assert.equal(t.unpricedRequests, 1);
    assert.equal(t.errors, 1);
  });

  test('report by day, model, tool and session', () => {
    assert.deepEqual(l.report({ by: 'day' }).map((r) => [r.key, r.requests, r.costUsd]), [
      ['2026-03-10', 3, 0.5], ['2026-03-11', 2, 2.25], ['2026-03-12', 1, 0.01],
    ]);
    // The failed request has no served model, so it sits under the requested one.
    assert.deepEqual(l.report({ by: 'model' }).map((r) => [r.key, r.requests, r.costUsd]), [
      ['test-sonnet', 5, 2.76], ['mystery', 1, null],
    ]);
    assert.deepEqual(l.report({ by: 'tool' }).map((r) => [r.key, r.requests, r.inputTokens]), [
      ['cline', 1, 7], ['claude-code', 5, 1011],
    ]);
    const none = `nosession:claude-code:${Date.UTC(2026, 2, 12, 9)}`;
    assert.deepEqual(l.report({ by: 'session' }).map((r) => [r.key, r.costUsd]), [['sess-b', 2.25], ['sess-a', 0.5], [none, 0.01]]);
    assert.deepEqual(l.report({ by: 'session', since: '2026-03-11' }).map((r) => [r.key, r.requests, r.costUsd, r.unpricedRequests]), [
      ['sess-b', 1, 2.25, 0], [none, 1, 0.01, 0], ['sess-a', 1, null, 1],
    ]);
  });

  test('getSession returns the summary and every request in camelCase, query string dropped', () => {
    const s = l.getSession('sess-b');
    assert.ok(s);
    assert.equal(s.session.requests, 1);
    assert.equal(s.requests.length, 1);
    const r = s.requests[0]!;
    assert.equal(r.id, 'r5');
    assert.equal(r.path, '/v1/messages');
    assert.equal(r.costUsd, 2.25);
    assert.equal(r.costPico, 2.25 * PICO);
    assert.equal(r.stream, true);
    assert.equal(r.ttfbMs, 120.5);
    assert.equal(r.counted, true);
    assert.equal(r.keyId, 'anthropic');
    assert.equal(l.getSession('nope'), null);
    assert.deepEqual(l.getSession('sess-a')!.requests.map((x) => x.id), ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(l.getSession('sess-a', { limit: 2, offset: 1 })!.requests.map((x) => x.id), ['r2', 'r3']);
  });

  test('a session whose only billed request is unpriced has costUsd null', () => {
    const m = open();
    m.write([makeRow({ id: 'u1', sessionId: 'sx', costPico: null, inputTokens: 5 }), makeRow({ id: 'u2', sessionId: 'sx', billed: false, status: 500, errorType: 'api_error' })]);
    const s = m.getSession('sx')!.session;
    assert.equal(s.costUsd, null);
    assert.equal(s.unpricedRequests, 1);
    assert.equal(s.inputTokens, 5);
    m.close();
  });
});

describe('writes', () => {
  test('duplicate ids are ignored and never double counted', () => {
    const l = open();
    const r = makeRow({ id: 'dup', inputTokens: 100, costPico: 3 * PICO });
    l.record(r);
    l.record({ ...r, inputTokens: 999 });
    l.flush();
    const res = l.write([r]);
    assert.deepEqual(res, { inserted: 0, replaced: 0, ignored: 1, shadowed: 0 });
    assert.equal(l.totals().inputTokens, 100);
    assert.equal(l.totals().costUsd, 3);
    assert.equal(l.listSessions().sessions[0]!.requests, 1);
    assert.equal(l.stats().ignoredDuplicates, 2);
    l.close();
  });

  test('the timer flushes after batchMs, and batchMax flushes at once', async () => {
    const l = open(fresh(), { batchMs: 30, batchMax: 3 });
    l.record(makeRow({ id: 't1' }));
    assert.equal(l.totals().requests, 0);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(l.totals().requests, 1);
    l.record(makeRow({ id: 't2' }));
    l.record(makeRow({ id: 't3' }));
    assert.equal(l.totals().requests, 1);
    l.record(makeRow({ id: 't4' }));
    assert.equal(l.totals().requests, 4);
    l.close();
  });

  test('a bad row never throws into the caller and does not take its batch down', () => {
    const l = open();
    assert.doesNotThrow(() => {
      l.record(makeRow({ id: 'ok1' }));
      l.record(makeRow({ id: 'bad', tsStart: Number.NaN }));
      l.record(makeRow({ id: 'bad2', endpoint: 'nonsense' as never }));
      l.record(makeRow({ id: 'ok2' }));
      l.flush();
    });
    const s = l.stats();
    assert.equal(s.writeErrors, 3, 'the batch failure plus each bad row');
    assert.equal(s.droppedRows, 2);
    assert.match(s.lastError ?? '', /CHECK constraint/);
    assert.equal(l.totals().requests, 2);
    l.close();
    assert.doesNotThrow(() => l.record(makeRow({ id: 'late' })));
    assert.equal(l.stats().droppedRows, 3);
  });

  test('a write lock held by another process keeps rows queued until it is released', () => {
    const path = fresh();
    const l = open(path, { busyTimeoutMs: 20, batchMs: 60_000 });
    const other = openDb(path);
    other.exec('BEGIN IMMEDIATE');
    l.record(makeRow({ id: 'b1' }));
    l.record(makeRow({ id: 'b2' }));
    assert.doesNotThrow(() => l.flush());
    let s = l.stats();
    assert.equal(s.writeErrors, 1);
    assert.match(s.lastError ?? '', /locked|busy/i);
    assert.equal(s.queued, 2, 'the rows wait for the next flush');
    assert.equal(s.droppedRows, 0);
    other.exec('ROLLBACK');
    other.close();
    l.flush();
    s = l.stats();
    assert.equal(s.queued, 0);
    assert.equal(s.inserted, 2);
    assert.equal(l.totals().requests, 2);
    l.close();
  });

  test('close() flushes what is queued', () => {
    const path = fresh();
    const l = open(path, { batchMs: 60_000 });
    l.record(makeRow({ id: 'c1' }));
    l.close();
    const again = open(path);
    assert.equal(again.totals().requests, 1);
    again.close();
  });

  test('pico sums beyond 2^53 stay exact', () => {
    const l = open();
    // 9,000 USD per row (9e15 pico, a safe integer); three rows sum past 2^53 (~9.007e15).
    l.write([1, 2, 3].map((i) => makeRow({ id: `big${i}`, costPico: 9_000 * PICO, sessionId: 'big' })));
    assert.equal(l.totals().costUsd, 27_000);
    assert.equal(l.getSession('big')!.session.costUsd, 27_000);
    l.close();
  });

  test('a batch whose costs sum past 2^53 pico is rolled up exactly', () => {
    const path = fresh();
    const l = open(path);
    const max = Number.MAX_SAFE_INTEGER; // 9,007,199,254,740,991 pico, about $9,007
    l.write([makeRow({ id: 'x1', costPico: max }), makeRow({ id: 'x2', costPico: max }), makeRow({ id: 'x3', costPico: 1 })]);
    l.close();
    const db = openDb(path, true);
    const big = (sql: string) => {
      const st = db.prepare(sql);
      st.setReadBigInts(true);
      return (st.get() as Record<string, unknown>).v;
    };
    const stored = big('SELECT cost_pico AS v FROM sessions');
    const daily = big('SELECT sum(cost_pico) AS v FROM daily');
    db.close();
    assert.equal(stored, 18_014_398_509_481_983n);
    assert.equal(daily, 18_014_398_509_481_983n);
    assert.deepEqual(rollupMismatches(path, UTC), []);
  });

  test('rollups equal sums recomputed from requests after many random rows', () => {
    const path = fresh();
    const l = open(path, { batchMax: 97 });
    const rng = createRng(20260310);
    const rows = Array.from({ length: 3000 }, (_, i) => randomRow(rng, i));
    for (const r of rows) l.record(r);
    // Re-send some ids (duplicates) to make sure they change nothing.
    for (let i = 0; i < 200; i += 7) l.record(rows[i]!);
    l.flush();
    assert.deepEqual(rollupMismatches(path, UTC), []);
    const t = l.totals();
    assert.equal(t.requests, 3000);
    assert.equal(t.inputTokens, rows.filter((r) => r.billed).reduce((s, r) => s + r.inputTokens, 0));
    assert.equal(t.unpricedRequests, rows.filter((r) => r.billed && r.costPico === null).length);
    const noSession = rows.filter((r) => r.sessionId === null).length;
    assert.ok(noSession > 0);
    // Every request counts in the per-session report, those without a session in "No session" rows.
    const bySession = l.report({ by: 'session', limit: 100_000 });
    assert.equal(bySession.reduce((s, r) => s + r.requests, 0), 3000);
    assert.equal(bySession.filter((r) => r.key.startsWith('nosession:')).reduce((s, r) => s + r.requests, 0), noSession);
    l.close();
  });
});

describe('local days', () => {
  // A zone at UTC+2 until 2026-03-29T01:00Z, UTC+3 after (a DST-like jump), injected.
  const jump = Date.UTC(2026, 2, 29, 1);
  const tz: TzOffset = (ts) => (ts < jump ? 120 : 180);

  test('rows on both sides of local midnight land on their local days', () => {
    const path = fresh();
    const l = openLedger(path, { tzOffsetMinutes: tz });
    l.write([
      makeRow({ id: 'm1', tsStart: Date.UTC(2026, 2, 9, 21, 59, 59, 999), inputTokens: 1 }), // 23:59:59.999 local, Mar 9
      makeRow({ id: 'm2', tsStart: Date.UTC(2026, 2, 9, 22, 0, 0, 0), inputTokens: 2 }), // 00:00 local, Mar 10
      makeRow({ id: 'm3', tsStart: Date.UTC(2026, 2, 29, 20, 59, 59, 999), inputTokens: 4 }), // 23:59:59.999 at UTC+3, Mar 29
      makeRow({ id: 'm4', tsStart: Date.UTC(2026, 2, 29, 21, 0, 0, 0), inputTokens: 8 }), // 00:00 at UTC+3, Mar 30
    ]);
    assert.deepEqual(l.report({ by: 'day' }).map((r) => [r.key, r.inputTokens]), [
      ['2026-03-09', 1], ['2026-03-10', 2], ['2026-03-29', 4], ['2026-03-30', 8],
    ]);
    assert.equal(l.totals({ since: '2026-03-10', until: '2026-03-29' }).inputTokens, 6);
    assert.equal(l.totals({ since: '2026-03-30' }).inputTokens, 8);
    // Epoch-ms bounds inside a day are answered from the rows, exactly.
    assert.equal(l.totals({ since: Date.UTC(2026, 2, 9, 21, 59, 59, 999), until: Date.UTC(2026, 2, 9, 22, 0, 0, 1) }).inputTokens, 3);
    assert.deepEqual(l.report({ by: 'day', since: Date.UTC(2026, 2, 9, 22), until: Date.UTC(2026, 2, 29, 21, 0, 0, 1) }).map((r) => [r.key, r.inputTokens]), [
      ['2026-03-10', 2], ['2026-03-29', 4], ['2026-03-30', 8],
    ]);
    assert.deepEqual(rollupMismatches(path, tz), []);
    l.close();
  });

  test('malformed dates are refused as invalid requests', () => {
    const l = open();
    assert.throws(() => l.totals({ since: '2026-02-31' }), InvalidRequestError);
    assert.throws(() => l.report({ by: 'day', until: 'yesterday' }), InvalidRequestError);
    assert.throws(() => l.report({ by: 'week' as never }), InvalidRequestError);
    l.close();
  });
});

describe('paging and sorting', () => {
  let l: Ledger;
  before(() => {
    l = open();
    // Five sessions with costs 5, 1, 4, 2, 3 dollars; ids s0..s4; s2's model contains "opus".
    const costs = [5, 1, 4, 2, 3];
    l.write(costs.map((c, i) => makeRow({
      id: `p${i}`, sessionId: `s${i}`, costPico: c * PICO, tsStart: Date.UTC(2026, 2, 1 + i), tool: i % 2 ? 'cline' : 'claude-code',
      servedModel: i === 2 ? 'test-opus' : 'test-sonnet', requestedModel: i === 2 ? 'test-opus' : 'test-sonnet',
    })));
    l.write([makeRow({ id: 'pct', sessionId: 'odd%_id', costPico: 0 })]);
  });
  after(() => l.close());

  test('sorted by cost, paged without overlap', () => {
    const first = l.listSessions({ sort: 'cost', order: 'desc', limit: 2 });
    assert.equal(first.total, 6);
    assert.deepEqual(first.sessions.map((s) => s.sessionId), ['s0', 's2']);
    const second = l.listSessions({ sort: 'cost', order: 'desc', limit: 2, offset: 2 });
    assert.deepEqual(second.sessions.map((s) => s.sessionId), ['s4', 's3']);
    const asc = l.listSessions({ sort: 'cost', order: 'asc', limit: 3 });
    assert.deepEqual(asc.sessions.map((s) => s.sessionId), ['odd%_id', 's1', 's3']);
  });

  test('filters: tool, date window, search (LIKE wildcards taken literally)', () => {
    assert.deepEqual(l.listSessions({ tool: 'cline', sort: 'sessionId', order: 'asc' }).sessions.map((s) => s.sessionId), ['s1', 's3']);
    const w = l.listSessions({ since: '2026-03-02', until: '2026-03-03', sort: 'sessionId', order: 'asc' });
    assert.deepEqual(w.sessions.map((s) => s.sessionId), ['s1', 's2']);
    assert.equal(w.total, 2);
    assert.deepEqual(l.listSessions({ search: 'opus' }).sessions.map((s) => s.sessionId), ['s2']);
    assert.deepEqual(l.listSessions({ search: '%_' }).sessions.map((s) => s.sessionId), ['odd%_id']);
  });

  test('an unknown sort column or order is an error, never SQL', () => {
    assert.throws(() => l.listSessions({ sort: 'cost_pico; DROP TABLE sessions' }), InvalidRequestError);
    assert.throws(() => l.listSessions({ sort: 'cost', order: 'desc; DROP TABLE sessions' }), InvalidRequestError);
    assert.throws(() => l.listSessions({ limit: 0 }), InvalidRequestError);
    assert.throws(() => l.listSessions({ offset: -1 }), InvalidRequestError);
    assert.equal(l.listSessions().total, 6);
  });
});

describe('gateway and imported rows of the same message', () => {
  const imported = (id: string, over: Partial<Parameters<typeof makeRow>[0]> = {}) => makeRow({
    id, source: 'import', callerKind: 'import', status: null, sessionId: 'both', messageId: 'msg_same',
    inputTokens: 10, outputTokens: 50, costPico: 1 * PICO, ...over,
  });
  const gateway = (id: string, over: Partial<Parameters<typeof makeRow>[0]> = {}) => makeRow({
    id, sessionId: 'both', messageId: 'msg_same', tool: 'my-token', inputTokens: 10, outputTokens: 50, costPico: 1 * PICO, ...over,
  });

  test('gateway first: the imported copy is stored but not counted', () => {
    const path = fresh();
    const l = open(path);
    l.write([gateway('sluice_g')]);
    assert.deepEqual(l.write([imported('import:req_1')]), { inserted: 1, replaced: 0, ignored: 0, shadowed: 1 });
    const s = l.getSession('both')!;
    assert.equal(s.session.requests, 1);
    assert.equal(s.session.costUsd, 1);
    assert.equal(s.session.imported, true);
    assert.equal(s.session.viaGateway, true);
    assert.deepEqual(s.requests.map((r) => [r.id, r.counted]), [['import:req_1', false], ['sluice_g', true]]);
    assert.deepEqual(rollupMismatches(path, UTC), []);
    l.close();
  });

  test('import first: a later gateway row takes over and the import is subtracted', () => {
    const path = fresh();
    const l = open(path);
    l.write([imported('import:req_1'), imported('import:req_2', { messageId: 'msg_other', outputTokens: 5, costPico: 0.25 * PICO })]);
    assert.equal(l.totals().costUsd, 1.25);
    assert.equal(l.getSession('both')!.session.tool, 'claude-code');
    assert.deepEqual(l.write([gateway('sluice_g')]), { inserted: 1, replaced: 0, ignored: 0, shadowed: 1 });
    const s = l.getSession('both')!.session;
    assert.equal(s.requests, 2);
    assert.equal(s.costUsd, 1.25);
    assert.equal(s.outputTokens, 55);
    assert.equal(s.tool, 'my-token', 'the gateway names the tool once it has seen the session');
    assert.deepEqual(l.report({ by: 'tool' }).map((r) => [r.key, r.requests]), [['my-token', 1], ['claude-code', 1]]);
    assert.deepEqual(rollupMismatches(path, UTC), []);
    l.close();
  });

  test('an imported row read again with more output replaces the partial one', () => {
    const path = fresh();
    const l = open(path);
    l.write([imported('import:req_p', { messageId: 'msg_p', outputTokens: 3, costPico: 100 })]);
    assert.deepEqual(l.write([imported('import:req_p', { messageId: 'msg_p', outputTokens: 90, costPico: 900 })]), { inserted: 0, replaced: 1, ignored: 0, shadowed: 0 });
    assert.deepEqual(l.write([imported('import:req_p', { messageId: 'msg_p', outputTokens: 90, costPico: 900 })]), { inserted: 0, replaced: 0, ignored: 1, shadowed: 0 });
    assert.equal(l.totals().outputTokens, 90);
    assert.equal(l.totals().requests, 1);
    assert.deepEqual(rollupMismatches(path, UTC), []);
    l.close();
  });

  test('reconcile compares gateway and imported tokens per session', () => {
    const l = open();
    l.write([gateway('g1'), gateway('g2', { messageId: 'msg_title', inputTokens: 30, outputTokens: 4 }), gateway('g3', { endpoint: 'count_tokens', billed: false, messageId: null, inputTokens: 0 })]);
    l.write([imported('import:r1')]);
    l.write([makeRow({ id: 'solo', sessionId: 'gateway-only' })]);
    const rows = l.reconcile();
    // Every session seen either way is listed; only a response recorded differently is a difference.
    assert.deepEqual(rows.map((x) => x.sessionId), ['both', 'gateway-only']);
    const r = rows[0]!;
    assert.equal(r.sessionId, 'both');
    assert.equal(r.gateway.responses, 2);
    assert.equal(r.imported.responses, 1);
    assert.equal(r.gateway.inputTokens, 40);
    assert.equal(r.imported.inputTokens, 10);
    assert.equal(r.matchedMessages, 1);
    assert.equal(r.differs, false, 'the one response both saw agrees; the title call explains the gap');
    assert.deepEqual(r.reasons, [{ kind: 'not_in_transcripts', responses: 1 }]);
    assert.deepEqual(rows[1]!.reasons, [{ kind: 'no_transcript', responses: 1 }]);
    const agree = open();
    agree.write([gateway('g1'), imported('import:r1')]);
    const [same] = agree.reconcile({ sessionId: 'both' });
    assert.equal(same!.differs, false);
    assert.equal(same!.gateway.outputTokens, 50);
    agree.close();
    l.close();
  });
});
