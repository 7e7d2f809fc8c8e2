// Team budgets enforced on every member's gateway through leases. A budget (team-wide, or one
// member's; daily or monthly, in UTC periods) lives in PostgreSQL with `granted_pico`: the sum of
// the slices handed out for the period. A gateway holds one lease per budget and period; renewing
// it is ONE transaction that locks the period row and grants min(wanted, limit - granted), so the
// sum of every machine's grants never passes the limit. The gateway then admits requests against
// its lease locally (no PostgreSQL on the request path while the lease covers them), renews in
// the background when less than half a slice is left and every ttl/3 (reporting its spend), and
// returns what it did not spend when it stops.
//
// Bounds (README "Teams"):
// - Overspend with PostgreSQL reachable, or with policy `closed`: every admitted request reserved
//   its worst-case estimate inside a granted lease, so team spend <= limit + the sum over requests
//   in flight of (real cost - estimate)+, which is 0 when estimates are upper bounds (estimate.ts).
// - Policy `open`: a gateway that cannot reach PostgreSQL once its lease has run out or expired
//   grants itself one more slice (an overdraft, once per period) and says so; overspend is then
//   at most one slice per such machine. Policy `closed` refuses instead.
// - Underspend: a machine that dies holding a lease strands at most its unspent slice until it
//   comes back (its lease is re-read then) or the period ends.
// Imports `pg` types only.
import type { Pool, PoolClient } from 'pg';

export type BudgetKind = 'daily' | 'monthly';
export type OfflinePolicy = 'open' | 'closed';

export interface TeamBudgetDef {
  budgetId: string;
  /** null: the team-wide budget. */
  member: string | null;
  kind: BudgetKind;
  limitPico: number;
  slicePico: number;
  offline: OfflinePolicy;
}

export function budgetIdOf(kind: BudgetKind, member: string | null): string {
  return member === null ? `team:${kind}` : `member:${member}:${kind}`;
}

/** UTC period of an instant: `YYYY-MM-DD` or `YYYY-MM`. Team budgets use UTC: one clock for every member. */
export function periodOf(kind: BudgetKind, t: number): string {
  const iso = new Date(t).toISOString();
  return kind === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
}

export function periodRange(kind: BudgetKind, period: string): { since: number; until: number } {
  if (kind === 'daily') {
    const since = Date.parse(`${period}T00:00:00Z`);
    return { since, until: since + 86_400_000 };
  }
  const [y, m] = period.split('-').map(Number) as [number, number];
  return { since: Date.UTC(y, m - 1, 1), until: Date.UTC(y, m, 1) };
}

export class TeamBudgetError extends Error {
  constructor(readonly budgetId: string, message: string, readonly reason: 'exhausted' | 'offline') {
    super(message);
  }
}

interface Lease {
  def: TeamBudgetDef;
  period: string;
  granted: number;
  spent: number;
  reserved: number;
  expiresAt: number;
  /** Self-granted overdraft under policy `open` (PostgreSQL unreachable). */
  overdraft: number;
  loaded: boolean;
  renewing: Promise<void> | null;
  lastError: string | null;
}

export interface LeaseAdmission {
  readonly estimatePico: number;
  readonly leases: readonly Lease[];
  done: boolean;
}

export interface LeaseStatus {
  budgetId: string;
  period: string;
  limitPico: number;
  slicePico: number;
  grantedPico: number;
  spentPico: number;
  reservedPico: number;
  overdraftPico: number;
  expiresAt: number;
  offline: OfflinePolicy;
  lastError: string | null;
}

export interface LeaseManagerOptions {
  pool: () => Pool | null;
  machineId: string;
  member: () => string;
  /** This machine's settled spend (pico) in [since, until): its ledger, gateway rows. */
  localSpent(range: { since: number; until: number }): number;
  now?: () => number;
  ttlMs?: number;
  /** Longest a request waits for a renewal when its lease cannot cover it. */
  renewWaitMs?: number;
  onNote?(budgetId: string, message: string | null): void;
}

export interface LeaseManager {
  /** Re-reads the budget definitions; renews leases due (background caller: the sync loop). */
  refresh(): Promise<void>;
  admit(estimatePico: number): Promise<LeaseAdmission | null>;
  settle(a: LeaseAdmission, actualPico: number): void;
  status(): LeaseStatus[];
  /** Gives unspent grants back (clean shutdown: `final`; leave or another team: not). */
  returnAll(o?: { final?: boolean }): Promise<void>;
}

const ROW_TO_DEF = (r: Record<string, unknown>): TeamBudgetDef => ({
  budgetId: r.budget_id as string, member: (r.member as string | null) ?? null, kind: r.kind as BudgetKind,
  limitPico: Number(r.limit_pico), slicePico: Number(r.slice_pico), offline: r.offline as OfflinePolicy,
});

async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

export function createLeaseManager(opts: LeaseManagerOptions): LeaseManager {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? 60_000;
  const renewWait = opts.renewWaitMs ?? 3000;
  let defs: TeamBudgetDef[] = [];
  const leases = new Map<string, Lease>();

  const leaseFor = (def: TeamBudgetDef, t: number): Lease => {
    const period = periodOf(def.kind, t);
    const key = `${def.budgetId}@${period}`;
    let l = leases.get(key);
    if (!l) {
      l = { def, period, granted: 0, spent: opts.localSpent(periodRange(def.kind, period)), reserved: 0, expiresAt: 0, overdraft: 0, loaded: false, renewing: null, lastError: null };
      leases.set(key, l);
      // A lease of an earlier period still held: give its rest back.
      for (const [k, old] of leases) {
        if (old.def.budgetId === def.budgetId && old.period !== period && old.reserved === 0) {
          leases.delete(k);
          void giveBack(old).catch(() => {});
        }
      }
    }
    l.def = def;
    return l;
  };

  /** Set while leases are being given back (and for good after close): no new grants. */
  let paused = false;
  const renew = (l: Lease): Promise<void> => {
    if (paused) return Promise.reject(new Error('team budget leases are being returned'));
    l.renewing ??= (async () => {
      const pool = opts.pool();
      try {
        if (!pool) throw new Error('not connected to the team database');
        const t = now();
        const r = await inTransaction(pool, async (c) => {
          const d = await c.query('SELECT * FROM team_budgets WHERE budget_id = $1', [l.def.budgetId]);
          if (d.rowCount === 0) return null;
          const def = ROW_TO_DEF(d.rows[0]);
          await c.query('INSERT INTO team_budget_periods (budget_id, period) VALUES ($1, $2) ON CONFLICT DO NOTHING', [def.budgetId, l.period]);
          // The period row's lock serialises every machine's grant for this budget and period.
          const p = await c.query('SELECT granted_pico FROM team_budget_periods WHERE budget_id = $1 AND period = $2 FOR UPDATE', [def.budgetId, l.period]);
          const g = Number(p.rows[0].granted_pico);
          const mine = await c.query('SELECT granted_pico FROM team_leases WHERE budget_id = $1 AND period = $2 AND machine_id = $3', [def.budgetId, l.period, opts.machineId]);
          const lg = mine.rowCount ? Number(mine.rows[0].granted_pico) : 0;
          // Top up so that one slice is free again (covering any overdraft spent meanwhile).
          const want = Math.max(0, l.spent + l.reserved + def.slicePico - lg);
          const delta = Math.max(0, Math.min(want, def.limitPico - g));
          if (delta > 0) await c.query('UPDATE team_budget_periods SET granted_pico = granted_pico + $3 WHERE budget_id = $1 AND period = $2', [def.budgetId, l.period, delta]);
          await c.query(`INSERT INTO team_leases (budget_id, period, machine_id, granted_pico, spent_pico, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (budget_id, period, machine_id) DO UPDATE SET granted_pico = excluded.granted_pico, spent_pico = excluded.spent_pico, expires_at = excluded.expires_at, updated_at = now()`,
          [def.budgetId, l.period, opts.machineId, lg + delta, l.spent, t + ttl]);
          return { def, granted: lg + delta };
        });
        if (!r) {
          l.granted = 0;
          l.expiresAt = 0;
          return;
        }
        l.def = r.def;
        l.granted = r.granted;
        l.expiresAt = t + ttl;
        l.loaded = true;
        // Overdraft spend is inside `spent` now and was asked for above.
        l.overdraft = 0;
        if (l.lastError !== null) opts.onNote?.(l.def.budgetId, null);
        l.lastError = null;
      } catch (err) {
        l.lastError = (err as Error).message;
        throw err;
      } finally {
        l.renewing = null;
      }
    })();
    return l.renewing;
  };

  const giveBack = async (l: Lease) => {
    const pool = opts.pool();
    if (!pool || !l.loaded) return;
    const unspent = l.granted - l.spent;
    await inTransaction(pool, async (c) => {
      if (unspent > 0) await c.query('UPDATE team_budget_periods SET granted_pico = granted_pico - $3 WHERE budget_id = $1 AND period = $2', [l.def.budgetId, l.period, unspent]);
      await c.query('UPDATE team_leases SET granted_pico = $4, spent_pico = $5, expires_at = $6, updated_at = now() WHERE budget_id = $1 AND period = $2 AND machine_id = $3',
        [l.def.budgetId, l.period, opts.machineId, unspent > 0 ? l.spent : l.granted, l.spent, now()]);
    });
    if (unspent > 0) l.granted = l.spent;
    l.expiresAt = 0;
  };

  const free = (l: Lease) => l.granted + l.overdraft - l.spent - l.reserved;
  const applicable = () => defs.filter((d) => d.member === null || d.member === opts.member());

  const describe = (l: Lease) => `${l.def.member === null ? 'the team' : `member ${l.def.member}'s`} ${l.def.kind} budget ($${(l.def.limitPico / 1e12).toFixed(2)}, ${l.period} UTC)`;

  return {
    async refresh() {
      const pool = opts.pool();
      if (!pool) return;
      const r = await pool.query('SELECT * FROM team_budgets');
      defs = r.rows.map(ROW_TO_DEF);
      const t = now();
      const due: Promise<void>[] = [];
      for (const def of applicable()) {
        const l = leaseFor(def, t);
        if (!l.loaded || l.expiresAt - t < (ttl * 2) / 3 || free(l) < def.slicePico / 2) due.push(renew(l).catch(() => {}));
      }
      await Promise.all(due);
    },
    async admit(estimatePico) {
      const list = applicable();
      if (list.length === 0) return null;
      const t = now();
      const held: Lease[] = [];
      for (const def of list) {
        const l = leaseFor(def, t);
        // An offline slice is not tied to the lease's expiry: it ends when spent (or PostgreSQL is back).
        const covered = () => (now() < l.expiresAt || l.overdraft > 0) && free(l) >= estimatePico;
        if (!covered()) {
          let offline = false;
          try {
            await Promise.race([renew(l), new Promise((_, rej) => setTimeout(() => rej(new Error('renewal timed out')), renewWait).unref())]);
          } catch {
            offline = true;
          }
          if (offline && !covered()) {
            if (l.def.offline === 'closed' || l.overdraft > 0) {
              throw new TeamBudgetError(l.def.budgetId, `Sluice refused this request: ${describe(l)} cannot be checked: the team database is unreachable (${l.lastError ?? 'no answer'}) and this machine's lease ${now() >= l.expiresAt ? 'has expired' : 'is spent'}${l.overdraft > 0 ? ', including its one offline slice' : ''}. Policy "${l.def.offline === 'closed' ? 'closed' : 'open'}": ${l.def.offline === 'closed' ? 'requests wait for the team database' : 'one extra slice per period while offline'}.`, 'offline');
            }
            // Policy `open`: one slice of overdraft, said aloud; repaid from the next grant.
            l.overdraft = l.def.slicePico;
            opts.onNote?.(l.def.budgetId, `${describe(l)}: the team database is unreachable; serving under an offline slice of $${(l.def.slicePico / 1e12).toFixed(2)} (policy "open").`);
          }
          if (!covered()) {
            throw new TeamBudgetError(l.def.budgetId, `Sluice refused this request: ${describe(l)} would be exceeded: this machine's share is spent and the team has no budget left this period. Ask the team lead to raise it: \`sluice team budget set ${l.def.kind} <usd>${l.def.member ? ` --member ${l.def.member}` : ''}\`.`, 'exhausted');
          }
        }
        held.push(l);
      }
      for (const l of held) {
        l.reserved += estimatePico;
        // Prefetch: keep half a slice ahead so requests rarely wait on a renewal.
        if (free(l) < l.def.slicePico / 2 && !l.renewing) void renew(l).catch(() => {});
      }
      return { estimatePico, leases: held, done: false };
    },
    settle(a, actualPico) {
      if (a.done) return;
      a.done = true;
      for (const l of a.leases) {
        l.reserved -= a.estimatePico;
        l.spent += actualPico;
      }
    },
    status: () => [...leases.values()].map((l) => ({
      budgetId: l.def.budgetId, period: l.period, limitPico: l.def.limitPico, slicePico: l.def.slicePico, grantedPico: l.granted,
      spentPico: l.spent, reservedPico: l.reserved, overdraftPico: l.overdraft, expiresAt: l.expiresAt, offline: l.def.offline, lastError: l.lastError,
    })),
    async returnAll(o = {}) {
      paused = true;
      // A renewal still in flight would grant again after the return: let it land first.
      await Promise.all([...leases.values()].map((l) => l.renewing?.catch(() => {})));
      await Promise.all([...leases.values()].map((l) => giveBack(l).catch(() => {})));
      if (!o.final) {
        leases.clear();
        paused = false;
      }
    },
  };
}
