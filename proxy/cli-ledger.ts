// The ledger commands of the `sluice` CLI: stats, sessions show, import claude-code, reconcile.
// Reads the same SQLite file the gateway writes (WAL lets both run at once).
import { join } from 'node:path';
import { openLedger, type Ledger, type ReconcileReasonKind, type ReportBy, type UsageSums } from './ledger/index.js';
import { importClaudeCodeTranscripts } from './ledger/import-claude-code.js';
import { createPriceBook, loadBundledPrices, parsePriceOverrides } from './pricing/index.js';
import { openSettings } from './store/settings.js';
import { formatCost as formatUsdCost, formatDuration, formatInt, formatTokens, formatUsd, modelsLabel, shortModel } from './format.js';
import { cut, renderTable, TABLE_WIDTH, useColor, wrap, type Column } from './cli-table.js';
import { requestStory } from './ledger/explain.js';

export interface LedgerCliIo {
  stdout: (s: string) => void;
  /** stdout is a terminal: tables may be coloured (never under NO_COLOR). */
  isTTY?: boolean;
  env: Record<string, string | undefined>;
  home: string;
}

export class LedgerCliUsageError extends Error {}

export function ledgerPath(dataDir: string): string {
  return join(dataDir, 'ledger.sqlite');
}

const BY: readonly ReportBy[] = ['session', 'day', 'model', 'tool'];
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(flag: string, v: string | undefined): string | undefined {
  if (v !== undefined && !DATE_RE.test(v)) throw new LedgerCliUsageError(`${flag} takes a date as YYYY-MM-DD, got "${v}"`);
  return v;
}

/** "$0.0123", "unpriced", or "$1.20 + 2 unpriced": never a silent $0 for an unknown model. */
export function formatCost(s: Pick<UsageSums, 'costUsd' | 'unpricedRequests'>): string {
  return formatUsdCost(s.costUsd, s.unpricedRequests);
}

const n = formatInt;
const errStyle = (c: string) => (c.trim() !== '0' ? 'red' : 'dim');
const costStyle = (c: string) => (c.includes('unpriced') ? 'yellow' : null);
/** Sums columns: cost is never dropped; cache columns go first, then errors. */
const SUM_COLS: Column[] = [
  { head: 'reqs', align: 'right' },
  { head: 'errors', align: 'right', drop: 3, style: errStyle },
  { head: 'input', align: 'right', drop: 4 },
  { head: 'output', align: 'right', drop: 5 },
  { head: 'cache wr', align: 'right', drop: 1 },
  { head: 'cache rd', align: 'right', drop: 2 },
  { head: 'cost', align: 'right', style: costStyle },
];
const sumCells = (s: UsageSums) => [n(s.requests), n(s.errors), formatTokens(s.inputTokens), formatTokens(s.outputTokens), formatTokens(s.cacheWriteTokens), formatTokens(s.cacheReadTokens), formatCost(s)];
const tableFor = (io: LedgerCliIo) => (cols: Column[], rows: string[][]) => renderTable(cols, rows, { color: useColor(io) });

function withLedger<T>(dataDir: string, fn: (l: Ledger) => T): T {
  const ledger = openLedger(ledgerPath(dataDir));
  try {
    return fn(ledger);
  } finally {
    ledger.close();
  }
}

export function stats(io: LedgerCliIo, dataDir: string, o: { by?: string; since?: string; until?: string; json?: boolean; limit?: string }): number {
  const by = (o.by ?? 'day') as ReportBy;
  if (!BY.includes(by)) throw new LedgerCliUsageError(`--by takes one of ${BY.join(', ')}`);
  const since = checkDate('--since', o.since);
  const until = checkDate('--until', o.until);
  const limit = o.limit === undefined ? 1000 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new LedgerCliUsageError('--limit takes 1-100000');
  return withLedger(dataDir, (ledger) => {
    const totals = ledger.totals({ since, until });
    if (by === 'session') {
      const page = ledger.listSessions({ since, until, sort: 'lastSeen', order: 'desc', limit });
      if (o.json) {
        io.stdout(`${JSON.stringify({ by, since: since ?? null, until: until ?? null, total: page.total, rows: page.sessions, totals }, null, 2)}\n`);
        return 0;
      }
      io.stdout(tableFor(io)([
        { head: 'session', min: 14 },
        { head: 'last seen', drop: 6 },
        { head: 'tool', min: 11, drop: 7 },
        { head: 'models', min: 10, drop: 0 },
        ...SUM_COLS,
      ], page.sessions.map((s) => [
        // Requests without a session id are grouped per tool and hour: their ids mean nothing to read.
        (s.sessionId.startsWith('nosession:') ? '(no session)' : s.sessionId) + (s.imported && !s.viaGateway ? ' (imported)' : ''),
        new Date(s.lastSeen).toISOString().slice(0, 16).replace('T', ' '),
        s.tool,
        modelsLabel(s.models, s.modelAliases),
        ...sumCells(s),
      ])));
    } else {
      const rows = ledger.report({ by, since, until, limit });
      if (o.json) {
        io.stdout(`${JSON.stringify({ by, since: since ?? null, until: until ?? null, rows, totals }, null, 2)}\n`);
        return 0;
      }
      io.stdout(tableFor(io)([{ head: by, min: 16 }, ...SUM_COLS], rows.map((r) => [r.key || '(unknown)', ...sumCells(r)])));
    }
    io.stdout(`total: ${n(totals.requests)} requests, ${formatCost(totals)}`
      + (totals.estimatedRequests > 0 ? ` (≈ ${n(totals.estimatedRequests)} of ${n(totals.billedRequests)} billed responses estimated: cancelled or cut streams)` : '') + '\n');
    return 0;
  });
}

export function showSession(io: LedgerCliIo, dataDir: string, id: string | undefined, o: { json?: boolean }): number {
  if (!id) throw new LedgerCliUsageError('sessions show needs a session id (see `sluice stats --by session`)');
  return withLedger(dataDir, (ledger) => {
    const detail = ledger.getSession(id, { limit: 10_000 });
    if (!detail) {
      io.stdout(o.json ? 'null\n' : `No session "${id}" in the ledger.\n`);
      return 1;
    }
    if (o.json) {
      io.stdout(`${JSON.stringify(detail, null, 2)}\n`);
      return 0;
    }
    const s = detail.session;
    io.stdout(`session ${s.sessionId}  tool ${s.tool}\n`);
    if (s.project) io.stdout(`project ${cut(s.project, TABLE_WIDTH - 8)}\n`);
    io.stdout(`${new Date(s.firstSeen).toISOString()} .. ${new Date(s.lastSeen).toISOString()}  ${n(s.requests)} requests, ${n(s.errors)} errors, ${formatCost(s)}\n\n`);
    io.stdout(tableFor(io)([
      { head: 'time' },
      { head: 'model', min: 12 },
      // "200", or "200 x3 fallback" when it took retries or another target.
      { head: 'status', min: 6, style: (c) => (!/^[23]\d\d/.test(c) ? 'red' : c.includes(' ') ? 'yellow' : 'green') },
      { head: 'input', align: 'right', drop: 4 },
      { head: 'output', align: 'right', drop: 5 },
      { head: 'cache wr', align: 'right', drop: 1 },
      { head: 'cache rd', align: 'right', drop: 2 },
      { head: 'ttfb', align: 'right', drop: 3 },
      { head: 'cost', align: 'right', style: costStyle },
    ], detail.requests.map((r) => [
      new Date(r.tsStart).toISOString().slice(11, 19),
      (r.servedModel ?? r.requestedModel ?? '-') + (r.endpoint === 'messages' ? '' : ` (${r.endpoint})`),
      (r.status === null ? (r.errorType ?? '-') : String(r.status)) + (r.attemptsMade > 1 ? ` x${r.attemptsMade}` : '') + (r.fallback ? ' fallback' : '')
        + (r.estimated === 'client_cancelled' ? ' cancelled' : r.estimated === 'upstream_cut' ? ' cut' : ''),
      formatTokens(r.inputTokens), (r.estimated !== null ? '≈' : '') + formatTokens(r.outputTokens), formatTokens(r.cacheWrite5mTokens + r.cacheWrite1hTokens), formatTokens(r.cacheReadTokens),
      r.ttfbMs === null ? '-' : formatDuration(r.ttfbMs),
      !r.billed ? '-' : (r.estimated !== null ? '≈' : '') + formatUsd(r.costUsd),
    ])));
    if (s.estimatedRequests > 0) io.stdout(`≈ ${n(s.estimatedRequests)} of ${n(s.billedRequests)} billed responses ended early (cancelled or cut): their output is the delivered count.\n`);
    // What happened on the way upstream, in the dashboard's words (proxy/ledger/explain.ts).
    // Each under its request's time, wrapped (not cut) so the reason stays readable.
    const detours = detail.requests.flatMap((r) => requestStory(r).map((st) => `${new Date(r.tsStart).toISOString().slice(11, 19)}  ${wrap(st.text, TABLE_WIDTH, ' '.repeat(10)).slice(10)}`));
    if (detours.length) io.stdout(`\nretries, fallbacks and refusals:\n${detours.map((d) => `${d}\n`).join('')}`);
    return 0;
  });
}

export async function importClaudeCode(io: LedgerCliIo, dataDir: string, dir: string | undefined): Promise<number> {
  const source = dir ?? join(io.env.CLAUDE_CONFIG_DIR || join(io.home, '.claude'), 'projects');
  const settings = await openSettings(dataDir);
  const priceBook = createPriceBook(await loadBundledPrices(), parsePriceOverrides(settings.get().pricing.overrides));
  const ledger = openLedger(ledgerPath(dataDir));
  try {
    const r = await importClaudeCodeTranscripts(ledger, { dir: source, priceBook });
    // "new" counts only what the import added to the totals: a response the gateway already
    // metered is stored for reconcile but is not new spend.
    io.stdout(`Imported Claude Code transcripts from ${source}: ${r.files} files, ${r.responses} responses, ${r.inserted - r.shadowedByGateway} new, `
      + `${r.skippedDuplicates} already known, ${r.shadowedByGateway} also seen by the gateway, ${r.malformed} malformed lines skipped.\n`);
    return 0;
  } finally {
    ledger.close();
  }
}

const REASON_TEXT: Record<ReconcileReasonKind, string> = {
  not_via_gateway: 'not via the gateway',
  not_in_transcripts: 'not in the transcripts',
  no_transcript: 'no transcript imported',
  estimated: 'estimated output (cancelled or cut)',
  unpriced: 'model not in the price sheet',
  mismatch: 'DIFFERENT tokens or cost',
};

export function reconcile(io: LedgerCliIo, dataDir: string, o: { session?: string; json?: boolean }): number {
  return withLedger(dataDir, (ledger) => {
    const rows = ledger.reconcile({ sessionId: o.session });
    if (o.json) {
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout('No session in the ledger yet: run traffic through Sluice or `sluice import claude-code`.\n');
      return 0;
    }
    io.stdout(tableFor(io)([
      { head: 'session', min: 14 },
      { head: 'gateway in/out', align: 'right' },
      { head: 'imported in/out', align: 'right' },
      { head: 'matched', align: 'right' },
      { head: 'differs', style: (c) => (c.trim() === 'YES' ? 'red' : 'dim') },
      { head: 'why the numbers differ', min: 12, drop: 0 },
    ], rows.map((r) => [
      r.sessionId,
      `${n(r.gateway.inputTokens)}/${n(r.gateway.outputTokens)}`,
      `${n(r.imported.inputTokens)}/${n(r.imported.outputTokens)}`,
      String(r.matchedMessages),
      r.differs ? 'YES' : 'no',
      r.reasons.map((x) => `${REASON_TEXT[x.kind]} (${n(x.responses)})`).join('; ') || '-',
    ])));
    const real = rows.filter((r) => r.differs).length;
    io.stdout(real === 0
      ? `${rows.length} sessions: every response seen both ways agrees.\n`
      : `${rows.length} sessions: ${real} with responses recorded differently by the gateway and the transcript.\n`);
    return 0;
  });
}
