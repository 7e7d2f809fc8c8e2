// The usage ledger: one SQLite file holding a row per request plus rollups kept in the same
// transactions. Owns batching, crash safety and error containment; must not import the
// pipeline, express or the meter.
//
// Crash bound: rows reach SQLite in batches, one transaction per batch (rows + rollups). A
// crash or kill -9 loses at most the rows still queued in memory, i.e. those recorded within
// the last `batchMs` (default 100 ms) or fewer than `batchMax` rows; a committed batch is whole
// (WAL with synchronous = NORMAL keeps it through a process crash; only a power loss can also
// roll back the last few committed transactions, never tear one).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemTzOffset, type TzOffset } from './dates.js';
import { createQueries, type Queries } from './queries.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { openDatabase } from './sqlite.js';
import { createWriter } from './writer.js';
import type { LedgerRow, LedgerStats, WriteResult } from './types.js';

export interface FlushInfo {
  rows: number;
  inserted: number;
  /** Rows inserted since open. */
  totalInserted: number;
}

export interface LedgerOptions {
  /** Longest a recorded row waits in memory. Default 100 ms. */
  batchMs?: number;
  /** Queue length that triggers a flush at once. Default 500. */
  batchMax?: number;
  now?: () => number;
  /** Zone for the `daily` rollup's local days; default the machine's. */
  tzOffsetMinutes?: TzOffset;
  /** Called after each flush that wrote something (metrics, tests). Must not throw; errors are swallowed. */
  onFlush?: (info: FlushInfo) => void;
  /** SQLite busy_timeout in ms (another process holding the write lock). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Rows held in memory while the disk refuses writes (full, read-only, locked, I/O error).
   * Past it the oldest are dropped and counted. Default 20 x batchMax (10,000 rows, a few MB).
   */
  spoolMax?: number;
  /** Wait between retries of a write the disk refused. Default 1000 ms. */
  retryMs?: number;
  /**
   * Called when writing starts failing for a storage reason and again when it recovers: the
   * gateway logs one line for each and shows the state in /health. Must not throw.
   */
  onStorageState?: (state: LedgerStorageState) => void;
  /** Test seam: runs inside each write transaction before the rows; a throw fails that write. */
  beforeWrite?: () => void;
}

/** Whether the ledger can write, and what waits in memory when it cannot. */
export interface LedgerStorageState {
  ok: boolean;
  path: string;
  /** Rows held in memory, waiting to be written. */
  pending: number;
  /** Rows dropped since open because the spool was full (or the ledger closed with rows held). */
  dropped: number;
  /** When writes started failing (ms epoch); null when ok. */
  failingSince: number | null;
  /** The storage error, as SQLite gave it; null when ok. */
  error: string | null;
  /** On recovery: rows written from the spool since the failure began. */
  recovered?: number;
}

export interface Ledger extends Queries {
  /** Queues a row; never throws. Failures show up in `stats()`. */
  record(row: LedgerRow): void;
  /** Writes the queue now, synchronously (SIGTERM handlers, tests). Never throws. */
  flush(): void;
  /**
   * Writes rows at once in one transaction, bypassing the queue, and says what happened to
   * them (the importer needs the counts). Throws on a database error.
   */
  write(rows: readonly LedgerRow[]): WriteResult;
  stats(): LedgerStats;
  /**
   * Names a live session's project if it has none, through this ledger's one connection (queued
   * rows are written first). Never throws; false when not stored now (remembered for its first row).
   */
  setSessionProject(sessionId: string, project: string): boolean;
  /** Whether writes are reaching the disk, and what is held in memory meanwhile. */
  storage(): LedgerStorageState;
  /** Flushes and closes the database; later `record` calls are dropped and counted. */
  close(): void;
  readonly path: string;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// SQLite primary result codes (the low byte of node:sqlite's extended `errcode`) that say the
// storage refused the write, not the row: BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10,
// FULL 13, CANTOPEN 14, PROTOCOL 15. The rows are fine; a later write can store them.
const STORAGE_CODES = new Set([5, 6, 7, 8, 10, 13, 14, 15]);

/** The disk or the lock refused the write: keep the rows and retry. */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { errcode?: unknown })?.errcode;
  return typeof code === 'number' && STORAGE_CODES.has(code & 0xff);
}

/**
 * Opens (creating and migrating as needed) the ledger at `path`. Throws LedgerVersionError when
 * the file was written by a newer schema, and node:sqlite's errors when it cannot be opened.
 *
 * @example
 * const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
 * ledger.record(rowFromReport(ctx, report, priceBook));
 * process.on('SIGTERM', () => ledger.close());
 */
export function openLedger(path: string, opts: LedgerOptions = {}): Ledger {
  const batchMs = opts.batchMs ?? 100;
  const batchMax = opts.batchMax ?? 500;
  if (!(batchMs >= 0) || !Number.isInteger(batchMax) || batchMax < 1) throw new RangeError('batchMs must be >= 0 and batchMax a positive integer');
  const now = opts.now ?? Date.now;
  const tz = opts.tzOffsetMinutes ?? systemTzOffset;
  // Lock contention keeps rows for the next flush; beyond this many they are dropped (counted)
  // so a wedged database cannot grow the gateway's memory without bound.
  const maxQueued = opts.spoolMax ?? batchMax * 20;
  const retryMs = opts.retryMs ?? 1000;
  if (!Number.isInteger(maxQueued) || maxQueued < 1 || !(retryMs >= 0)) throw new RangeError('spoolMax must be a positive integer and retryMs >= 0');

  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = openDatabase(path, { wal: true, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 });
  let writer: ReturnType<typeof createWriter>;
  let queries: Queries;
  try {
    migrate(db, path);
    const inner = createWriter(db, tz);
    writer = opts.beforeWrite === undefined ? inner : {
      write: (rows) => {
        opts.beforeWrite!();
        return inner.write(rows);
      },
      setSessionProject: (id, project) => inner.setSessionProject(id, project),
    };
    queries = createQueries(db, tz);
  } catch (err) {
    db.close();
    throw err;
  }

  let queue: LedgerRow[] = [];
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const stats: LedgerStats = {
    queued: 0, inserted: 0, ignoredDuplicates: 0, flushes: 0, writeErrors: 0, droppedRows: 0, lastError: null, lastFlushAt: null,
  };

  const noteError = (err: unknown) => {
    stats.writeErrors++;
    stats.lastError = messageOf(err);
  };

  // Storage state: failing from the first refused write until a write succeeds again.
  let failingSince: number | null = null;
  let failingError: string | null = null;
  let insertedAtFailure = 0;
  /**
   * One tiny write transaction (the schema version rewritten unchanged): a file SQLite could
   * only open read-only, or a read-only or full disk, fails it with the same error a row would.
   */
  const probe = () => {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(`PRAGMA user_version = ${Math.trunc(SCHEMA_VERSION)}`);
      db.exec('COMMIT');
    } catch (err) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // Already rolled back by SQLite.
      }
      throw err;
    }
  };
  const storageState = (): LedgerStorageState => ({
    ok: failingSince === null, path, pending: queue.length, dropped: stats.droppedRows, failingSince, error: failingError,
  });
  const tell = (st: LedgerStorageState) => {
    try {
      opts.onStorageState?.(st);
    } catch {
      // A logging hook must not break recording.
    }
  };
  /** The disk refused `rows`: hold them (oldest dropped past the bound) and retry later. */
  const spool = (rows: LedgerRow[], err: unknown) => {
    queue = rows.concat(queue);
    if (queue.length > maxQueued) {
      stats.droppedRows += queue.length - maxQueued;
      queue = queue.slice(queue.length - maxQueued);
    }
    if (failingSince === null) {
      failingSince = now();
      failingError = messageOf(err);
      insertedAtFailure = stats.inserted;
      tell(storageState());
    }
    failingError = messageOf(err);
  };
  const wrote = () => {
    if (failingSince === null) return;
    failingSince = null;
    failingError = null;
    tell({ ...storageState(), recovered: stats.inserted - insertedAtFailure });
  };

  const account = (r: WriteResult) => {
    stats.inserted += r.inserted;
    stats.ignoredDuplicates += r.ignored;
  };

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (closed) return;
    if (queue.length === 0) {
      // Nothing to write, but the disk was refusing: see whether it takes a write again.
      if (failingSince !== null) {
        try {
          probe();
          wrote();
        } catch (err) {
          if (isStorageFailure(err)) scheduleRetry();
        }
      }
      return;
    }
    const batch = queue;
    queue = [];
    const before = stats.inserted;
    try {
      account(writer.write(batch));
      wrote();
    } catch (err) {
      noteError(err);
      if (isStorageFailure(err)) {
        // Full, read-only, locked, I/O error: the transaction rolled back whole, so the rows go
        // back in order ahead of newer ones and are retried; nothing is written twice.
        spool(batch, err);
      } else {
        // A bad row must not take its batch with it: write the rest one by one.
        for (let i = 0; i < batch.length; i++) {
          try {
            account(writer.write([batch[i]!]));
            wrote();
          } catch (e) {
            noteError(e);
            if (isStorageFailure(e)) {
              spool(batch.slice(i), e);
              break;
            }
            stats.droppedRows++;
          }
        }
      }
    }
    if (failingSince !== null) scheduleRetry();
    stats.flushes++;
    stats.lastFlushAt = now();
    stats.queued = queue.length;
    const inserted = stats.inserted - before;
    if (opts.onFlush && batch.length > 0) {
      try {
        opts.onFlush({ rows: batch.length, inserted, totalInserted: stats.inserted });
      } catch {
        // A metrics hook must not break recording.
      }
    }
  };

  function schedule(): void {
    if (timer !== null || closed) return;
    timer = setTimeout(flush, batchMs);
    // The ledger never keeps a process alive on its own; shutdown paths call close().
    timer.unref();
  }

  function scheduleRetry(): void {
    if (closed) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(flush, retryMs);
    timer.unref();
  }

  const record = (row: LedgerRow): void => {
    if (closed) {
      stats.droppedRows++;
      stats.lastError = 'ledger is closed';
      return;
    }
    queue.push(row);
    if (failingSince !== null) {
      // The disk is refusing writes: hold the row for the retry timer rather than hit the disk
      // on every request; past the bound the oldest go (counted).
      if (queue.length > maxQueued) {
        stats.droppedRows += queue.length - maxQueued;
        queue = queue.slice(queue.length - maxQueued);
      }
      stats.queued = queue.length;
      return;
    }
    stats.queued = queue.length;
    if (queue.length >= batchMax) flush();
    else schedule();
  };

  // Say at once when the ledger cannot write (a read-only data dir), not at the first request.
  if (path !== ':memory:') {
    try {
      probe();
    } catch (err) {
      if (!isStorageFailure(err)) {
        db.close();
        throw err;
      }
      noteError(err);
      failingSince = now();
      failingError = messageOf(err);
      tell(storageState());
      scheduleRetry();
    }
  }

  const close = (): void => {
    if (closed) return;
    flush();
    closed = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (queue.length > 0) {
      stats.droppedRows += queue.length;
      queue = [];
    }
    db.close();
  };

  return {
    ...queries,
    record,
    flush,
    write: (rows) => {
      const r = writer.write(rows);
      account(r);
      return r;
    },
    stats: () => ({ ...stats, queued: queue.length }),
    setSessionProject(sessionId, project) {
      try {
        flush();
        return writer.setSessionProject(sessionId, project);
      } catch {
        return false;
      }
    },
    storage: storageState,
    close,
    path,
  };
}
