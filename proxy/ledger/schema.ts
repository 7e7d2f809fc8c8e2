// The ledger's on-disk schema: an ordered list of migrations keyed by `PRAGMA user_version`,
// applied in one transaction at open. Imports the SQLite adapter only.
import { pragma, transaction, type Db } from './sqlite.js';

export interface Migration {
  version: number;
  up(db: Db): void;
}

export class LedgerVersionError extends Error {
  readonly code = 'LEDGER_TOO_NEW';
  constructor(path: string, found: number, known: number) {
    super(`Usage ledger ${path} has schema version ${found}, but this Sluice only knows versions up to ${known}. ` +
      'It was written by a newer Sluice; upgrade Sluice (or point it at another data dir) rather than risk corrupting it.');
    this.name = 'LedgerVersionError';
  }
}

// Column notes that the schema alone does not say:
// - `counted`: 1 when the row contributes to the rollups. An imported row for an upstream
//   message the gateway also recorded (same message_id) is kept for reconciliation but not
//   counted, so one response is never billed twice (rule in writer.ts).
// - token columns hold what the response reported; rollups add them only where `billed = 1`.
// - `cost_pico` is integer pico-dollars (10^-12 USD); NULL means the model was unpriced.
// - rollup `first_ts`/`last_ts`/models cover every row of a session, counted or not; sums
//   cover counted rows only, which is what `rollupsMatch` in the tests recomputes.
const V1 = `
CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  ts_start INTEGER NOT NULL,
  ts_end INTEGER NOT NULL,
  session_id TEXT,
  session_source TEXT,
  agent_id TEXT,
  parent_agent_id TEXT,
  tool TEXT NOT NULL,
  caller_kind TEXT NOT NULL CHECK (caller_kind IN ('token', 'passthrough', 'import')),
  client_family TEXT NOT NULL,
  client_version TEXT,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  endpoint TEXT NOT NULL CHECK (endpoint IN ('messages', 'count_tokens', 'models', 'batches', 'other')),
  requested_model TEXT,
  served_model TEXT,
  stream INTEGER NOT NULL,
  status INTEGER,
  stop_reason TEXT,
  error_type TEXT,
  ttfb_ms REAL,
  total_ms REAL,
  upstream_request_id TEXT,
  message_id TEXT,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  provider TEXT NOT NULL,
  key_id TEXT,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_write_5m_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  web_search_requests INTEGER NOT NULL,
  cost_pico INTEGER,
  billed INTEGER NOT NULL,
  complete INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('gateway', 'import')),
  project TEXT,
  counted INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX requests_session_ts ON requests (session_id, ts_start);
CREATE INDEX requests_ts ON requests (ts_start);
CREATE INDEX requests_message ON requests (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  first_ts INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  tool TEXT NOT NULL,
  project TEXT,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  billed_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_write_5m_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  web_search_requests INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  unpriced_requests INTEGER NOT NULL,
  via_gateway INTEGER NOT NULL,
  imported INTEGER NOT NULL
);
CREATE INDEX sessions_last_ts ON sessions (last_ts);
CREATE INDEX sessions_cost ON sessions (cost_pico);

CREATE TABLE session_models (
  session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  PRIMARY KEY (session_id, model)
) WITHOUT ROWID;

CREATE TABLE daily (
  day TEXT NOT NULL,
  model TEXT NOT NULL,
  tool TEXT NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  billed_requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_write_5m_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  web_search_requests INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  unpriced_requests INTEGER NOT NULL,
  PRIMARY KEY (day, model, tool)
) WITHOUT ROWID;
`;

// V2: routing metadata and upstream attempts.
// - New `requests` columns are nullable or defaulted, so ADD COLUMN upgrades a v1 file in place
//   without rewriting its rows: old rows read as target NULL, 1 attempt, no fallback, not redacted.
// - `tags` and `features` hold JSON objects; the CHECKs keep json_extract in reports from ever
//   meeting malformed text.
// - `attempts` holds every upstream attempt of a request. They are never billed and never
//   counted: the rollups read `requests` only. The foreign key makes an attempt without its
//   request impossible; the writer inserts both in one transaction.
const V2 = `
ALTER TABLE requests ADD COLUMN target TEXT;
ALTER TABLE requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 0);
ALTER TABLE requests ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0 CHECK (fallback IN (0, 1));
ALTER TABLE requests ADD COLUMN route TEXT;
ALTER TABLE requests ADD COLUMN arm TEXT;
ALTER TABLE requests ADD COLUMN tags TEXT CHECK (tags IS NULL OR CASE WHEN json_valid(tags) THEN json_type(tags) = 'object' ELSE 0 END);
ALTER TABLE requests ADD COLUMN tier TEXT;
ALTER TABLE requests ADD COLUMN features TEXT CHECK (features IS NULL OR CASE WHEN json_valid(features) THEN json_type(features) = 'object' ELSE 0 END);
ALTER TABLE requests ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1));

CREATE TABLE attempts (
  request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
  n INTEGER NOT NULL CHECK (n >= 1),
  ts INTEGER NOT NULL,
  target TEXT NOT NULL,
  key_id TEXT,
  model TEXT,
  status INTEGER,
  error TEXT,
  duration_ms REAL,
  wait_ms REAL,
  PRIMARY KEY (request_id, n)
) WITHOUT ROWID;
CREATE INDEX attempts_ts ON attempts (ts);
`;

// V3: requests without a session id roll up like sessions, under the synthetic id
// `nosession:<tool>:<UTC hour start ms>` (writer.ts `rollupSessionId`), so "No session" groups
// list, sort and page from the indexed `sessions` table instead of being aggregated from
// `requests` on every read. The requests keep session_id NULL. Backfill: first/last seen and the
// flags over every row, sums over counted rows only, as the writer keeps them.
const V3 = `
INSERT INTO sessions (session_id, first_ts, last_ts, tool, project, requests, errors, billed_requests, input_tokens,
  output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests, cost_pico,
  unpriced_requests, via_gateway, imported)
SELECT 'nosession:' || tool || ':' || (ts_start / 3600000 * 3600000), min(ts_start), max(ts_start), tool, NULL,
  sum(counted),
  sum(CASE WHEN counted = 1 AND (error_type IS NOT NULL OR coalesce(status, 0) >= 400) THEN 1 ELSE 0 END),
  sum(CASE WHEN counted = 1 THEN billed ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN input_tokens ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN output_tokens ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN cache_write_5m_tokens ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN cache_write_1h_tokens ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN cache_read_tokens ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN web_search_requests ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 THEN coalesce(cost_pico, 0) ELSE 0 END),
  sum(CASE WHEN counted = 1 AND billed = 1 AND cost_pico IS NULL THEN 1 ELSE 0 END),
  max(CASE WHEN source = 'gateway' THEN 1 ELSE 0 END),
  max(CASE WHEN source = 'import' THEN 1 ELSE 0 END)
FROM requests WHERE session_id IS NULL GROUP BY tool, ts_start / 3600000;
INSERT OR IGNORE INTO session_models (session_id, model)
  SELECT 'nosession:' || tool || ':' || (ts_start / 3600000 * 3600000), requested_model FROM requests WHERE session_id IS NULL AND requested_model IS NOT NULL
  UNION SELECT 'nosession:' || tool || ':' || (ts_start / 3600000 * 3600000), served_model FROM requests WHERE session_id IS NULL AND served_model IS NOT NULL;
`;

// V4 (after V3's "No session" rollups): responses that ended early (a client cancel, a stream
// cut by the upstream) carry their output as an estimate, marked with why in `estimated`
// (NULL = exact, every older row). The rollups count the billed estimated rows so totals can say
// what share is estimated; old rows add 0, which is what a recount from `requests` gives them.
const V4_ESTIMATES = `
ALTER TABLE requests ADD COLUMN estimated TEXT;
ALTER TABLE sessions ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
`;

// V5: which model served a session under which requested id, as a rollup written with the rows
// (writer.ts), so the Sessions page names each served model once with its aliases from one
// indexed table instead of scanning every request of the sessions it lists (31 ms for a page
// of 500-request sessions in the 1M-row bench, and growing with session length). `requested`
// is '' where the request named no model; `first_ts` orders a session's aliases.
const V5 = `
CREATE TABLE session_model_pairs (
  session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  served TEXT NOT NULL,
  requested TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  PRIMARY KEY (session_id, served, requested)
) WITHOUT ROWID;
INSERT INTO session_model_pairs (session_id, served, requested, first_ts)
  SELECT coalesce(session_id, 'nosession:' || tool || ':' || (ts_start / 3600000 * 3600000)),
    coalesce(served_model, requested_model), coalesce(requested_model, ''), min(ts_start)
  FROM requests WHERE coalesce(served_model, requested_model) IS NOT NULL GROUP BY 1, 2, 3;
`;

/** Ordered; a version is never edited once released, only followed by a new one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: (db) => db.exec(V1) },
  { version: 2, up: (db) => db.exec(V2) },
  { version: 3, up: (db) => db.exec(V3) },
  { version: 4, up: (db) => db.exec(V4_ESTIMATES) },
  { version: 5, up: (db) => db.exec(V5) },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the file to SCHEMA_VERSION. All pending steps and the version bump share one
 * transaction (user_version lives in the database header, which SQLite writes transactionally),
 * so a crash mid-migration leaves the old version intact.
 */
export function migrate(db: Db, path: string, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const from = pragma(db, 'user_version') as number;
  if (from > known) throw new LedgerVersionError(path, from, known);
  if (from === known) return { from, to: from };
  transaction(db, () => {
    for (const m of migrations) {
      if (m.version <= from) continue;
      m.up(db);
      db.exec(`PRAGMA user_version = ${Math.trunc(m.version)}`);
    }
  }, 'immediate');
  return { from, to: known };
}
