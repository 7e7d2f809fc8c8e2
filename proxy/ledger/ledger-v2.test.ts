// Schema v2 against real SQLite files in a temp dir: a v1 file upgraded in place, upstream
// attempts stored atomically with their request, routing fields round trip, the new report
// groupings, attempt stats and export paging. Expected values are worked out by hand.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, pragma, row, rows, value, values, type Db } from './fixtures/sql.js';
import { InvalidRequestError } from '../errors.js';
import { openLedger, type Ledger, type LedgerOptions } from './ledger.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from './schema.js';
import { makeRow } from './fixtures/rows.js';
import { rollupMismatches } from './fixtures/check-rollups.js';
import { createV1Ledger } from './fixtures/v1-ledger.js';
import type { TzOffset } from './dates.js';
import type { AttemptRecord, LedgerRow } from './types.js';

let dir: string;
let seq = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-v2-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const UTC: TzOffset = () => 0;
const fresh = () => {
  const d = join(dir, `l${seq++}`);
  mkdirSync(d, { recursive: true });
  return join(d, 'ledger.sqlite');
};
const open = (path = fresh(), opts: LedgerOptions = {}): Ledger => openLedger(path, { tzOffsetMinutes: UTC, ...opts });
const PICO = 1_000_000_000_000;
const T0 = Date.UTC(2026, 2, 10, 12);

function att(n: number, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return { n, ts: T0 + n * 1000, target: 'anthropic', keyId: 'anthropic', model: 'test-sonnet', status: 200, error: null, durationMs: 850.5, waitMs: 0, ...over };
}

/** One value read through a separate, read-only connection (what another process would see). */
function scalar(path: string, sql: string): unknown {
  const db = openDb(path, true);
  try {
    return value(db, sql);
  } finally {
    db.close();
  }
}

describe('migration v1 -> v2', () => {
  const V2_DEFAULTS = { target: null, attempts: 1, fallback: 0, route: null, arm: null, tags: null, tier: null, features: null, redacted: 0 };
  const v1Rows: LedgerRow[] = [
    makeRow({ id: 'v1a', sessionId: 'sess-old', tsStart: Date.UTC(2026, 2, 10, 9), inputTokens: 100, outputTokens: 20, costPico: 1 * PICO, messageId: 'msg_a' }),
    makeRow({ id: 'v1b', sessionId: 'sess-old', tsStart: Date.UTC(2026, 2, 10, 10), status: 529, errorType: 'overloaded_error', billed: false, costPico: 0, servedModel: null }),
    makeRow({ id: 'v1c', sessionId: null, tsStart: Date.UTC(2026, 2, 11, 9), inputTokens: 7, costPico: 0.5 * PICO, tool: 'cline' }),
  ];

  test('a v1 file with rows is upgraded in place: rows and rollups intact, v2 columns at their defaults', () => {
    const path = fresh();
    createV1Ledger(path, v1Rows, UTC);
    const before = openDb(path);
    assert.equal(pragma(before, 'user_version'), 1);
    const v1Cols = values(before, 'SELECT name FROM pragma_table_info(?)', 'requests') as string[];
    assert.equal(v1Cols.includes('target'), false, 'the fixture really is a v1 file');
    const snap = (db: Db) => ({
      requests: rows(db, `SELECT ${v1Cols.join(', ')} FROM requests ORDER BY id`),
      sessions: rows(db, 'SELECT * FROM sessions ORDER BY session_id'),
      daily: rows(db, 'SELECT * FROM daily ORDER BY day, model, tool'),
      models: rows(db, 'SELECT * FROM session_models ORDER BY session_id, model'),
    });
    const old = snap(before);
    before.close();
    assert.equal(old.requests.length, 3);
    assert.deepEqual(rollupMismatches(path, UTC, { noSessionGroups: false }), [], 'the v1 fixture is consistent (by v1 rules) to begin with');

    const l = open(path);
    assert.equal(l.totals().requests, 3);
    assert.equal(l.totals().costUsd, 1.5);
    assert.equal(l.totals().errors, 1);
    const s = l.getSession('sess-old')!;
    assert.equal(s.session.requests, 2);
    assert.deepEqual(s.requests.map((r) => [r.id, r.target, r.attemptsMade, r.fallback, r.route, r.arm, r.tags, r.tier, r.features, r.redacted, r.attempts]), [
      ['v1a', null, 1, false, null, null, null, null, null, false, []],
      ['v1b', null, 1, false, null, null, null, null, null, false, []],
    ]);
    // The upgraded file takes v2 rows with attempts next to the old ones.
    l.write([makeRow({ id: 'v2a', sessionId: 'sess-old', target: 'anthropic', attempts: [att(1, { status: 529, error: 'overloaded_error' }), att(2)], costPico: 2 * PICO })]);
    assert.equal(l.getSession('sess-old')!.session.costUsd, 3);
    l.close();

    const after = openDb(path);
    assert.equal(pragma(after, 'user_version'), SCHEMA_VERSION);
    assert.equal(pragma(after, 'integrity_check'), 'ok');
    const now = snap(after);
    assert.deepEqual(now.requests.filter((r) => (r as { id: string }).id !== 'v2a'), old.requests);
    assert.deepEqual(rows(after, `SELECT ${Object.keys(V2_DEFAULTS).join(', ')} FROM requests WHERE id LIKE 'v1%' ORDER BY id`), [V2_DEFAULTS, V2_DEFAULTS, V2_DEFAULTS]);
    assert.equal(value(after, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'attempts_ts' AND tbl_name = 'attempts'"), 1);
    assert.deepEqual(rows(after, 'SELECT request_id, n FROM attempts ORDER BY n'), [{ request_id: 'v2a', n: 1 }, { request_id: 'v2a', n: 2 }]);
    after.close();
    assert.deepEqual(rollupMismatches(path, UTC), []);
  });

  test('migrate() steps a v1 database to v2 only, then to the current version, and a second open changes nothing', () => {
    const path = fresh();
    const db = openDb(path);
    assert.deepEqual(migrate(db, path, MIGRATIONS.filter((m) => m.version === 1)), { from: 0, to: 1 });
    assert.deepEqual(migrate(db, path, MIGRATIONS.filter((m) => m.version <= 2)), { from: 1, to: 2 });
    assert.ok(SCHEMA_VERSION >= 3);
    assert.deepEqual(migrate(db, path), { from: 2, to: SCHEMA_VERSION });
    assert.deepEqual(migrate(db, path), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();
  });
});

describe('attempts', () => {
  test('a request with 3 attempts is stored with them and counts once in every rollup', () => {
    const path = fresh();
    const l = open(path);
    const attempts = [
      att(1, { status: 429, error: 'rate_limit_error', durationMs: 80.5, waitMs: 0 }),
      att(2, { keyId: 'anthropic:2', status: 529, error: 'overloaded_error', durationMs: 120, waitMs: 920 }),
      att(3, { target: 'anthropic-eu', keyId: 'anthropic-eu', durationMs: 1900.25, waitMs: 1880 }),
    ];
    l.write([
      makeRow({ id: 'r3x', sessionId: 'sx', target: 'anthropic-eu', keyId: 'anthropic-eu', fallback: true, attempts, inputTokens: 100, outputTokens: 50, costPico: 2 * PICO }),
      makeRow({ id: 'r1x', sessionId: 'sx', inputTokens: 10, costPico: 1 * PICO }),
    ]);
    const s = l.getSession('sx')!;
    assert.equal(s.session.requests, 2);
    assert.equal(s.session.billedRequests, 2);
    assert.equal(s.session.errors, 0, 'failed attempts are not errors of the request that succeeded');
    assert.equal(s.session.inputTokens, 110);
    assert.equal(s.session.costUsd, 3);
    const r = s.requests.find((x) => x.id === 'r3x')!;
    assert.deepEqual(r.attempts, attempts);
    assert.equal(r.attemptsMade, 3, 'defaults to the number of attempts listed');
    assert.equal(r.fallback, true);
    assert.equal(s.requests.find((x) => x.id === 'r1x')!.attemptsMade, 1);
    assert.deepEqual(l.report({ by: 'day' }).map((x) => [x.key, x.requests, x.costUsd]), [['2026-03-10', 2, 3]]);
    assert.deepEqual(l.report({ by: 'session' }).map((x) => [x.key, x.requests]), [['sx', 2]]);
    assert.equal(l.totals({ since: T0 - 3_600_000, until: T0 + 3_600_000 }).requests, 2, 'the row-level path counts it once too');
    l.close();
    assert.equal(scalar(path, 'SELECT requests FROM sessions'), 2);
    assert.equal(scalar(path, 'SELECT sum(requests) FROM daily'), 2);
    assert.equal(scalar(path, 'SELECT count(*) FROM attempts'), 3);
    assert.deepEqual(rollupMismatches(path, UTC), []);
  });

  test('attemptsMade may exceed the attempts listed and may be 0, never fall short of them', () => {
    const l = open();
    l.write([makeRow({ id: 'm5', attemptsMade: 5, attempts: [att(4), att(5)] }), makeRow({ id: 'm0', attemptsMade: 0 })]);
    assert.deepEqual(l.getSession('sess-a')!.requests.map((r) => [r.id, r.attemptsMade, r.attempts.map((a) => a.n)]), [['m0', 0, []], ['m5', 5, [4, 5]]]);
    l.close();
  });

  test('a failing attempt insert rolls back its request row, its other attempts and the rollups', () => {
    const path = fresh();
    const l = open(path);
    const side = openDb(path);
    side.exec(`CREATE TRIGGER fail_boom BEFORE INSERT ON attempts WHEN NEW.target = 'boom'
      BEGIN SELECT RAISE(ABORT, 'simulated attempt insert failure'); END`);
    side.close();
    const good = makeRow({ id: 'good', attempts: [att(1)], costPico: 1 * PICO });
    // Its first attempt is stored before the second one fails.
    const bad = makeRow({ id: 'bad', sessionId: 'sess-bad', attempts: [att(1), att(2, { target: 'boom' })], costPico: 5 * PICO });
    assert.throws(() => l.write([good, bad]), /simulated attempt insert failure/);
    for (const t of ['requests', 'attempts', 'sessions', 'daily', 'session_models']) assert.equal(scalar(path, `SELECT count(*) FROM ${t}`), 0, t);

    // Through the queue: the batch fails, the rows are retried one by one, only the bad one is lost.
    l.record(good);
    l.record(bad);
    l.flush();
    const st = l.stats();
    assert.equal(st.inserted, 1);
    assert.equal(st.droppedRows, 1);
    assert.equal(st.writeErrors, 2, 'the batch, then the bad row alone');
    assert.match(st.lastError ?? '', /simulated attempt insert failure/);
    assert.equal(l.getSession('sess-bad'), null);
    assert.equal(l.totals().costUsd, 1);
    l.close();
    const db = openDb(path, true);
    assert.deepEqual(values(db, 'SELECT id FROM requests'), ['good']);
    assert.deepEqual(rows(db, 'SELECT request_id, n FROM attempts'), [{ request_id: 'good', n: 1 }]);
    db.close();
    assert.deepEqual(rollupMismatches(path, UTC), []);
  });

  test('an attempt cannot exist without its request (foreign key)', () => {
    const path = fresh();
    open(path).close();
    const db = openDb(path);
    db.exec('PRAGMA foreign_keys = ON');
    assert.throws(() => db.prepare("INSERT INTO attempts (request_id, n, ts, target) VALUES ('nope', 1, 0, 'anthropic')").run(), /FOREIGN KEY/);
    db.close();
  });

  test('a duplicate request id is ignored together with its attempts, across writes and within a batch', () => {
    const l = open();
    const first = makeRow({ id: 'd1', attempts: [att(1, { status: 529, error: 'overloaded_error' }), att(2)] });
    assert.deepEqual(l.write([first]), { inserted: 1, replaced: 0, ignored: 0, shadowed: 0 });
    const other = [1, 2, 3].map((k) => att(k, { target: 'openrouter', keyId: null }));
    assert.deepEqual(l.write([{ ...first, attempts: other, attemptsMade: 3 }]), { inserted: 0, replaced: 0, ignored: 1, shadowed: 0 });
    assert.deepEqual(l.attemptsFor(['d1']).get('d1'), first.attempts);
    assert.equal(l.getSession('sess-a')!.requests[0]!.attemptsMade, 2);

    const b = makeRow({ id: 'd2', attempts: [att(1, { target: 'anthropic-eu' })] });
    l.record(b);
    l.record({ ...b, attempts: other });
    l.flush();
    assert.equal(l.stats().ignoredDuplicates, 2, 'the write above and this batch');
    assert.deepEqual(l.attemptsFor(['d2']).get('d2'), b.attempts);
    assert.equal(l.totals().requests, 2);
    l.close();
  });

  test('an imported row replaced by a later copy takes that copy\'s attempts', () => {
    const path = fresh();
    const l = open(path);
    const imp = (outputTokens: number, attempts: AttemptRecord[]) => makeRow({
      id: 'import:req_p', source: 'import', callerKind: 'import', status: null, messageId: 'msg_p', outputTokens, costPico: outputTokens, attempts,
    });
    l.write([imp(3, [att(1)])]);
    const later = [att(1, { target: 'x' }), att(2, { target: 'x' })];
    assert.deepEqual(l.write([imp(90, later)]), { inserted: 0, replaced: 1, ignored: 0, shadowed: 0 });
    assert.deepEqual(l.attemptsFor(['import:req_p']).get('import:req_p'), later);
    assert.equal(l.totals().outputTokens, 90);
    l.close();
    assert.deepEqual(rollupMismatches(path, UTC), []);
  });

  test('malformed routing fields and attempts are refused by name, and nothing lands', () => {
    const l = open();
    const cases: [Partial<LedgerRow>, string][] = [
      [{ attempts: [att(1), att(1)] }, 'attempts[1].n'],
      [{ attempts: [att(0)] }, 'attempts[0].n'],
      [{ attempts: [att(1, { target: '' })] }, 'attempts[0].target'],
      [{ attempts: [att(1, { status: Number.NaN })] }, 'attempts[0].status'],
      [{ attempts: [att(1, { keyId: 7 as never })] }, 'attempts[0].keyId'],
      [{ attempts: [att(1), att(2)], attemptsMade: 1 }, 'attemptsMade'],
      [{ attemptsMade: 1.5 }, 'attemptsMade'],
      [{ attempts: 'none' as never }, 'attempts'],
      [{ tags: { team: 7 } as never }, 'tags'],
      [{ tags: ['infra'] as never }, 'tags'],
      [{ features: [1, 2] as never }, 'features'],
      [{ features: { big: 1n } }, 'features'],
      [{ fallback: 'yes' as never }, 'fallback'],
      [{ target: 5 as never }, 'target'],
    ];
    cases.forEach(([over, field], i) => {
      assert.throws(() => l.write([makeRow({ id: `v${i}`, ...over })]), (e: unknown) => e instanceof TypeError && e.message === `ledger row v${i} has invalid ${field}`, field);
    });
    assert.equal(l.totals().requests, 0);
    assert.deepEqual(l.attemptsFor(['v0', 'v5']), new Map([['v0', []], ['v5', []]]));
    l.close();
  });

  test('attemptsFor returns every asked id, attempts ordered by n, in one map', () => {
    const l = open();
    const a2 = att(2, { status: 200, keyId: 'anthropic:2' });
    const a1 = att(1, { status: 429, error: 'rate_limit_error', durationMs: null, waitMs: null });
    l.write([makeRow({ id: 'a', attempts: [a2, a1] }), makeRow({ id: 'b' })]);
    assert.deepEqual(l.attemptsFor(['b', 'a', 'zz']), new Map([['b', []], ['a', [a1, a2]], ['zz', []]]));
    assert.deepEqual(l.attemptsFor([]), new Map());
    assert.throws(() => l.attemptsFor('a' as never), InvalidRequestError);
    assert.throws(() => l.attemptsFor([1] as never), InvalidRequestError);
    l.close();
  });

  test('attemptStats counts outcomes per target and key, with the mean wait', () => {
    const l = open();
    const T1 = Date.UTC(2026, 2, 11, 12);
    const a = (n: number, ts: number, target: string, keyId: string | null, status: number | null, waitMs: number | null) =>
      att(n, { ts, target, keyId, status, waitMs, error: status === null ? 'UND_ERR_SOCKET' : status >= 400 ? `http_${status}` : null });
    l.write([
      makeRow({ id: 's1', target: 'anthropic-eu', fallback: true, attempts: [
        a(1, T0, 'anthropic', 'anthropic', 429, 0), a(2, T0 + 1000, 'anthropic', 'anthropic:2', 529, 500), a(3, T0 + 2000, 'anthropic-eu', 'anthropic-eu', 200, 1500),
      ] }),
      makeRow({ id: 's2', attempts: [a(1, T0 + 10_000, 'anthropic', 'anthropic', 200, 0)] }),
      makeRow({ id: 's3', target: 'openrouter', fallback: true, attempts: [
        a(1, T0 + 20_000, 'anthropic', 'anthropic', null, null), a(2, T0 + 21_000, 'anthropic', 'anthropic', 500, 250),
        a(3, T0 + 22_000, 'anthropic', 'anthropic', 503, 750), a(4, T0 + 23_000, 'anthropic', 'anthropic:2', 400, 0),
        a(5, T0 + 24_000, 'openrouter', null, 201, null),
      ] }),
      makeRow({ id: 's4', tsStart: T1, attempts: [a(1, T1, 'anthropic', 'anthropic', 429, 100)] }),
    ]);
    const row = (target: string, keyId: string | null, attempts: number, successes: number, rateLimited: number, overloaded: number,
      serverErrors: number, clientErrors: number, networkErrors: number, meanWaitMs: number | null) =>
      ({ target, keyId, attempts, successes, rateLimited, overloaded, serverErrors, clientErrors, networkErrors, meanWaitMs });
    assert.deepEqual(l.attemptStats(), [
      // waits 0, 0, 250, 750, 100 (one attempt had none recorded): 1100 / 5
      row('anthropic', 'anthropic', 6, 1, 2, 0, 2, 0, 1, 220),
      row('anthropic', 'anthropic:2', 2, 0, 0, 1, 0, 1, 0, 250),
      row('anthropic-eu', 'anthropic-eu', 1, 1, 0, 0, 0, 0, 0, 1500),
      row('openrouter', null, 1, 1, 0, 0, 0, 0, 0, null),
    ]);
    // From s2's attempt through the end of Mar 10 (UTC): s1 and s4 fall outside.
    assert.deepEqual(l.attemptStats({ since: T0 + 10_000, until: '2026-03-10' }), [
      row('anthropic', 'anthropic', 4, 1, 0, 0, 2, 0, 1, 1000 / 3),
      row('anthropic', 'anthropic:2', 1, 0, 0, 0, 0, 1, 0, 0),
      row('openrouter', null, 1, 1, 0, 0, 0, 0, 0, null),
    ]);
    // Requests are counted once each, whatever their attempts.
    assert.equal(l.totals().requests, 4);
    assert.throws(() => l.attemptStats({ since: 'tuesday' }), InvalidRequestError);
    l.close();
  });
});

describe('routing fields and reports', () => {
  test('tags, features and the other routing fields round trip', () => {
    const path = fresh();
    const l = open(path);
    const tags = { team: 'infra', costCentre: 'cc-42' };
    const features = { promptTokens: 12_000, tools: true, signals: { code: 0.8, files: [1, 2] } };
    l.write([
      makeRow({ id: 'f1', target: 'anthropic-eu', route: 'eu-data', arm: 'B', tags, tier: 'complex', features, redacted: true, fallback: false, attemptsMade: 1 }),
      makeRow({ id: 'f2', tags: {}, features: null, tier: null }),
    ]);
    const [f1, f2] = l.getSession('sess-a')!.requests;
    assert.deepEqual(
      [f1!.target, f1!.route, f1!.arm, f1!.tags, f1!.tier, f1!.features, f1!.redacted, f1!.fallback, f1!.attemptsMade],
      ['anthropic-eu', 'eu-data', 'B', tags, 'complex', features, true, false, 1],
    );
    assert.deepEqual(Object.keys(f1!.tags!), ['team', 'costCentre'], 'key order survives');
    assert.deepEqual([f2!.tags, f2!.features, f2!.tier, f2!.redacted], [{}, null, null, false]);
    l.close();
    assert.equal(scalar(path, "SELECT tags FROM requests WHERE id = 'f1'"), '{"team":"infra","costCentre":"cc-42"}');
    assert.equal(scalar(path, "SELECT json_extract(features, '$.signals.code') FROM requests WHERE id = 'f1'"), 0.8);
  });

  describe('report by target, route, arm and tag', () => {
    let l: Ledger;
    const day2 = Date.UTC(2026, 2, 11, 9);
    before(() => {
      l = open();
      l.write([
        makeRow({ id: 't1', target: 'anthropic', route: 'default', arm: 'A', tags: { team: 'infra', costCentre: 'cc-42' }, costPico: 1 * PICO, messageId: 'msg_t1',
          attempts: [att(1, { status: 529 }), att(2, { status: 529 }), att(3)] }),
        makeRow({ id: 't2', target: 'anthropic-eu', route: 'eu-data', arm: 'B', tags: { team: 'infra' }, costPico: 2 * PICO }),
        makeRow({ id: 't3', target: 'openrouter', route: 'default', arm: 'A', tags: { team: 'web', 'a.b': 'dotted' }, costPico: 4 * PICO }),
        makeRow({ id: 't4', target: 'anthropic', costPico: 0.5 * PICO }),
        makeRow({ id: 't5', target: 'anthropic', route: 'default', arm: 'B', tags: { team: 'web' }, status: 529, errorType: 'overloaded_error', billed: false, costPico: 0 }),
        makeRow({ id: 't6', tsStart: day2, costPico: 0.25 * PICO }),
      ]);
      // A transcript copy of t1's response: stored uncounted, so it must not show up under ''.
      assert.equal(l.write([makeRow({ id: 'import:t1', source: 'import', callerKind: 'import', messageId: 'msg_t1', costPico: 1 * PICO })]).shadowed, 1);
    });
    after(() => l.close());

    const rows = (by: 'target' | 'route' | 'arm' | 'tag', extra: { tagKey?: string; since?: string; limit?: number } = {}) =>
      l.report({ by, ...extra }).map((r) => [r.key, r.requests, r.errors, r.costUsd]);

    test('by target: one row per target, \'\' for rows without one, most expensive first', () => {
      assert.deepEqual(rows('target'), [['openrouter', 1, 0, 4], ['anthropic-eu', 1, 0, 2], ['anthropic', 3, 1, 1.5], ['', 1, 0, 0.25]]);
      assert.deepEqual(rows('target', { limit: 2 }), [['openrouter', 1, 0, 4], ['anthropic-eu', 1, 0, 2]]);
      assert.deepEqual(rows('target', { since: '2026-03-11' }), [['', 1, 0, 0.25]]);
    });

    test('by route and by arm', () => {
      assert.deepEqual(rows('route'), [['default', 3, 1, 5], ['eu-data', 1, 0, 2], ['', 2, 0, 0.75]]);
      assert.deepEqual(rows('arm'), [['A', 2, 0, 5], ['B', 2, 1, 2], ['', 2, 0, 0.75]]);
    });

    test('by tag: the named tag\'s values, \'\' for untagged, keys with dots included', () => {
      assert.deepEqual(rows('tag', { tagKey: 'team' }), [['web', 2, 1, 4], ['infra', 2, 0, 3], ['', 2, 0, 0.75]]);
      assert.deepEqual(rows('tag', { tagKey: 'costCentre' }), [['', 5, 1, 6.75], ['cc-42', 1, 0, 1]]);
      assert.deepEqual(rows('tag', { tagKey: 'a.b' }), [['dotted', 1, 0, 4], ['', 5, 1, 3.75]]);
      assert.deepEqual(rows('tag', { tagKey: 'team', since: '2026-03-11' }), [['', 1, 0, 0.25]]);
      assert.deepEqual(rows('tag', { tagKey: 'nobody-uses-this' }), [['', 6, 1, 7.75]]);
    });

    test('a tag report needs a usable tagKey', () => {
      assert.throws(() => l.report({ by: 'tag' }), InvalidRequestError);
      assert.throws(() => l.report({ by: 'tag', tagKey: '' }), InvalidRequestError);
      assert.throws(() => l.report({ by: 'tag', tagKey: 'a"b' }), InvalidRequestError);
      assert.throws(() => l.report({ by: 'week' as never }), (e: unknown) => e instanceof InvalidRequestError && /target, route, arm or tag/.test(e.message));
    });
  });
});

describe('requestsInRange', () => {
  let l: Ledger;
  const h = (hour: number, day = 10) => Date.UTC(2026, 2, day, hour);
  const e4Attempts = [att(1, { status: 429 }), att(2)];
  before(() => {
    l = open();
    l.write([
      makeRow({ id: 'e0', tsStart: h(23, 9) }),
      makeRow({ id: 'e1', tsStart: h(9) }),
      makeRow({ id: 'e3', tsStart: h(10) }),
      makeRow({ id: 'e2', tsStart: h(10) }),
      makeRow({ id: 'e4', tsStart: h(11), messageId: 'msg_e4', target: 'anthropic', tags: { team: 'infra' }, attempts: e4Attempts }),
      makeRow({ id: 'e6', tsStart: h(0, 11) }),
    ]);
    l.write([makeRow({ id: 'import:e5', tsStart: h(12), source: 'import', callerKind: 'import', messageId: 'msg_e4' })]);
  });
  after(() => l.close());

  const ids = (p: { requests: { id: string }[] }) => p.requests.map((r) => r.id);

  test('pages by (tsStart, id) with a cursor until the range is exhausted', () => {
    const range = { since: '2026-03-10', until: '2026-03-10', limit: 2 };
    const p1 = l.requestsInRange(range);
    assert.deepEqual([ids(p1), p1.nextAfterId], [['e1', 'e2'], 'e2']);
    const p2 = l.requestsInRange({ ...range, afterId: p1.nextAfterId! });
    assert.deepEqual([ids(p2), p2.nextAfterId], [['e3', 'e4'], 'e4']);
    const p3 = l.requestsInRange({ ...range, afterId: p2.nextAfterId! });
    assert.deepEqual([ids(p3), p3.nextAfterId], [['import:e5'], null]);
    // A page that ends exactly at the last row says so.
    const all = l.requestsInRange({ since: '2026-03-10', until: '2026-03-10', limit: 5 });
    assert.deepEqual([ids(all), all.nextAfterId], [['e1', 'e2', 'e3', 'e4', 'import:e5'], null]);
    assert.deepEqual(ids(l.requestsInRange()), ['e0', 'e1', 'e2', 'e3', 'e4', 'import:e5', 'e6']);
    assert.deepEqual(ids(l.requestsInRange({ since: h(10), until: h(11) })), ['e2', 'e3']);
  });

  test('returns full records: attempts, parsed tags, v2 defaults, uncounted rows flagged', () => {
    const [e4, e5] = l.requestsInRange({ since: h(11) }).requests;
    assert.equal(e4!.id, 'e4');
    assert.deepEqual(e4!.attempts, e4Attempts);
    assert.equal(e4!.attemptsMade, 2);
    assert.deepEqual(e4!.tags, { team: 'infra' });
    assert.equal(e4!.counted, true);
    assert.equal(e5!.counted, false);
    const e1 = l.requestsInRange({ limit: 2 }).requests[1]!;
    assert.deepEqual(
      { target: e1.target, attemptsMade: e1.attemptsMade, fallback: e1.fallback, route: e1.route, arm: e1.arm, tags: e1.tags, tier: e1.tier, features: e1.features, redacted: e1.redacted, attempts: e1.attempts },
      { target: null, attemptsMade: 1, fallback: false, route: null, arm: null, tags: null, tier: null, features: null, redacted: false, attempts: [] },
    );
  });

  test('an unknown cursor or a bad limit is an invalid request', () => {
    assert.throws(() => l.requestsInRange({ afterId: 'nope' }), InvalidRequestError);
    assert.throws(() => l.requestsInRange({ limit: 0 }), InvalidRequestError);
    assert.throws(() => l.requestsInRange({ limit: 100_001 }), InvalidRequestError);
  });
});
