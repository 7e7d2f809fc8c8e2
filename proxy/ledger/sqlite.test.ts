// The node:sqlite adapter on real files: owner-only modes, WAL, pragmas, transactions that
// commit, roll back and nest, and SQLite's own codes on a held write lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { column, openDatabase, pragma, prepareNamed, scalar, transaction } from './sqlite.js';

const withDir = (fn: (dir: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('a new database file and its WAL are owner-only, whatever the umask', { skip: process.platform === 'win32' }, () => withDir((dir) => {
  const old = process.umask(0o022);
  try {
    const path = join(dir, 'ledger.sqlite');
    const db = openDatabase(path, { wal: true });
    db.exec('CREATE TABLE t (a)');
    db.exec("INSERT INTO t VALUES ('x')");
    assert.equal(pragma(db, 'journal_mode'), 'wal');
    for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    db.close();
    // Opening an existing file leaves its contents alone.
    const again = openDatabase(path);
    assert.equal(scalar(again.prepare('SELECT a FROM t')), 'x');
    again.close();
  } finally {
    process.umask(old);
  }
}));

test('transactions commit, roll back on throw, and nest as savepoints', () => {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE t (a INTEGER)');
  const all = () => column<number>(db.prepare('SELECT a FROM t ORDER BY a'));
  assert.equal(transaction(db, () => { db.exec('INSERT INTO t VALUES (1)'); return 'done'; }), 'done');
  assert.throws(() => transaction(db, () => { db.exec('INSERT INTO t VALUES (2)'); throw new Error('boom'); }), /boom/);
  assert.deepEqual(all(), [1]);
  assert.equal(db.isTransaction, false);
  transaction(db, () => {
    db.exec('INSERT INTO t VALUES (3)');
    assert.throws(() => transaction(db, () => { db.exec('INSERT INTO t VALUES (4)'); throw new Error('inner'); }));
    transaction(db, () => db.exec('INSERT INTO t VALUES (5)'));
  }, 'immediate');
  assert.deepEqual(all(), [1, 3, 5], 'the failed inner savepoint alone was undone');
  db.close();
});

test('column and scalar read column 0 and leave the statement returning objects', () => {
  const db = openDatabase(':memory:');
  db.exec("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 'x'), (2, 'y')");
  const st = db.prepare('SELECT b, a FROM t WHERE a >= ? ORDER BY a');
  assert.deepEqual(column(st, 1), ['x', 'y']);
  assert.equal(scalar(st, 2), 'y');
  assert.equal(scalar(st, 3), undefined);
  assert.deepEqual({ ...st.get(1) }, { b: 'x', a: 1 });
  db.close();
});

test('a write lock held elsewhere surfaces as SQLITE_BUSY (errcode 5) after busy_timeout', () => withDir((dir) => {
  const path = join(dir, 'l.sqlite');
  const a = openDatabase(path, { wal: true });
  a.exec('CREATE TABLE t (a)');
  a.exec('BEGIN IMMEDIATE');
  const b = openDatabase(path, { wal: true, busyTimeoutMs: 10 });
  assert.throws(() => transaction(b, () => b.exec('INSERT INTO t VALUES (1)'), 'immediate'), (e: { errcode?: number }) => e.errcode === 5);
  assert.equal(b.isTransaction, false);
  a.exec('ROLLBACK');
  a.close();
  b.close();
}));

test('prepareNamed binds @names by position: a repeated name takes its value at every use, a missing one binds NULL', () => withDir((dir) => {
  const db = openDatabase(join(dir, 'n.sqlite'));
  db.exec('CREATE TABLE t (a, b, c, d)');
  const insert = prepareNamed(db, 'INSERT INTO t (a, b, c, d) VALUES (@x, @y, @x, @missing)');
  insert.run({ x: 1, y: 'two' });
  insert.run({ y: null, x: 3n, extra: 'ignored' });
  assert.deepEqual(db.prepare('SELECT a, b, c, d FROM t ORDER BY rowid').all().map((r) => ({ ...r })), [
    { a: 1, b: 'two', c: 1, d: null },
    { a: 3, b: null, c: 3, d: null },
  ]);
  // An upsert that names a column in both the VALUES and the UPDATE parts.
  db.exec('CREATE TABLE s (k PRIMARY KEY, n)');
  const upsert = prepareNamed(db, 'INSERT INTO s (k, n) VALUES (@k, @n) ON CONFLICT (k) DO UPDATE SET n = n + @n');
  upsert.run({ k: 'a', n: 2 });
  upsert.run({ k: 'a', n: 5 });
  assert.equal(db.prepare('SELECT n FROM s').get()!.n, 7);
  db.close();
}));
