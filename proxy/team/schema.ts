// The team database's schema in PostgreSQL: ordered migrations recorded in `sluice_team_schema`
// (one row per applied version, with the Sluice version that applied it), run under an advisory
// lock so two gateways starting at once migrate once. A Sluice that finds a newer schema than it
// knows refuses to write (TeamSchemaTooNewError) rather than corrupt it. Imports `pg` types only.
import type { PoolClient } from 'pg';
import { VERSION } from '../version.js';

export const TEAM_SCHEMA_VERSION = 1;
/** pg_advisory_xact_lock key: "sluice" team migrations (any fixed 64-bit number). */
const MIGRATION_LOCK = 7420_0021;

export class TeamSchemaTooNewError extends Error {
  readonly code = 'TEAM_SCHEMA_TOO_NEW';
  constructor(readonly found: number, readonly known: number, readonly by: string | null) {
    super(`The team database has schema version ${found}${by ? ` (written by Sluice ${by})` : ''}, but this Sluice ${VERSION} knows versions up to ${known}. ` +
      'Upgrade Sluice on this machine to sync with this team; until then nothing is written to the team database (local use is unaffected).');
    this.name = 'TeamSchemaTooNewError';
  }
}

// Money is integer pico-dollars (bigint), as in the local ledger. Rows carry the machine's id and
// the gateway's request id: (machine_id, id) is globally unique, so a re-sent batch is a no-op.
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE team_machines (
  machine_id text PRIMARY KEY,
  member text NOT NULL,
  name text NOT NULL,
  sluice_version text NOT NULL,
  joined_at timestamptz NOT NULL DEFAULT now(),
  last_sync_at timestamptz,
  rows_synced bigint NOT NULL DEFAULT 0
);
CREATE TABLE team_requests (
  machine_id text NOT NULL,
  id text NOT NULL,
  member text NOT NULL,
  ts_start bigint NOT NULL,
  ts_end bigint NOT NULL,
  session_id text,
  tool text NOT NULL,
  caller_kind text NOT NULL,
  client_family text NOT NULL,
  endpoint text NOT NULL,
  requested_model text,
  served_model text,
  provider text NOT NULL,
  status integer,
  error_type text,
  stream boolean NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cache_write_5m_tokens bigint NOT NULL,
  cache_write_1h_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL,
  web_search_requests bigint NOT NULL,
  cost_pico bigint,
  billed boolean NOT NULL,
  complete boolean NOT NULL,
  counted boolean NOT NULL,
  project text,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (machine_id, id)
);
CREATE INDEX team_requests_ts ON team_requests (ts_start);
CREATE INDEX team_requests_member_ts ON team_requests (member, ts_start);
CREATE TABLE team_budgets (
  budget_id text PRIMARY KEY,
  member text,
  kind text NOT NULL CHECK (kind IN ('daily', 'monthly')),
  limit_pico bigint NOT NULL CHECK (limit_pico >= 0),
  slice_pico bigint NOT NULL CHECK (slice_pico > 0),
  offline text NOT NULL CHECK (offline IN ('open', 'closed')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE team_budget_periods (
  budget_id text NOT NULL,
  period text NOT NULL,
  granted_pico bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (budget_id, period)
);
CREATE TABLE team_leases (
  budget_id text NOT NULL,
  period text NOT NULL,
  machine_id text NOT NULL,
  granted_pico bigint NOT NULL,
  spent_pico bigint NOT NULL,
  expires_at bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (budget_id, period, machine_id)
);`,
  },
];

export interface SchemaState { version: number; by: string | null }

/** Creates or migrates the team schema in one transaction. Throws TeamSchemaTooNewError. */
export async function migrateTeamSchema(client: PoolClient): Promise<SchemaState> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS sluice_team_schema (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), sluice_version text NOT NULL)`);
    const cur = await readVersion(client);
    if (cur.version > TEAM_SCHEMA_VERSION) throw new TeamSchemaTooNewError(cur.version, TEAM_SCHEMA_VERSION, cur.by);
    for (const m of MIGRATIONS) {
      if (m.version <= cur.version) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO sluice_team_schema (version, sluice_version) VALUES ($1, $2)', [m.version, VERSION]);
    }
    await client.query('COMMIT');
    return { version: TEAM_SCHEMA_VERSION, by: cur.version === TEAM_SCHEMA_VERSION ? cur.by : VERSION };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function readVersion(client: PoolClient): Promise<SchemaState> {
  const r = await client.query<{ version: number; sluice_version: string }>('SELECT version, sluice_version FROM sluice_team_schema ORDER BY version DESC LIMIT 1');
  const row = r.rows[0];
  return row ? { version: row.version, by: row.sluice_version } : { version: 0, by: null };
}
