// The one place Sluice opens SQLite: Node's built-in `node:sqlite` (no native addon, so the
// same code runs in plain Node and in Electron's main process, whatever their ABI). Owns
// opening with the pragmas every Sluice database shares, pragma reads and transactions;
// must not import anything of the ledger's.
import { closeSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';

export type Db = DatabaseSync;
export type Statement = StatementSync;
/** One bound value. */
export type Param = SQLInputValue;
/** Named parameters: an object whose keys are the statement's `@name`s, without the `@`. */
export type NamedParams = Record<string, SQLInputValue>;

export interface OpenOptions {
  readonly?: boolean;
  /** SQLite busy_timeout in ms: how long to wait for another process's write lock. */
  busyTimeoutMs?: number;
  /** Write-ahead log with synchronous = NORMAL (the ledger's crash bound relies on it). */
  wal?: boolean;
}

/**
 * Opens `path` (':memory:' works). Foreign keys are on, as the ledger's schema expects;
 * double-quoted string literals are off, so a typo'd identifier is an error, not a string.
 *
 * @example
 * const db = openDatabase(join(dir, 'ledger.sqlite'), { wal: true });
 * db.prepare('SELECT 1').get();
 */
export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  // A new file is created owner-only before SQLite opens it (SQLite gives -wal and -shm the
  // database file's mode), so spend and session history are never readable by other local
  // users, even for the moment before the gateway's data-dir check runs. 'wx' creates only: an
  // existing file is left alone (and a read-only filesystem then gets SQLite's own read-only
  // open, which the ledger reports, rather than EROFS here).
  if (!opts.readonly && path !== ':memory:' && !path.startsWith('file:')) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const db = new DatabaseSync(path, {
    readOnly: opts.readonly ?? false,
    enableForeignKeyConstraints: true,
    enableDoubleQuotedStringLiterals: false,
    timeout: Math.trunc(opts.busyTimeoutMs ?? 5000),
  });
  try {
    if (opts.wal && !opts.readonly) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export interface NamedStatement {
  /** `params`: an object whose keys are the SQL's parameter names, without the `@`. */
  run(params: object): { changes: number | bigint; lastInsertRowid: number | bigint };
}

/**
 * Prepares SQL written with `@name` parameters, bound by position. node:sqlite looks every
 * named parameter up by name on each call, which for a 50-column row costs about 15x a
 * positional bind (23k vs 336k inserts/s measured on Node 24); so the names are turned into
 * anonymous `?` parameters here, once, and each call passes the values in that order. A name missing from `params` binds NULL, as node:sqlite's own named
 * binding does. The SQL must hold no `@` outside parameter names (no string literal with one).
 */
export function prepareNamed(db: Db, sql: string): NamedStatement {
  // Plain `?` (a repeated name takes one slot per use): SQLite names a `?NNN` parameter "?NNN",
  // and node:sqlite asks for each positional slot's name, a linear walk of the statement's
  // parameter list, so numbered parameters cost O(n^2) per call (6 % of a 50-column insert).
  const names: string[] = [];
  const positional = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    names.push(name);
    return '?';
  });
  const stmt = db.prepare(positional);
  // One compiled reader per statement: `p.name` loads in a fixed order stay monomorphic, where a
  // loop of `p[names[i]]` is a megamorphic keyed load per parameter. The names are identifiers
  // (the regex above), so the generated source holds nothing but them.
  const bind = new Function('stmt', 'p', `return stmt.run(${names.map((n) => `p.${n} ?? null`).join(', ')});`) as
    (stmt: StatementSync, p: Record<string, unknown>) => ReturnType<StatementSync['run']>;
  return { run: (params) => bind(stmt, params as Record<string, unknown>) };
}

/** The value of a single-valued pragma (`user_version`, `journal_mode`, `integrity_check`). */
export function pragma(db: Db, name: string): unknown {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  if (row === undefined) return undefined;
  for (const k in row) return row[k];
  return undefined;
}

/** Column 0 of every row: `SELECT id FROM requests` as a plain array. */
export function column<T = unknown>(stmt: Statement, ...params: Param[]): T[] {
  stmt.setReturnArrays(true);
  try {
    return (stmt.all(...params) as unknown as unknown[][]).map((r) => r[0] as T);
  } finally {
    stmt.setReturnArrays(false);
  }
}

/** Column 0 of the first row, or undefined. */
export function scalar<T = unknown>(stmt: Statement, ...params: Param[]): T | undefined {
  stmt.setReturnArrays(true);
  try {
    const row = stmt.get(...params) as unknown as unknown[] | undefined;
    return row === undefined ? undefined : (row[0] as T);
  } finally {
    stmt.setReturnArrays(false);
  }
}

let savepoints = 0;

/**
 * Runs `fn` in a transaction: committed when it returns, rolled back when it throws. Inside
 * another transaction it nests as a savepoint. `immediate` takes the write lock up front, so a
 * read-then-write inside cannot fail half way on another process's lock (SQLITE_BUSY is
 * raised, or waited out, at BEGIN instead).
 */
export function transaction<T>(db: Db, fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
  if (db.isTransaction) {
    const name = `sluice_sp_${++savepoints}`;
    db.exec(`SAVEPOINT ${name}`);
    try {
      const out = fn();
      db.exec(`RELEASE ${name}`);
      return out;
    } catch (err) {
      db.exec(`ROLLBACK TO ${name}`);
      db.exec(`RELEASE ${name}`);
      throw err;
    }
  }
  db.exec(mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    // A failed COMMIT or an error SQLite already rolled back leaves no transaction open.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
