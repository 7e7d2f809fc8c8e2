// Nothing lost silently: when the disk refuses writes (full, read-only, locked, I/O error) the
// ledger holds its rows in a bounded spool, retries them in order, says so once, and recovers
// on its own. The refusal is injected with SQLite's own error shape (errcode 13, SQLITE_FULL),
// the portable stand-in for a filled tmpfs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger, isStorageFailure, type LedgerStorageState } from './ledger.js';
import { makeRow } from './fixtures/rows.js';
import { rollupMismatches } from './fixtures/check-rollups.js';
import { openDb, values } from './fixtures/sql.js';
import { until } from '../../test/helpers.js';

const UTC = () => 0;
let dir: string;
let n = 0;
before(() => { dir = mkdtempSync(join(tmpdir(), 'sluice-spool-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 });

test('SQLite storage refusals are told apart from bad rows', () => {
  assert.equal(isStorageFailure(diskFull()), true);
  assert.equal(isStorageFailure({ errcode: 8 }), true, 'SQLITE_READONLY');
  assert.equal(isStorageFailure({ errcode: 266 }), true, 'SQLITE_IOERR_READ (extended)');
  assert.equal(isStorageFailure({ errcode: 5 }), true, 'SQLITE_BUSY');
  assert.equal(isStorageFailure({ errcode: 19 }), false, 'SQLITE_CONSTRAINT is the row');
  assert.equal(isStorageFailure(new TypeError('ledger row x has invalid tsStart')), false);
});

test('a full disk mid-traffic: rows are held, the state is reported once, and all of them land when it clears', async () => {
  const path = join(dir, `l${n++}`, 'ledger.sqlite');
  let full = false;
  const states: LedgerStorageState[] = [];
  const l = openLedger(path, {
    tzOffsetMinutes: UTC, batchMs: 5, batchMax: 10, retryMs: 10, spoolMax: 1000,
    beforeWrite: () => { if (full) throw diskFull(); },
    onStorageState: (s) => states.push(s),
  });
  try {
    const ids: string[] = [];
    const send = (k: number) => {
      for (let i = 0; i < k; i++) {
        const id = `r${ids.length}`;
        ids.push(id);
        l.record(makeRow({ id, sessionId: 's', costPico: 1_000_000 }));
      }
    };
    send(25);
    l.flush();
    full = true;
    send(300);
    l.flush();
    assert.equal(states.length, 1, 'one report when writes start failing');
    assert.equal(states[0]!.ok, false);
    assert.match(states[0]!.error ?? '', /disk is full/);
    const st = l.storage();
    assert.equal(st.ok, false);
    assert.equal(st.pending, 300, 'every refused row is held');
    assert.equal(st.dropped, 0);
    assert.ok(st.failingSince !== null);
    send(100);
    assert.equal(l.storage().pending, 400);
    assert.equal(states.length, 1, 'no report per row or per retry');

    full = false; // space freed
    await until(() => l.storage().ok, 'the retry timer writes the held rows');
    assert.equal(states.length, 2);
    assert.equal(states[1]!.ok, true);
    assert.equal(states[1]!.recovered, 400);
    assert.equal(l.storage().pending, 0);
    assert.equal(l.totals().requests, 425, 'no row lost, none twice');
    assert.equal(l.totals().costUsd, 425 * 1e-6);
    assert.equal(l.stats().droppedRows, 0);
    const db = openDb(path, true);
    try {
      // In the order they were recorded (rowid order follows insertion).
      assert.deepEqual(values(db, 'SELECT id FROM requests ORDER BY rowid'), ids);
    } finally {
      db.close();
    }
    assert.deepEqual(rollupMismatches(path, UTC), []);
  } finally {
    l.close();
  }
});

test('past the spool bound the oldest held rows are dropped and counted, never silently', () => {
  const path = join(dir, `l${n++}`, 'ledger.sqlite');
  let full = true;
  const l = openLedger(path, { tzOffsetMinutes: UTC, batchMs: 60_000, batchMax: 10, retryMs: 60_000, spoolMax: 50, beforeWrite: () => { if (full) throw diskFull(); } });
  try {
    for (let i = 0; i < 10; i++) l.record(makeRow({ id: `a${i}` }));
    for (let i = 0; i < 70; i++) l.record(makeRow({ id: `b${i}` }));
    const st = l.storage();
    assert.equal(st.pending, 50);
    assert.equal(st.dropped, 30);
    assert.equal(l.stats().droppedRows, 30);
    full = false;
    l.flush();
    assert.equal(l.storage().ok, true);
    assert.equal(l.totals().requests, 50);
    const db = openDb(path, true);
    try {
      assert.deepEqual(values(db, 'SELECT id FROM requests ORDER BY rowid'), Array.from({ length: 50 }, (_, i) => `b${i + 20}`), 'the newest 50 kept, in order');
    } finally {
      db.close();
    }
  } finally {
    l.close();
  }
});
