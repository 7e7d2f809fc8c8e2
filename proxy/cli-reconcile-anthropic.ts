// `sluice reconcile --anthropic`: the ledger against the organization's own usage and cost report
// (proxy/reconcile-anthropic.ts), as a table per UTC day and model with the cause of every
// difference, or --json. The Admin key comes from the OS keychain only ("anthropic-admin").
import { existsSync } from 'node:fs';
import { openDatabase } from './ledger/sqlite.js';
import { ledgerPath, LedgerCliUsageError } from './cli-ledger.js';
import { paint, renderTable, useColor } from './cli-table.js';
import { formatInt, formatTokens, formatUsd, shortModel } from './format.js';
import type { SecretStore } from './store/secrets.js';
import {
  ADMIN_KEY_ACCOUNT, CAUSE_LABEL, CAUSE_TEXT, compareWithAnthropic, dayStatuses, DEFAULT_ADMIN_BASE_URL, ledgerDayModels, loadAnthropicReport,
} from './reconcile-anthropic.js';

export interface ReconcileAnthropicIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY?: boolean;
  env: Record<string, string | undefined>;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const pico = (p: bigint | null) => (p === null ? null : Number(p) / 1e12);

export async function reconcileAnthropic(io: ReconcileAnthropicIo, dataDir: string, secrets: () => SecretStore,
  o: { since?: string; until?: string; json?: boolean; refresh?: boolean }, now = Date.now()): Promise<number> {
  const today = new Date(now).toISOString().slice(0, 10);
  const until = o.until ?? today;
  const since = o.since ?? new Date(Date.parse(`${until}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
  for (const [flag, v] of [['--since', since], ['--until', until]] as const) if (!DAY_RE.test(v)) throw new LedgerCliUsageError(`${flag} takes a UTC day as YYYY-MM-DD, got "${v}"`);
  if (since > until) throw new LedgerCliUsageError('--since is after --until');
  if (Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`) > 30 * 86_400_000) throw new LedgerCliUsageError('at most 31 days at a time (the report\'s own limit per call)');
  const adminKey = await secrets().get(ADMIN_KEY_ACCOUNT);
  if (!adminKey) {
    io.stderr('sluice: no Anthropic Admin key. Store one (sk-ant-admin…, from Console → Settings → Admin keys) with `sluice key set anthropic-admin`; it is kept in the OS keychain only.\n');
    return 1;
  }
  if (!existsSync(ledgerPath(dataDir))) {
    io.stdout(`No ledger yet in ${dataDir}: nothing to compare.\n`);
    return 0;
  }
  const baseUrl = io.env.SLUICE_ANTHROPIC_ADMIN_BASE_URL || DEFAULT_ADMIN_BASE_URL;
  const { report, fromCache } = await loadAnthropicReport({ dataDir, adminKey, since, until, refresh: o.refresh, baseUrl });
  const db = openDatabase(ledgerPath(dataDir), { readonly: true });
  let rows;
  try {
    rows = compareWithAnthropic(ledgerDayModels(db, since, until), report, now);
  } finally {
    db.close();
  }
  const days = dayStatuses(rows);
  if (o.json) {
    io.stdout(`${JSON.stringify({ schema: 'sluice.reconcile-anthropic/1', since, until, fetchedAt: report.fetchedAt, fromCache, days, rows }, (_k, v) => (typeof v === 'bigint' ? pico(v) : v), 2)}\n`);
    return 0;
  }
  const color = useColor(io);
  io.stdout(`${paint(`Sluice vs Anthropic's usage and cost report, ${since} to ${until} (UTC days)`, 'bold', color)}\n`
    + `${paint(`report fetched ${new Date(report.fetchedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC${fromCache ? ' (cached)' : ''}; Sluice side: requests sent with Sluice's own Anthropic keys`, 'dim', color)}\n`);
  if (rows.length === 0) {
    io.stdout('Neither side has usage in this range.\n');
    return 0;
  }
  const tok = (r: { uncachedInputTokens: number; cacheWrite5mTokens: number; cacheWrite1hTokens: number; cacheReadTokens: number; outputTokens: number }) =>
    `${formatTokens(r.uncachedInputTokens)}/${formatTokens(r.cacheWrite5mTokens + r.cacheWrite1hTokens)}/${formatTokens(r.cacheReadTokens)}/${formatTokens(r.outputTokens)}`;
  io.stdout(renderTable([
    { head: 'day', min: 10 },
    { head: 'model', min: 10 },
    { head: 'requests', align: 'right' },
    { head: 'in/write/read/out', align: 'right', drop: 1 },
    { head: 'Sluice $', align: 'right' },
    { head: 'Anthropic $', align: 'right' },
    { head: 'why', style: (c) => (c.startsWith('UNEXPLAINED') ? 'red' : c === 'matches' ? 'green' : 'yellow') },
  ], rows.map((r) => [
    r.day, shortModel(r.model),
    `${formatInt(r.sluice.requests)} / ${r.anthropic ? formatInt(r.anthropic.requests) : '—'}`,
    `${tok(r.sluice)} / ${r.anthropic ? tok(r.anthropic) : '—'}`,
    formatUsd(pico(r.sluice.costPico)),
    r.anthropic ? formatUsd(pico(r.anthropic.costPico)) : '—',
    r.matches ? 'matches' : r.causes.map((c) => CAUSE_LABEL[c]).join(', '),
  ]), { color }));
  const seen = [...new Set(rows.flatMap((r) => r.causes))];
  for (const c of seen) io.stdout(`${paint(`${CAUSE_LABEL[c]}:`, c === 'unexplained' ? 'red' : 'yellow', color)} ${CAUSE_TEXT[c]}\n`);
  const differs = days.filter((d) => d.status === 'differs').length;
  io.stdout(`${days.length} days: ${days.filter((d) => d.status === 'match').length} match, ${days.filter((d) => d.status === 'explained').length} differ for a known reason, ${differs} differ unexplained.\n`);
  return differs > 0 ? 3 : 0;
}
