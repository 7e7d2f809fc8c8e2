// Replication of this machine's ledger to the team database. The outbox is the ledger itself:
// gateway rows are immutable once committed and SQLite hands them increasing rowids, so "rows
// not yet in PostgreSQL" is exactly `rowid > cursor`, and a row is in the outbox the moment its
// ledger transaction commits (no second write that a crash could separate from it). A batch is
// inserted with ON CONFLICT DO NOTHING in one PostgreSQL transaction and only then does the cursor
// (team.sqlite) move: a crash in between re-sends the batch, which changes nothing. Runs off the
// request path (timer + ledger flush events); failures back off exponentially with jitter.
// Imported rows (Claude Code transcripts) stay local: they can be replaced or un-counted after
// the fact, and the team view is what passed through the members' gateways.
// Imports the SQLite adapter and `pg` types only.
import type { Pool } from 'pg';
import { openDatabase, type Db, type Statement } from '../ledger/sqlite.js';
import type { TeamStore } from './local-store.js';

const COLUMNS = [
  'id', 'ts_start', 'ts_end', 'session_id', 'tool', 'caller_kind', 'client_family', 'endpoint',
  'requested_model', 'served_model', 'provider', 'status', 'error_type', 'stream',
  'input_tokens', 'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens',
  'web_search_requests', 'cost_pico', 'billed', 'complete', 'counted', 'project',
] as const;
const PG_TYPES: Record<(typeof COLUMNS)[number], string> = {
  id: 'text', ts_start: 'bigint', ts_end: 'bigint', session_id: 'text', tool: 'text', caller_kind: 'text', client_family: 'text',
  endpoint: 'text', requested_model: 'text', served_model: 'text', provider: 'text', status: 'integer', error_type: 'text',
  stream: 'boolean', input_tokens: 'bigint', output_tokens: 'bigint', cache_write_5m_tokens: 'bigint', cache_write_1h_tokens: 'bigint',
  cache_read_tokens: 'bigint', web_search_requests: 'bigint', cost_pico: 'bigint', billed: 'boolean', complete: 'boolean',
  counted: 'boolean', project: 'text',
};
const BOOLS = new Set(['stream', 'billed', 'complete', 'counted']);

/** What replicates: gateway rows (immutable once written; see the header). */
export const REPLICATED_WHERE = "source = 'gateway'";

export interface ReplicatorOptions {
  ledgerPath: string;
  store: TeamStore;
  /** The pool, or null while not joined / not connected (then sync waits). */
  pool: () => Pool | null;
  machineId: string;
  member: () => string;
  /** Called before each sync to make sure the schema is there (cached by the caller). */
  ready?: () => Promise<void>;
  batchSize?: number;
  /** Backoff after a failure: base * 2^(n-1), capped, with full jitter. */
  backoff?: { baseMs: number; maxMs: number };
  intervalMs?: number;
  now?: () => number;
  random?: () => number;
  onError?: (err: Error, consecutive: number) => void;
  onSynced?: (info: { rows: number; inserted: number }) => void;
}

export interface ReplicationStatus {
  pending: number;
  /** ms between now and the oldest row not yet in PostgreSQL (0 when none). */
  lagMs: number;
  cursor: number;
  lastSyncAt: number | null;
  lastError: string | null;
  failures: number;
  nextAttemptAt: number | null;
}

export interface Replicator {
  /** Asks for a sync soon (coalesced; ignored while backing off). */
  kick(): void;
  /** Sends every pending row now; resolves when caught up. Throws the database error. */
  syncNow(): Promise<{ rows: number; inserted: number }>;
  status(): ReplicationStatus;
  close(): Promise<void>;
}

/** Read side over the ledger file: a second, read-only connection; the gateway's writer is untouched. */
export interface LedgerOutbox {
  after(cursor: number, limit: number): { rowid: number; row: Record<string, unknown> | null }[];
  pending(cursor: number): { count: number; oldestTs: number | null };
  /** Settled spend (pico) of replicated rows in [since, until): what team budgets count. */
  spent(range: { since: number; until: number }): number;
  close(): void;
}

export function openLedgerOutbox(path: string): LedgerOutbox {
  let db: Db | null = null;
  let selAfter: Statement, selPending: Statement, selSpent: Statement;
  const open = () => {
    if (db) return;
    db = openDatabase(path, { readonly: true, busyTimeoutMs: 5000 });
    selAfter = db.prepare(`SELECT rowid AS _rowid, source, ${COLUMNS.join(', ')} FROM requests WHERE rowid > ? ORDER BY rowid LIMIT ?`);
    selPending = db.prepare(`SELECT count(*) AS n, min(ts_start) AS oldest FROM requests WHERE rowid > ? AND ${REPLICATED_WHERE}`);
    selSpent = db.prepare(`SELECT coalesce(sum(cost_pico), 0) AS s FROM requests WHERE ${REPLICATED_WHERE} AND billed = 1 AND counted = 1 AND ts_start >= ? AND ts_start < ?`);
  };
  return {
    after(cursor, limit) {
      open();
      return (selAfter.all(cursor, limit) as Record<string, unknown>[]).map((r) => ({ rowid: Number(r._rowid), row: r.source === 'gateway' ? r : null }));
    },
    pending(cursor) {
      open();
      const r = selPending.get(cursor) as { n: number; oldest: number | null };
      return { count: Number(r.n), oldestTs: r.oldest === null ? null : Number(r.oldest) };
    },
    spent(range) {
      try { open(); } catch { return 0; }
      return Number((selSpent.get(range.since, range.until) as { s: number }).s);
    },
    close() { db?.close(); db = null; },
  };
}

export function createReplicator(opts: ReplicatorOptions): Replicator {
  const batchSize = opts.batchSize ?? 500;
  const backoff = opts.backoff ?? { baseMs: 500, maxMs: 60_000 };
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const outbox = openLedgerOutbox(opts.ledgerPath);
  let failures = 0;
  let nextAttemptAt: number | null = null;
  let running: Promise<{ rows: number; inserted: number }> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  /** A kick arrived while a drain ran: rows may have committed after its last read. */
  let again = false;
  let lastError: string | null = opts.store.sync().lastError;

  const insertSql = `INSERT INTO team_requests (machine_id, member, ${COLUMNS.join(', ')})
    SELECT $1, $2, ${COLUMNS.map((c) => `u.${c}`).join(', ')}
    FROM unnest(${COLUMNS.map((c, i) => `$${i + 3}::${PG_TYPES[c]}[]`).join(', ')}) AS u(${COLUMNS.join(', ')})
    ON CONFLICT (machine_id, id) DO NOTHING`;

  const sendBatch = async (pool: Pool, batch: Record<string, unknown>[], rowsSent: number) => {
    const arrays = COLUMNS.map((c) => batch.map((r) => {
      const v = r[c];
      if (v === null || v === undefined) return null;
      return BOOLS.has(c) ? Number(v) === 1 : typeof v === 'bigint' ? v.toString() : v;
    }));
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query(insertSql, [opts.machineId, opts.member(), ...arrays]);
      await client.query(`UPDATE team_machines SET last_sync_at = now(), rows_synced = $2, member = $3 WHERE machine_id = $1`, [opts.machineId, rowsSent, opts.member()]);
      await client.query('COMMIT');
      return r.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };

  const drain = async (): Promise<{ rows: number; inserted: number }> => {
    const pool = opts.pool();
    if (!pool) return { rows: 0, inserted: 0 };
    await opts.ready?.();
    let rows = 0;
    let inserted = 0;
    let synced = opts.store.sync().rowsSynced;
    for (;;) {
      const cursor = opts.store.cursor();
      const got = outbox.after(cursor, batchSize);
      if (got.length === 0) break;
      const batch = got.flatMap((g) => (g.row ? [g.row] : []));
      if (batch.length) {
        inserted += await sendBatch(pool, batch, synced + batch.length);
        synced += batch.length;
        rows += batch.length;
      }
      // Only after PostgreSQL committed: a crash before this line re-sends the batch (a no-op there).
      opts.store.setCursor(got[got.length - 1]!.rowid);
      if (got.length < batchSize) break;
    }
    opts.store.setSync({ lastSyncAt: now(), lastError: null, rowsSynced: synced, updatedAt: now() });
    return { rows, inserted };
  };

  const schedule = (delay: number) => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; void attempt(); }, Math.max(0, delay));
    timer.unref();
  };

  const attempt = async () => {
    try {
      const r = await syncNow();
      if (r.rows) opts.onSynced?.(r);
    } catch {
      // Recorded by syncNow; the next try is scheduled there.
    }
  };

  const syncNow = (): Promise<{ rows: number; inserted: number }> => {
    if (running) return running;
    running = (async () => {
      try {
        const r = await drain();
        failures = 0;
        nextAttemptAt = null;
        lastError = null;
        schedule(again ? 50 : opts.intervalMs ?? 5000);
        again = false;
        return r;
      } catch (err) {
        failures++;
        const cap = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 30));
        const delay = Math.round(cap / 2 + random() * (cap / 2));
        nextAttemptAt = now() + delay;
        lastError = (err as Error).message;
        try { opts.store.setSync({ lastError, lastErrorAt: now(), updatedAt: now() }); } catch { /* status only */ }
        opts.onError?.(err as Error, failures);
        schedule(delay);
        throw err;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  schedule(0);
  return {
    kick() {
      if (running) again = true;
      if (closed || running || (nextAttemptAt !== null && now() < nextAttemptAt)) return;
      schedule(50);
    },
    syncNow,
    status() {
      const cursor = opts.store.cursor();
      let p = { count: 0, oldestTs: null as number | null };
      try { p = outbox.pending(cursor); } catch { /* no ledger yet */ }
      return {
        pending: p.count, lagMs: p.oldestTs === null ? 0 : Math.max(0, now() - p.oldestTs), cursor,
        lastSyncAt: opts.store.sync().lastSyncAt, lastError, failures, nextAttemptAt,
      };
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
      outbox.close();
    },
  };
}
