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
import { migrate } from './schema.js';
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
  /** Flushes and closes the database; later `record` calls are dropped and counted. */
  close(): void;
  readonly path: string;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Lock contention: the rows are fine, a later flush can write them. */
function isBusy(err: unknown): boolean {
  // node:sqlite puts SQLite's extended result code in `errcode`; its low byte is the primary
  // code: SQLITE_BUSY (5) or SQLITE_LOCKED (6), with any of their extended variants.
  const code = (err as { errcode?: unknown })?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
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
  const maxQueued = batchMax * 20;

  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = openDatabase(path, { wal: true, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 });
  let writer: ReturnType<typeof createWriter>;
  let queries: Queries;
  try {
    migrate(db, path);
    writer = createWriter(db, tz);
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

  const account = (r: WriteResult) => {
    stats.inserted += r.inserted;
    stats.ignoredDuplicates += r.ignored;
  };

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length === 0 || closed) return;
    const batch = queue;
    queue = [];
    const before = stats.inserted;
    try {
      account(writer.write(batch));
    } catch (err) {
      noteError(err);
      if (isBusy(err)) {
        // Put them back in order; retry with the next flush.
        queue = batch.concat(queue);
        if (queue.length > maxQueued) {
          stats.droppedRows += queue.length - maxQueued;
          queue = queue.slice(queue.length - maxQueued);
        }
        schedule();
      } else {
        // A bad row (or a full disk) must not take its batch with it: write the rest one by one.
        for (const row of batch) {
          try {
            account(writer.write([row]));
          } catch (e) {
            noteError(e);
            stats.droppedRows++;
          }
        }
      }
    }
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

  const record = (row: LedgerRow): void => {
    if (closed) {
      stats.droppedRows++;
      stats.lastError = 'ledger is closed';
      return;
    }
    queue.push(row);
    stats.queued = queue.length;
    if (queue.length >= batchMax) flush();
    else schedule();
  };

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
    close,
    path,
  };
}
