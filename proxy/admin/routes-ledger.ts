// Admin routes over the usage ledger: sessions, one session, reports and the CSV export. Thin:
// validation here, aggregation in proxy/ledger/queries.ts. Must not import app/ or renderer/.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { SESSION_SORTS, type ReportBy } from '../ledger/types.js';
import { AdminError } from './admin-error.js';
import { InvalidRequestError } from '../errors.js';
import type { AnthropicMatchResponse, ReportResponse } from './api-types.js';
import { openDatabase } from '../ledger/sqlite.js';
import { compareWithAnthropic, dayStatuses, ledgerDayModels, readCachedReport } from '../reconcile-anthropic.js';
import { csvLine } from './csv.js';
import { requireLedger, type AdminDeps } from './deps.js';
import { dateBound, intParam, parseBody, parseQuery } from './validate.js';
import { claudeConfigDir, createTranscriptLookup } from './claude-projects.js';
import type { SessionSummary } from '../ledger/types.js';

const REPORT_BYS = ['day', 'hour', 'model', 'tool', 'session'] as const;

const sessionsQuery = z.object({
  search: z.string().max(200).optional(),
  sort: z.enum(SESSION_SORTS).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: intParam(1, 1000).optional(),
  offset: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
  since: dateBound.optional(),
  until: dateBound.optional(),
  tool: z.string().min(1).max(64).optional(),
}).strict();

const sessionQuery = z.object({
  limit: intParam(1, 5000).optional(),
  offset: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
}).strict();

const reportQuery = z.object({
  by: z.enum(REPORT_BYS).default('day'),
  since: dateBound.optional(),
  until: dateBound.optional(),
  limit: intParam(1, 100_000).optional(),
}).strict();

const CSV_COLUMNS = ['requests', 'errors', 'billed_requests', 'input_tokens', 'output_tokens', 'cache_write_5m_tokens',
  'cache_write_1h_tokens', 'cache_read_tokens', 'web_search_requests', 'cost_usd', 'unpriced_requests'] as const;

const bound = (v: string | number | undefined) => (v === undefined ? null : String(v));

export function mountLedgerRoutes(router: Router, deps: AdminDeps): void {
  // Claude Code sessions are named from their transcripts: the project when the ledger has none,
  // and the first prompt's time.
  const transcripts = createTranscriptLookup({ configDir: claudeConfigDir(deps.internals.env, deps.machine.home) });
  const named = async <S extends SessionSummary>(s: S): Promise<S> => {
    const info = await transcripts.lookup(s.sessionId);
    return { ...s, project: s.project ?? info?.project ?? null, firstPromptAt: info?.firstPromptAt ?? null };
  };

  router.get('/sessions', async (req: Request, res: Response) => {
    const q = parseQuery(sessionsQuery, req.originalUrl);
    const page = requireLedger(deps).listSessions(q);
    res.json({ ...page, sessions: await Promise.all(page.sessions.map(named)) });
  });

  router.get('/sessions/:id', async (req: Request, res: Response) => {
    const q = parseQuery(sessionQuery, req.originalUrl);
    const id = String(req.params.id);
    const detail = requireLedger(deps).getSession(id, q);
    if (!detail) throw new AdminError('ADMIN_NOT_FOUND', `No session ${JSON.stringify(id.slice(0, 80))} in the ledger.`);
    res.json({ ...detail, session: await named(detail.session) });
  });

  // Claude Code's statusline (`sluice statusline`) names a live session's project from its
  // workspace.project_dir; the ledger keeps the first one it hears (never replaces a known one).
  router.post('/sessions/:id/project', (req: Request, res: Response) => {
    const id = String(req.params.id);
    if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(id)) throw new InvalidRequestError('A session id is letters, digits and _ . : - (at most 200).');
    const { project } = parseBody(z.object({ project: z.string().min(1).max(1000) }).strict(), req.body);
    const stored = requireLedger(deps).setSessionProject(id, project);
    res.json({ session: id, stored });
  });

  // Whether Sluice matches Anthropic's own usage and cost report, per UTC day, from the report
  // `sluice reconcile --anthropic` cached in the data dir: the dashboard never calls the Admin
  // API (no Admin key leaves the keychain for it); null `fetchedAt` means nothing is cached yet.
  router.get('/reconcile/anthropic', (_req: Request, res: Response) => {
    const ledger = requireLedger(deps);
    const { report } = readCachedReport(deps.internals.dataDir);
    if (report === null) {
      const body: AnthropicMatchResponse = { fetchedAt: null, since: null, until: null, days: [] };
      res.json(body);
      return;
    }
    const db = openDatabase(ledger.path, { readonly: true });
    try {
      const days = dayStatuses(compareWithAnthropic(ledgerDayModels(db, report.since, report.until), report, deps.now()));
      const body: AnthropicMatchResponse = { fetchedAt: report.fetchedAt, since: report.since, until: report.until, days };
      res.json(body);
    } finally {
      db.close();
    }
  });

  router.get('/report', (req: Request, res: Response) => {
    const q = parseQuery(reportQuery, req.originalUrl);
    const rows = requireLedger(deps).report(q);
    const body: ReportResponse = { by: q.by, since: bound(q.since), until: bound(q.until), rows };
    res.json(body);
  });

  /**
   * The report (grouped by day, model, tool or session) as CSV, one line per group, written as
   * it is produced. Costs are USD; an empty cost_usd means nothing in that group had a price.
   */
  router.get('/export.csv', (req: Request, res: Response) => {
    const q = parseQuery(reportQuery, req.originalUrl);
    const rows = requireLedger(deps).report({ ...q, limit: q.limit ?? 100_000 });
    const by: ReportBy = q.by;
    const name = `sluice-spend-by-${by}-${bound(q.since) ?? 'start'}-to-${bound(q.until) ?? 'now'}.csv`;
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.write(csvLine([by, ...CSV_COLUMNS]));
    for (const r of rows) {
      res.write(csvLine([
        r.key, r.requests, r.errors, r.billedRequests, r.inputTokens, r.outputTokens, r.cacheWrite5mTokens,
        r.cacheWrite1hTokens, r.cacheReadTokens, r.webSearchRequests, r.costUsd, r.unpricedRequests,
      ]));
    }
    res.end();
  });
}
