// `sluice team join|status|leave|report|budget`. Membership and sync state are local
// (team.sqlite); report and budget talk to the team database directly. The password goes to the
// keychain (or stays in SLUICE_TEAM_PASSWORD), never to team.sqlite, settings or output.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type pg from 'pg';
import type { CliIo } from '../cli-main.js';
import { createKeychainStore } from '../store/secrets.js';
import { createTeamPool, describeConnection, parseTeamUrl, TEAM_PASSWORD_ENV, TEAM_SECRET_ACCOUNT, TeamUrlError, type TeamConnection } from './connect.js';
import { budgetIdOf, type BudgetKind } from './leases.js';
import { openTeamStore, teamDbPath, type TeamStore } from './local-store.js';
import { openLedgerOutbox } from './replicator.js';
import { migrateTeamSchema, TeamSchemaTooNewError } from './schema.js';
import { listTeamBudgets, queryTeamReport, TEAM_JOIN_COMMAND, TEAM_REPORT_BY, teamStatusOf, type TeamReportBy, type TeamStatusView } from './report.js';
import { VERSION } from '../version.js';

export const TEAM_HELP = `Team mode (a shared PostgreSQL ledger):
  sluice team join <postgres-url> --member NAME [--machine NAME] [--ssl disable|require|verify-ca|verify-full]
        [--ssl-root-cert FILE] [--password-stdin]   the password goes to the OS keychain (or ${TEAM_PASSWORD_ENV})
  sluice team status [--json]      last sync, rows pending, lag, leases
  sluice team leave                stop syncing; rows already shared stay in the team database
  sluice team report [--by member|machine|tool|project|model|day] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]
  sluice team budget set daily|monthly <usd> [--member NAME] [--slice USD] [--offline open|closed]
  sluice team budget delete daily|monthly [--member NAME]
  sluice team budget list [--json]
`;

class TeamCliError extends Error {}

const MEMBER_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

async function withPool<T>(conn: TeamConnection, password: string | null, fn: (p: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createTeamPool(conn, password, () => {}, { max: 1 });
  try { return await fn(pool); } finally { await pool.end().catch(() => {}); }
}

async function passwordFor(io: CliIo): Promise<string | null> {
  try {
    const v = await (io.secrets ?? (() => createKeychainStore()))().get(TEAM_SECRET_ACCOUNT);
    if (v) return v;
  } catch { /* no keychain: env */ }
  return io.env[TEAM_PASSWORD_ENV] ?? null;
}

const money = (v: number | null) => (v === null ? '-' : `$${v.toFixed(v >= 1 || v === 0 ? 2 : 4)}`);

export async function runTeamCli(argv: string[], io: CliIo, dataDir: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1), allowPositionals: true, strict: true,
      options: {
        member: { type: 'string' }, machine: { type: 'string' }, ssl: { type: 'string' }, 'ssl-root-cert': { type: 'string' },
        'password-stdin': { type: 'boolean' }, json: { type: 'boolean' }, by: { type: 'string' }, since: { type: 'string' },
        until: { type: 'string' }, slice: { type: 'string' }, offline: { type: 'string' }, 'data-dir': { type: 'string' },
      },
    });
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\n${TEAM_HELP}`);
    return 2;
  }
  const { values: v, positionals: [sub, a1, a2, a3] } = parsed;
  const store = openTeamStore(teamDbPath(dataDir));
  try {
    switch (sub) {
      case 'join': return await join_(io, store, a1, v);
      case 'status': return status(io, store, dataDir, v.json === true);
      case 'leave': {
        const cfg = store.config();
        if (!cfg) { io.stdout('Not in a team.\n'); return 0; }
        store.setConfig(null);
        try { await (io.secrets ?? (() => createKeychainStore()))().delete(TEAM_SECRET_ACCOUNT); } catch { /* none stored */ }
        io.stdout(`Left the team at ${describeConnection(cfg.conn)}. Rows already shared stay there; new rows stay on this machine. A running gateway returns its budget leases within a few seconds.\n`);
        return 0;
      }
      case 'report': return await report(io, store, v);
      case 'budget': return await budget(io, store, a1, a2, a3, v);
      default: throw new TeamCliError(sub ? `unknown team command "${sub}"` : 'expected a team command');
    }
  } catch (err) {
    if (err instanceof TeamCliError || err instanceof TeamUrlError) {
      io.stderr(`sluice: ${err.message}\n\n${TEAM_HELP}`);
      return 2;
    }
    if (err instanceof TeamSchemaTooNewError) { io.stderr(`sluice: ${err.message}\n`); return 1; }
    io.stderr(`sluice: team database: ${(err as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}

function need(store: TeamStore) {
  const cfg = store.config();
  if (!cfg) throw new TeamCliError('this machine is not in a team: run `sluice team join <postgres-url> --member NAME` first');
  return cfg;
}

async function join_(io: CliIo, store: TeamStore, url: string | undefined, v: Record<string, string | boolean | undefined>): Promise<number> {
  if (!url) throw new TeamCliError('team join needs a PostgreSQL URL');
  const member = v.member as string | undefined;
  if (!member || !MEMBER_RE.test(member)) throw new TeamCliError('team join needs --member NAME (letters, digits, . _ @ -)');
  const { conn, password: fromUrl } = parseTeamUrl(url, { ...(v.ssl ? { ssl: v.ssl as string } : {}), ...(v['ssl-root-cert'] ? { sslRootCert: v['ssl-root-cert'] as string } : {}) });
  const password = v['password-stdin'] ? (await io.readStdin()).replace(/\r?\n$/, '') : fromUrl ?? io.env[TEAM_PASSWORD_ENV] ?? null;
  const machineId = store.machineId();
  const machineName = (v.machine as string | undefined) ?? hostname();
  // Connect, create or migrate the schema and register this machine before anything is saved.
  await withPool(conn, password, async (pool) => {
    const c = await pool.connect();
    try {
      await migrateTeamSchema(c);
      await c.query(`INSERT INTO team_machines (machine_id, member, name, sluice_version) VALUES ($1, $2, $3, $4)
        ON CONFLICT (machine_id) DO UPDATE SET member = excluded.member, name = excluded.name, sluice_version = excluded.sluice_version`, [machineId, member, machineName, VERSION]);
    } finally { c.release(); }
  });
  let where = 'none needed';
  if (password !== null && password !== io.env[TEAM_PASSWORD_ENV]) {
    try {
      await (io.secrets ?? (() => createKeychainStore()))().set(TEAM_SECRET_ACCOUNT, password);
      where = 'OS keychain';
    } catch {
      throw new TeamCliError(`no OS keychain to keep the team database password; set ${TEAM_PASSWORD_ENV} in the environment of \`sluice serve\` instead and join without a password in the URL`);
    }
  } else if (password !== null) where = TEAM_PASSWORD_ENV;
  store.setConfig({ conn, member, machineName, joinedAt: Date.now() });
  // A new team database gets this machine's whole history (inserts are idempotent).
  store.setCursor(0);
  io.stdout(`Joined ${describeConnection(conn)} as member "${member}", machine "${machineName}" (${machineId}).\n  password: ${where}\n  shared: request metadata (time, tool, project, model, tokens, cost, status); never prompts, responses or keys.\n  A running gateway starts syncing within a few seconds.\n`);
  return 0;
}

function status(io: CliIo, store: TeamStore, dataDir: string, json: boolean): number {
  const outbox = openLedgerOutbox(join(dataDir, 'ledger.sqlite'));
  let out: TeamStatusView;
  try { out = teamStatusOf(store, outbox, Date.now()); } finally { outbox.close(); }
  const lagMs = out.lagMs;
  if (json) {
    const { joinedAt: _j, connected: _c, joinCommand: _k, ...rest } = out;
    io.stdout(`${JSON.stringify(rest, null, 2)}\n`);
    return 0;
  }
  if (!out.joined) { io.stdout(`Not in a team (machine id ${out.machineId}). Join with \`${TEAM_JOIN_COMMAND}\`.\n`); return 0; }
  const lines = [
    `Team database: ${out.database}`,
    `Member: ${out.member}, machine: ${out.machine} (${out.machineId})`,
    `Last sync: ${out.lastSyncAt ? new Date(out.lastSyncAt).toISOString() : 'never'}; rows pending: ${out.pending}${out.pending ? `, lag ${Math.round(lagMs / 1000)} s` : ''}; rows shared: ${out.rowsSynced}`,
    ...(out.lastError ? [`Last error: ${out.lastError} (${new Date(out.lastErrorAt ?? 0).toISOString()})`] : []),
    ...out.leases.map((l) => `Lease ${l.budgetId} ${l.period}: ${money(l.spentPico / 1e12)} spent of ${money(l.grantedPico / 1e12)} granted (limit ${money(l.limitPico / 1e12)}, slice ${money(l.slicePico / 1e12)}, offline policy ${l.offline})${l.overdraftPico ? `, offline slice ${money(l.overdraftPico / 1e12)}` : ''}`),
    ...Object.values(out.budgetNotes).map((n) => `Note: ${n}`),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

async function report(io: CliIo, store: TeamStore, v: Record<string, string | boolean | undefined>): Promise<number> {
  const cfg = need(store);
  const by = (v.by as string | undefined) ?? 'member';
  if (!(TEAM_REPORT_BY as readonly string[]).includes(by)) throw new TeamCliError(`--by takes ${TEAM_REPORT_BY.join(', ')}`);
  for (const flag of ['since', 'until'] as const) {
    const d = v[flag] as string | undefined;
    if (d !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new TeamCliError(`--${flag} takes YYYY-MM-DD`);
  }
  // Local days of whoever runs the report, as the local views count them.
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const password = await passwordFor(io);
  const rep = await withPool(cfg.conn, password, (pool) => queryTeamReport(pool, { by: by as TeamReportBy, since: (v.since as string | undefined) ?? null, until: (v.until as string | undefined) ?? null, tz }));
  const out = rep.rows;
  if (v.json) { io.stdout(`${JSON.stringify({ schema: rep.schema, by, rows: out }, null, 2)}\n`); return 0; }
  const head = [by, 'requests', 'errors', 'input', 'output', 'cache read', 'cache write', 'cost'];
  const body = out.map((r) => [r.key, r.requests, r.errors, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, money(r.costUsd)].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  io.stdout(`${[head, ...body].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n')}\n`);
  return 0;
}

async function budget(io: CliIo, store: TeamStore, op: string | undefined, kindArg: string | undefined, amountArg: string | undefined, v: Record<string, string | boolean | undefined>): Promise<number> {
  const cfg = need(store);
  const password = await passwordFor(io);
  if (op === 'list') {
    const out = (await withPool(cfg.conn, password, (p) => listTeamBudgets(p)))
      .map(({ budget, limitUsd, sliceUsd, offline, grantedUsd }) => ({ budget, limitUsd, sliceUsd, offline, grantedUsd }));
    if (v.json) io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    else io.stdout(out.length ? `${out.map((b) => `${b.budget}: limit ${money(b.limitUsd)}, slice ${money(b.sliceUsd)}, offline ${b.offline}; granted this period ${money(b.grantedUsd)}`).join('\n')}\n` : 'No team budgets.\n');
    return 0;
  }
  if (kindArg !== 'daily' && kindArg !== 'monthly') throw new TeamCliError('expected `team budget set|delete daily|monthly ...`');
  const kind: BudgetKind = kindArg;
  const member = (v.member as string | undefined) ?? null;
  const id = budgetIdOf(kind, member);
  if (op === 'delete') {
    await withPool(cfg.conn, password, (p) => p.query('DELETE FROM team_budgets WHERE budget_id = $1', [id]));
    io.stdout(`Deleted team budget ${id}.\n`);
    return 0;
  }
  if (op !== 'set') throw new TeamCliError('expected `team budget set|delete|list`');
  const amount = amountArg === undefined ? NaN : Number(amountArg);
  if (!(amount >= 0)) throw new TeamCliError('team budget set needs an amount in USD');
  const slice = v.slice !== undefined ? Number(v.slice) : Math.max(amount / 20, 0.01);
  if (!(slice > 0)) throw new TeamCliError('--slice takes a positive USD amount');
  const offline = (v.offline as string | undefined) ?? 'closed';
  if (offline !== 'open' && offline !== 'closed') throw new TeamCliError('--offline takes open or closed');
  const pico = (x: number) => Math.round(x * 1e12);
  await withPool(cfg.conn, password, (p) => p.query(`INSERT INTO team_budgets (budget_id, member, kind, limit_pico, slice_pico, offline) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (budget_id) DO UPDATE SET limit_pico = excluded.limit_pico, slice_pico = excluded.slice_pico, offline = excluded.offline, updated_at = now()`,
  [id, member, kind, pico(amount), pico(slice), offline]));
  io.stdout(`Team budget ${id}: ${money(amount)} per ${kind === 'daily' ? 'UTC day' : 'UTC month'}, leased in slices of ${money(slice)}; with the team database unreachable past a lease: ${offline === 'closed' ? 'refuse' : 'serve one more slice'}. Overspend across all machines is at most one slice per machine offline under "open", none under "closed".\n`);
  return 0;
}

