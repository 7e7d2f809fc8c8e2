// control.sqlite in the data dir: the audit log of configuration changes and the alert log
// (with the once-per-threshold-per-period guard, so a restart does not repeat an alert).
// Its own file, not a ledger migration: the ledger is metadata of requests with its own schema
// version and owner; these tables change with the control plane. Imports the SQLite adapter only.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase, pragma } from '../ledger/sqlite.js';

export const CONTROL_DB_FILE = 'control.sqlite';
const SCHEMA_VERSION = 1;
/** The alert log is for the dashboard, not an archive. */
const MAX_ALERTS = 2000;

export type ChangeSource = 'cli' | 'admin' | 'app';

export interface AuditEntry {
  id: number;
  ts: number;
  source: ChangeSource;
  /** e.g. `budget.set`, `policy.update`, `capture.on`. */
  action: string;
  /** What it applies to: `daily`, `token:claude-code`, `guardrails`. */
  target: string;
  /** Old and new values (configuration only, never secrets or bodies). */
  detail: Record<string, unknown> | null;
}

export interface AlertRecord {
  id: number;
  ts: number;
  kind: string;
  level: 'info' | 'warning' | 'critical';
  message: string;
  /** Dedupe key: `<budget>@<period>#<threshold>`; null for alerts that may repeat. */
  onceKey: string | null;
  data: Record<string, unknown> | null;
}

export interface ControlStore {
  audit(e: Omit<AuditEntry, 'id'>): void;
  listAudit(q?: { limit?: number }): AuditEntry[];
  /** Inserts an alert; with a onceKey already present, inserts nothing and returns false. */
  recordAlert(a: Omit<AlertRecord, 'id'>): boolean;
  listAlerts(q?: { limit?: number }): AlertRecord[];
  close(): void;
}

export function controlDbPath(dataDir: string): string {
  return join(dataDir, CONTROL_DB_FILE);
}

export function openControlStore(path: string): ControlStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = openDatabase(path, { wal: true, busyTimeoutMs: 5000 });
  try {
    const v = pragma(db, 'user_version') as number;
    if (v > SCHEMA_VERSION) throw new Error(`${path} was written by a newer Sluice (schema ${v}, this one knows ${SCHEMA_VERSION})`);
    if (v < 1) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS audit (
          id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, source TEXT NOT NULL,
          action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT);
        CREATE TABLE IF NOT EXISTS alerts (
          id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, kind TEXT NOT NULL, level TEXT NOT NULL,
          message TEXT NOT NULL, once_key TEXT UNIQUE, data TEXT);
        PRAGMA user_version = 1;`);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  const insAudit = db.prepare('INSERT INTO audit (ts, source, action, target, detail) VALUES (?, ?, ?, ?, ?)');
  const selAudit = db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?');
  const insAlert = db.prepare('INSERT OR IGNORE INTO alerts (ts, kind, level, message, once_key, data) VALUES (?, ?, ?, ?, ?, ?)');
  const selAlerts = db.prepare('SELECT * FROM alerts ORDER BY id DESC LIMIT ?');
  // Keeps once-keys of the current periods: only rows beyond the newest MAX_ALERTS go.
  const trim = db.prepare('DELETE FROM alerts WHERE id <= (SELECT id FROM alerts ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const json = (s: unknown) => (typeof s === 'string' ? (JSON.parse(s) as Record<string, unknown>) : null);
  const lim = (n: number | undefined) => Math.max(1, Math.min(10_000, Math.trunc(n ?? 100)));
  let closed = false;

  return {
    audit(e) {
      insAudit.run(e.ts, e.source, e.action, e.target, e.detail === null ? null : JSON.stringify(e.detail));
    },
    listAudit(q = {}) {
      return (selAudit.all(lim(q.limit)) as Record<string, unknown>[]).map((r) => ({
        id: r.id as number, ts: r.ts as number, source: r.source as ChangeSource, action: r.action as string, target: r.target as string, detail: json(r.detail),
      }));
    },
    recordAlert(a) {
      const inserted = insAlert.run(a.ts, a.kind, a.level, a.message, a.onceKey, a.data === null ? null : JSON.stringify(a.data)).changes === 1;
      if (inserted) trim.run(MAX_ALERTS);
      return inserted;
    },
    listAlerts(q = {}) {
      return (selAlerts.all(lim(q.limit)) as Record<string, unknown>[]).map((r) => ({
        id: r.id as number, ts: r.ts as number, kind: r.kind as string, level: r.level as AlertRecord['level'], message: r.message as string,
        onceKey: (r.once_key as string | null) ?? null, data: json(r.data),
      }));
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
