// The team views' reads, one implementation for `sluice team report|budget list|status` and the
// admin API (GET /admin/api/team/*): the team report grouped by member, machine, tool, project,
// model or day, the team budgets with this period's grants, and this machine's team status. Costs
// leave here as USD numbers (pico / 1e12, as the local ledger's reports do) for proxy/format.ts.
// Imports `pg` types and this folder only.
import type { Pool } from 'pg';
import { describeConnection } from './connect.js';
import type { LeaseStatus, OfflinePolicy } from './leases.js';
import type { TeamStore } from './local-store.js';
import type { LedgerOutbox } from './replicator.js';

export const TEAM_REPORT_BY = ['member', 'machine', 'tool', 'project', 'model', 'day'] as const;
export type TeamReportBy = (typeof TEAM_REPORT_BY)[number];

export const TEAM_JOIN_COMMAND = 'sluice team join <postgres-url> --member NAME';

export interface TeamReportRow {
  key: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** null: nothing in the group had a price. */
  costUsd: number | null;
}

export interface TeamReport {
  schema: 'sluice.team-report/1';
  by: TeamReportBy;
  since: string | null;
  until: string | null;
  rows: TeamReportRow[];
}

export interface TeamBudgetView {
  budget: string;
  /** null: the team-wide budget. */
  member: string | null;
  kind: 'daily' | 'monthly';
  limitUsd: number;
  sliceUsd: number;
  offline: OfflinePolicy;
  /** Handed out as leases this (UTC) period, across every machine. */
  grantedUsd: number;
}

export interface TeamStatusView {
  joined: boolean;
  member: string | null;
  machine: string | null;
  machineId: string;
  /** postgres://user@host:port/db (TLS mode); never a password. */
  database: string | null;
  joinedAt: number | null;
  lastSyncAt: number | null;
  pending: number;
  lagMs: number;
  rowsSynced: number;
  lastError: string | null;
  lastErrorAt: number | null;
  budgetNotes: Record<string, string>;
  leases: LeaseStatus[];
  /** Whether a running gateway holds a live connection (null: read from team.sqlite, e.g. the CLI). */
  connected: boolean | null;
  joinCommand: string;
}

export class TeamReportInputError extends Error {
  readonly code = 'TEAM_BAD_REPORT_QUERY';
}

const usd = (pico: number | string | bigint | null) => (pico === null ? null : Number(BigInt(pico)) / 1e12);

/**
 * The team report. Days are local days of `tz` (whoever asks: the CLI's or the gateway's zone),
 * as the local views count them; `since`/`until` are inclusive YYYY-MM-DD local days.
 */
export async function queryTeamReport(pool: Pick<Pool, 'query'>, q: { by: TeamReportBy; since?: string | null; until?: string | null; tz: string }): Promise<TeamReport> {
  if (!(TEAM_REPORT_BY as readonly string[]).includes(q.by)) throw new TeamReportInputError(`by takes ${TEAM_REPORT_BY.join(', ')}`);
  const day = `to_char(to_timestamp(ts_start / 1000.0) AT TIME ZONE $1::text, 'YYYY-MM-DD')`;
  const key = { member: 'r.member', machine: 'coalesce(m.name, r.machine_id)', tool: 'tool', project: "coalesce(project, '(none)')", model: "coalesce(served_model, requested_model, '(none)')", day }[q.by];
  const where: string[] = ['counted'];
  // $1 (the zone) only when a day is computed: PostgreSQL refuses a parameter it cannot type.
  const params: unknown[] = q.by === 'day' || q.since || q.until ? [q.tz] : [];
  for (const [name, op] of [['since', '>='], ['until', '<=']] as const) {
    const d = q[name];
    if (!d) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new TeamReportInputError(`${name} takes YYYY-MM-DD`);
    params.push(d);
    where.push(`${day} ${op} $${params.length}`);
  }
  const rows = (await pool.query(`
    SELECT ${key} AS key, count(*)::bigint AS requests, count(*) FILTER (WHERE error_type IS NOT NULL OR status >= 400)::bigint AS errors,
      coalesce(sum(input_tokens) FILTER (WHERE billed), 0)::text AS input, coalesce(sum(output_tokens) FILTER (WHERE billed), 0)::text AS output,
      coalesce(sum(cache_read_tokens) FILTER (WHERE billed), 0)::text AS cache_read,
      coalesce(sum(cache_write_5m_tokens + cache_write_1h_tokens) FILTER (WHERE billed), 0)::text AS cache_write,
      sum(cost_pico) FILTER (WHERE billed)::text AS cost_pico
    FROM team_requests r LEFT JOIN team_machines m USING (machine_id)
    WHERE ${where.join(' AND ')} GROUP BY 1 ORDER BY sum(cost_pico) FILTER (WHERE billed) DESC NULLS LAST, 1`, params)).rows;
  return {
    schema: 'sluice.team-report/1', by: q.by, since: q.since ?? null, until: q.until ?? null,
    rows: rows.map((r) => ({
      key: r.key as string, requests: Number(r.requests), errors: Number(r.errors), inputTokens: Number(r.input), outputTokens: Number(r.output),
      cacheReadTokens: Number(r.cache_read), cacheWriteTokens: Number(r.cache_write), costUsd: r.cost_pico === null ? null : usd(r.cost_pico as string),
    })),
  };
}

/** Every team budget with what has been leased out of it this UTC period. */
export async function listTeamBudgets(pool: Pick<Pool, 'query'>): Promise<TeamBudgetView[]> {
  const rows = (await pool.query(`SELECT b.*, (SELECT granted_pico FROM team_budget_periods g WHERE g.budget_id = b.budget_id
    AND g.period = CASE b.kind WHEN 'daily' THEN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') ELSE to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM') END) AS granted
    FROM team_budgets b ORDER BY budget_id`)).rows;
  return rows.map((r) => ({
    budget: r.budget_id as string, member: (r.member as string | null) ?? null, kind: r.kind as 'daily' | 'monthly',
    limitUsd: usd(r.limit_pico as string)!, sliceUsd: usd(r.slice_pico as string)!, offline: r.offline as OfflinePolicy,
    grantedUsd: r.granted === null ? 0 : usd(r.granted as string)!,
  }));
}

/**
 * This machine's team status from team.sqlite and the ledger outbox; a running gateway passes its
 * live connection state and leases (fresher than the copy it writes to team.sqlite).
 */
export function teamStatusOf(store: TeamStore, outbox: LedgerOutbox | null, now: number, live?: { connected: boolean; leases: LeaseStatus[] }): TeamStatusView {
  const cfg = store.config();
  const sync = store.sync();
  let pending = { count: 0, oldestTs: null as number | null };
  try { if (outbox) pending = outbox.pending(store.cursor()); } catch { /* no ledger yet */ }
  return {
    joined: cfg !== null, member: cfg?.member ?? null, machine: cfg?.machineName ?? null, machineId: store.machineId(),
    database: cfg ? describeConnection(cfg.conn) : null, joinedAt: cfg?.joinedAt ?? null,
    lastSyncAt: sync.lastSyncAt, pending: pending.count, lagMs: pending.oldestTs === null ? 0 : Math.max(0, now - pending.oldestTs),
    rowsSynced: sync.rowsSynced, lastError: sync.lastError, lastErrorAt: sync.lastErrorAt, budgetNotes: sync.budgetNotes,
    leases: live?.leases ?? (sync.leases as LeaseStatus[]), connected: live?.connected ?? null, joinCommand: TEAM_JOIN_COMMAND,
  };
}
