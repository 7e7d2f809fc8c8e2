// team.sqlite in the data dir: this machine's team membership (connection without password,
// member name), its stable machine id, the replication cursor (the last ledger rowid known to be
// in PostgreSQL) and the sync status `sluice team status` shows. Its own file, not a ledger
// migration: the ledger stays the source of truth and is only read. Imports the SQLite adapter.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase, pragma } from '../ledger/sqlite.js';
import type { TeamConnection } from './connect.js';

export const TEAM_DB_FILE = 'team.sqlite';
const SCHEMA_VERSION = 1;

export interface TeamConfig {
  conn: TeamConnection;
  member: string;
  /** Shown in team views; default the host name. */
  machineName: string;
  joinedAt: number;
}

export interface SyncState {
  lastSyncAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** Rows this machine has sent since joining (inserted or already there). */
  rowsSynced: number;
  /** When the replicator last wrote this record (a running gateway refreshes it). */
  updatedAt: number | null;
  /** Offline-policy notes of team budgets: `<budget>` -> message (PostgreSQL unreachable, lease state). */
  budgetNotes: Record<string, string>;
  /** The running gateway's leases (leases.ts LeaseStatus), for `sluice team status`. */
  leases: unknown[];
}

export interface TeamStore {
  readonly path: string;
  /** A random id made once per data dir; kept across leave/join, so rows keep one owner. */
  machineId(): string;
  config(): TeamConfig | null;
  setConfig(c: TeamConfig | null): void;
  /** Ledger rowid through which rows are in PostgreSQL (0: none). */
  cursor(): number;
  setCursor(rowid: number): void;
  sync(): SyncState;
  setSync(s: Partial<SyncState>): void;
  close(): void;
}

export class TeamStoreVersionError extends Error {
  readonly code = 'TEAM_STORE_TOO_NEW';
}

export function teamDbPath(dataDir: string): string {
  return join(dataDir, TEAM_DB_FILE);
}

const EMPTY_SYNC: SyncState = { lastSyncAt: null, lastError: null, lastErrorAt: null, rowsSynced: 0, updatedAt: null, budgetNotes: {}, leases: [] };

export function openTeamStore(path: string): TeamStore {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = openDatabase(path, { wal: true, busyTimeoutMs: 5000 });
  try {
    const v = pragma(db, 'user_version') as number;
    if (v > SCHEMA_VERSION) throw new TeamStoreVersionError(`${path} was written by a newer Sluice (schema ${v}, this one knows ${SCHEMA_VERSION})`);
    if (v < 1) db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL); PRAGMA user_version = 1;');
  } catch (err) {
    db.close();
    throw err;
  }
  const sel = db.prepare('SELECT value FROM kv WHERE key = ?');
  const put = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM kv WHERE key = ?');
  const get = <T>(key: string): T | null => {
    const r = sel.get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as T) : null;
  };
  const set = (key: string, value: unknown) => { put.run(key, JSON.stringify(value)); };
  let closed = false;
  return {
    path,
    machineId() {
      let id = get<string>('machine_id');
      if (!id) {
        id = randomUUID();
        // INSERT OR IGNORE semantics: a concurrent CLI and gateway agree on the first id written.
        db.prepare('INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)').run('machine_id', JSON.stringify(id));
        id = get<string>('machine_id')!;
      }
      return id;
    },
    config: () => get<TeamConfig>('config'),
    setConfig(c) { if (c) set('config', c); else del.run('config'); },
    cursor: () => get<number>('cursor') ?? 0,
    setCursor(rowid) { set('cursor', rowid); },
    sync: () => ({ ...EMPTY_SYNC, ...get<Partial<SyncState>>('sync') }),
    setSync(s) { set('sync', { ...EMPTY_SYNC, ...get<Partial<SyncState>>('sync'), ...s }); },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
