// Team mode as a gateway extension: replicates this machine's ledger rows to the team's
// PostgreSQL in the background (replicator.ts) and enforces team budgets through leases
// (leases.ts) as a request stage. Nothing here runs on the request path except the lease check,
// which only waits for PostgreSQL when this machine's lease cannot cover a request. Membership
// lives in team.sqlite (written by `sluice team join|leave`), re-read every few seconds, so the
// CLI needs no admin call. Uses only GatewayInternals.
import type { IncomingMessage } from 'node:http';
import type { Express, Request, Response } from 'express';
import type { Pool } from 'pg';
import { GatewayError, InvalidRequestError } from '../errors.js';
import type { GatewayExtension, GatewayInternals, Stage } from '../gateway.js';
import { AdminUnauthorizedError } from '../control/errors.js';
import { maxTokensOf } from '../json-scan.js';
import { createPriceBook, loadBundledPrices, parsePriceOverrides, type ModelPrice, type PriceBook } from '../pricing/index.js';
import { BudgetExceededError } from '../control/errors.js';
import { estimateCost, worstCasePrice } from '../control/estimate.js';
import { VERSION } from '../version.js';
import { createTeamPool, describeConnection, TEAM_PASSWORD_ENV, TEAM_SECRET_ACCOUNT } from './connect.js';
import { createLeaseManager, periodOf, periodRange, TeamBudgetError, type LeaseManager, type LeaseStatus } from './leases.js';
import { budgetRefusalHeaders, budgetRefusalLead } from '../control/unified-limits.js';
import { openTeamStore, teamDbPath, type TeamConfig, type TeamStore } from './local-store.js';
import { createReplicator, openLedgerOutbox, type ReplicationStatus, type Replicator } from './replicator.js';
import { migrateTeamSchema, TeamSchemaTooNewError } from './schema.js';
import { listTeamBudgets, queryTeamReport, TEAM_REPORT_BY, teamStatusOf, TeamReportInputError, type TeamReportBy } from './report.js';

export { runTeamCli, TEAM_HELP } from './cli.js';
export { TeamSchemaTooNewError, TEAM_SCHEMA_VERSION } from './schema.js';
export * from './report.js';

/** A team view was asked for on a machine that has not joined a team (the page shows how to). */
export class TeamNotJoinedError extends GatewayError {
  constructor() {
    super('TEAM_NOT_JOINED', 409, 'gateway_team_not_joined', 'This machine is not in a team. Join with `sluice team join <postgres-url> --member NAME` in a terminal (the password goes to the OS keychain).');
  }
}

/** The team database did not answer (or refused); the local gateway keeps serving. */
export class TeamDatabaseError extends GatewayError {
  constructor(message: string) {
    super('TEAM_DATABASE_UNAVAILABLE', 503, 'gateway_team_database_unavailable', message, { retryable: true });
  }
}

export interface TeamExtensionOptions {
  /** team.sqlite location; default `<dataDir>/team.sqlite`. */
  storePath?: string;
  /** How often membership is re-read and leases refreshed. Default 2000 ms. */
  tickMs?: number;
  /** Idle sync interval (rows also go out right after each ledger flush). Default 5000 ms. */
  syncIntervalMs?: number;
  leaseTtlMs?: number;
  renewWaitMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  now?: () => number;
  /** The admin API's check for GET /admin/api/team/*; without one those routes answer 401. */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
}

export interface TeamStatus {
  joined: boolean;
  member: string | null;
  machineId: string;
  connected: boolean;
  replication: ReplicationStatus | null;
  leases: LeaseStatus[];
}

export interface TeamExtension extends GatewayExtension {
  status(): TeamStatus;
  /** Sends pending rows now (tests, `team status --sync`). */
  syncNow(): Promise<{ rows: number; inserted: number }>;
  store: TeamStore;
}

/**
 * @example
 * createGateway({ dataDir, extensions: [teamExtension()] });
 */
export function teamExtension(opts: TeamExtensionOptions = {}): (internals: GatewayInternals) => TeamExtension {
  return (internals) => {
    const now = opts.now ?? Date.now;
    const { logger } = internals;
    const store = openTeamStore(opts.storePath ?? teamDbPath(internals.dataDir));
    const machineId = store.machineId();
    let cfg: TeamConfig | null = store.config();
    let cfgKey = JSON.stringify(cfg);
    let pool: Pool | null = null;
    let connecting: Promise<void> | null = null;
    let schemaReady = false;
    let closed = false;
    const ledgerPath = internals.ledger?.path ?? null;
    const spentReader = ledgerPath ? openLedgerOutbox(ledgerPath) : null;

    const connect = async () => {
      if (pool || !cfg) return;
      connecting ??= (async () => {
        let password: string | null = null;
        try { password = (await internals.secrets?.get(TEAM_SECRET_ACCOUNT)) ?? null; } catch { /* headless: env below */ }
        password ??= internals.env[TEAM_PASSWORD_ENV] ?? null;
        if (!cfg || closed) return;
        pool = createTeamPool(cfg.conn, password, (err) => logger.debug(`team: idle database connection lost: ${err.message}`));
        if (password) logger.addSecret(password);
      })().finally(() => { connecting = null; });
      await connecting;
    };

    const ready = async () => {
      await connect();
      if (schemaReady || !pool || !cfg) return;
      const c = await pool.connect();
      try {
        await migrateTeamSchema(c);
        await c.query(`INSERT INTO team_machines (machine_id, member, name, sluice_version) VALUES ($1, $2, $3, $4)
          ON CONFLICT (machine_id) DO UPDATE SET member = excluded.member, name = excluded.name, sluice_version = excluded.sluice_version`,
        [machineId, cfg.member, cfg.machineName, VERSION]);
        schemaReady = true;
      } finally {
        c.release();
      }
    };

    let failing = false;
    const replicator: Replicator | null = ledgerPath ? createReplicator({
      ledgerPath, store, machineId,
      pool: () => (cfg ? pool : null),
      member: () => cfg?.member ?? '',
      ready,
      intervalMs: opts.syncIntervalMs ?? 5000,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      now,
      onError: (err, n) => {
        // One line when it starts failing and one when it recovers, not one per retry.
        if (!failing) logger.warn(`team: cannot sync to the team database (${err.message}); rows wait in the local ledger and go out when it is back (retry ${n})`);
        failing = true;
      },
      onSynced: () => {
        if (failing) logger.info('team: team database reachable again; sync resumed');
        failing = false;
      },
    }) : null;

    const notes: Record<string, string> = {};
    const leases: LeaseManager = createLeaseManager({
      pool: () => (cfg && schemaReady ? pool : null),
      machineId,
      member: () => cfg?.member ?? '',
      localSpent: (range) => {
        internals.ledger?.flush();
        return spentReader ? spentReader.spent(range) : 0;
      },
      now,
      ...(opts.leaseTtlMs ? { ttlMs: opts.leaseTtlMs } : {}),
      ...(opts.renewWaitMs ? { renewWaitMs: opts.renewWaitMs } : {}),
      onNote: (budgetId, message) => {
        if (message === null) delete notes[budgetId];
        else {
          if (notes[budgetId] !== message) {
            logger.warn(`team: ${message}`);
            internals.events.emit('alert', { kind: 'team', level: 'warning', ts: now(), message, data: { budget: budgetId } });
          }
          notes[budgetId] = message;
        }
      },
    });

    const disconnect = async () => {
      const p = pool;
      pool = null;
      schemaReady = false;
      await p?.end().catch(() => {});
    };

    let ticking: Promise<void> | null = null;
    const tick = async () => {
      if (ticking || closed) return;
      let done!: () => void;
      ticking = new Promise<void>((r) => { done = r; });
      try {
        const next = store.config();
        const key = JSON.stringify(next);
        if (key !== cfgKey) {
          // Left or joined another team: give back what this machine holds first.
          await leases.returnAll().catch(() => {});
          await disconnect();
          cfg = next;
          cfgKey = key;
          replicator?.kick();
        }
        if (cfg) {
          await ready();
          await leases.refresh();
        }
      } catch (err) {
        logger.debug(`team: ${(err as Error).message}`);
      } finally {
        try { store.setSync({ budgetNotes: { ...notes }, updatedAt: now(), leases: leases.status() }); } catch { /* status only */ }
        ticking = null;
        done();
      }
    };
    const timer = setInterval(() => { void tick(); }, opts.tickMs ?? 2000);
    timer.unref();
    void tick();
    const offFlush = internals.events.on('ledger:flush', () => replicator?.kick());

    // Prices for the worst-case estimate, as the local budget stage makes it.
    let book: PriceBook | null = null;
    let bookFor: unknown = Symbol('none');
    let fallback: ModelPrice | null = null;
    const tableReady = loadBundledPrices();
    const prices = async () => {
      const t = await tableReady;
      const overrides = internals.settings.get().pricing.overrides;
      if (!book || overrides !== bookFor) {
        try { book = createPriceBook(t, parsePriceOverrides(overrides)); } catch { book = createPriceBook(t); }
        bookFor = overrides;
        fallback = worstCasePrice(t);
      }
      return { book, fallback: fallback! };
    };

    const stage: Stage = {
      name: 'team:budget',
      // Synchronous when this machine is in no team: an async stage would put every request
      // through a promise (the guard runs stages without one when none returns one).
      onRequest(req) {
        if (!cfg || req.method !== 'POST' || req.pathname !== '/v1/messages' || !req.body) return;
        const body = req.body;
        return (async () => {
          const { book: b, fallback: f } = await prices();
          const est = estimateCost(b, f, req.info.model, body, maxTokensOf(body));
          let adm;
          try {
            adm = await leases.admit(est.pico);
          } catch (err) {
            if (err instanceof TeamBudgetError) {
              // The same refusal as a local budget (429 billing_error, retry-after to the UTC
              // period's end); a team-wide budget is a pool the user shares, an unreachable team
              // database a counter Sluice cannot read (fails closed).
              const kind = err.budgetId.endsWith(':daily') ? 'daily' : 'monthly';
              const t = now();
              const offline = err.reason === 'offline';
              const resetsAt = offline ? null : periodRange(kind, periodOf(kind, t)).until;
              const ownKey = req.caller.kind === 'token' || req.caller.credential === 'api-key';
              const headers = budgetRefusalHeaders({
                utilization: 1, resetsAt, period: kind, now: t, unified: ownKey,
                ...(err.budgetId.startsWith('team:') ? { scope: 'group_pool' as const } : {}),
                ...(offline ? { reason: 'fetch_error' as const } : {}),
              });
              throw new BudgetExceededError(err.budgetId, `${offline ? 'spend limit unavailable' : budgetRefusalLead(true, resetsAt)} · ${err.message}`, headers);
            }
            throw err;
          }
          if (!adm) return;
          req.notes.teamBudget = { estimateUsd: est.pico / 1e12, budgets: adm.leases.map((l) => l.def.budgetId) };
          return (row) => {
            const actual = row === null || !row.billed ? 0 : row.costPico ?? est.pico;
            leases.settle(adm, actual);
          };
        })();
      },
    };

    // The team view's admin routes: status from team.sqlite and this gateway's live state (no
    // PostgreSQL needed), report and budgets from the team database over this gateway's pool.
    const authorize = opts.authorize ?? (() => false);
    const guard = (h: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
      if (!(await authorize(req))) throw new AdminUnauthorizedError();
      await h(req, res);
    };
    const send = (res: Response, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    };
    const withTeamDb = async <T>(fn: (p: Pool) => Promise<T>): Promise<T> => {
      if (!cfg) throw new TeamNotJoinedError();
      try {
        await ready();
        if (!pool) throw new Error('no connection to the team database yet');
        return await fn(pool);
      } catch (err) {
        if (err instanceof GatewayError || err instanceof TeamReportInputError) throw err;
        if (err instanceof TeamSchemaTooNewError) throw new TeamDatabaseError(err.message);
        throw new TeamDatabaseError(`The team database at ${cfg ? describeConnection(cfg.conn) : 'its address'} did not answer: ${(err as Error).message}. This gateway keeps serving; rows wait in the local ledger.`);
      }
    };
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const routes = (app: Express) => {
      app.get('/admin/api/team/status', guard(async (_req, res) => {
        send(res, teamStatusOf(store, spentReader, now(), { connected: schemaReady, leases: leases.status() }));
      }));
      app.get('/admin/api/team/report', guard(async (req, res) => {
        const q = new URL(req.originalUrl, 'http://localhost').searchParams;
        for (const k of q.keys()) if (k !== 'by' && k !== 'since' && k !== 'until') throw new InvalidRequestError(`Unknown query parameter "${k.slice(0, 40)}" (by, since, until).`);
        const by = q.get('by') ?? 'member';
        if (!(TEAM_REPORT_BY as readonly string[]).includes(by)) throw new InvalidRequestError(`by takes ${TEAM_REPORT_BY.join(', ')}.`);
        for (const k of ['since', 'until']) if (q.has(k) && !/^\d{4}-\d{2}-\d{2}$/.test(q.get(k)!)) throw new InvalidRequestError(`${k} takes YYYY-MM-DD.`);
        send(res, await withTeamDb((p) => queryTeamReport(p, { by: by as TeamReportBy, since: q.get('since'), until: q.get('until'), tz })));
      }));
      app.get('/admin/api/team/budgets', guard(async (_req, res) => {
        send(res, { budgets: await withTeamDb((p) => listTeamBudgets(p)) });
      }));
    };

    return {
      name: 'team',
      stages: [stage],
      routes,
      store,
      status: () => ({
        joined: cfg !== null, member: cfg?.member ?? null, machineId, connected: schemaReady,
        replication: replicator?.status() ?? null, leases: leases.status(),
      }),
      syncNow: async () => replicator ? replicator.syncNow() : { rows: 0, inserted: 0 },
      async close() {
        closed = true;
        clearInterval(timer);
        offFlush();
        await ticking;
        // The gateway has drained: the ledger holds every row; send what the team has not seen.
        internals.ledger?.flush();
        if (cfg && pool) await Promise.race([replicator?.syncNow().catch(() => {}), new Promise((r) => setTimeout(r, 3000).unref())]);
        await leases.returnAll({ final: true }).catch(() => {});
        try { store.setSync({ leases: leases.status() }); } catch { /* status only */ }
        await replicator?.close();
        spentReader?.close();
        await disconnect();
        store.close();
      },
    };
  };
}
