// `sluice insights [--json]`: cache candidates (from the running gateway, which keeps prefix
// fingerprints in memory), latency per model, spend by hour x weekday and per day, tool-use
// turns (from the ledger). Every number through proxy/format.ts, tables through cli-table.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callGateway, findRunningGateway } from '../cli-settings.js';
import { renderTable, useColor } from '../cli-table.js';
import { formatDuration, formatInt, formatPercent, formatTokens, formatUsd, shortModel } from '../format.js';
import { openLedger, systemTzOffset } from '../ledger/index.js';
import { readLedgerInsights, type InsightsReport } from './index.js';

export interface InsightsCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  isTTY?: boolean;
}

export const INSIGHTS_HELP = `Insights (metadata only; prompt text is never stored):
  sluice insights [--json]     cache candidates, latency per model, spend by time, tool-use turns
`;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export async function runInsightsCli(argv: string[], io: InsightsCliIo, dataDir: string, now = Date.now()): Promise<number> {
  let json = false;
  try {
    json = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: 'boolean' }, 'data-dir': { type: 'string' } } }).values.json === true;
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\n${INSIGHTS_HELP}`);
    return 2;
  }
  let rep: InsightsReport | null = null;
  let cacheNote: string | null = null;
  const rt = await findRunningGateway(dataDir);
  if (rt) {
    try { rep = await callGateway<InsightsReport>(rt, 'GET', '/insights'); } catch (err) { cacheNote = `the gateway did not answer (${(err as Error).message})`; }
  } else {
    cacheNote = 'cache candidates need the running gateway (it keeps prompt fingerprints in memory only)';
  }
  if (!rep) {
    const path = join(dataDir, 'ledger.sqlite');
    const ledger = existsSync(path) ? openLedger(path) : null;
    try {
      rep = { generatedAt: now, days: 30, cache: [], toolCalls: { since: now, byTool: [], bySession: [] }, ...(ledger ? readLedgerInsights(ledger, now, systemTzOffset) : { latency: [], heat: Array.from({ length: 7 }, () => new Array<number>(24).fill(0)), daily: [], tools: [] }) };
    } finally {
      ledger?.close();
    }
  }
  if (json) { io.stdout(`${JSON.stringify({ ...rep, ...(cacheNote ? { cacheNote } : {}) }, null, 2)}\n`); return 0; }
  const color = useColor({ isTTY: io.isTTY, env: io.env });
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);

  out('Cache candidates (prefixes repeated without a cache read)');
  if (cacheNote) out(`  ${cacheNote}`);
  else if (rep.cache.length === 0) out('  none in the last hour');
  else {
    out(renderTable(
      [{ head: 'Tool' }, { head: 'Position' }, { head: 'Tokens', align: 'right' }, { head: '5 min', align: 'right' }, { head: '1 h', align: 'right' }, { head: 'Would save', align: 'right' }, { head: 'Injection', drop: 1 }],
      rep.cache.map((c) => [c.tool, c.position, formatTokens(c.tokens), formatInt(c.repeats5m), formatInt(c.repeats1h), formatUsd(c.savingsUsd), c.covered ? 'on' : c.tool === 'passthrough' ? '-' : `off (sluice token policy ${c.tool} --cache on)`]),
      { color },
    ));
  }
  out('\nLatency per model (first-try requests; retried ones apart), last 30 days');
  if (rep.latency.length === 0) out('  no requests');
  else {
    out(renderTable(
      [{ head: 'Model' }, { head: 'Provider', drop: 2 }, { head: 'Requests', align: 'right' }, { head: 'TTFB p50', align: 'right' }, { head: 'p90', align: 'right' }, { head: 'p99', align: 'right' }, { head: 'Total p50', align: 'right' }, { head: 'p90', align: 'right' }, { head: 'p99', align: 'right' }, { head: 'Retried', align: 'right', drop: 1 }],
      rep.latency.map((l) => [shortModel(l.model || null), l.provider, formatInt(l.total.n), formatDuration(l.ttfb.p50), formatDuration(l.ttfb.p90), formatDuration(l.ttfb.p99), formatDuration(l.total.p50), formatDuration(l.total.p90), formatDuration(l.total.p99), l.retried.n ? `${formatInt(l.retried.n)} (p50 ${formatDuration(l.retried.total.p50)})` : '0']),
      { color },
    ));
  }
  out('\nSpend by weekday and hour (local), last 30 days');
  const total = rep.heat.flat().reduce((a, b) => a + b, 0);
  if (total === 0) out('  no spend');
  else {
    const top = rep.heat.flatMap((row, d) => row.map((usd, h) => ({ d, h, usd }))).filter((c) => c.usd > 0).sort((a, b) => b.usd - a.usd).slice(0, 5);
    for (const c of top) out(`  ${DAYS[c.d]} ${String(c.h).padStart(2, '0')}:00  ${formatUsd(c.usd)}  (${formatPercent(c.usd / total)})`);
    const byModel = new Map<string, number>();
    for (const d of rep.daily) byModel.set(d.model, (byModel.get(d.model) ?? 0) + d.usd);
    out(`  per model over ${formatInt(new Set(rep.daily.map((d) => d.day)).size)} day(s): ${[...byModel].sort((a, b) => b[1] - a[1]).map(([m, usd]) => `${shortModel(m || null)} ${formatUsd(usd)}`).join(', ')}`);
  }
  out('\nTool-use turns (turns that ended in tool_use)');
  if (rep.tools.length === 0) out('  none');
  else {
    out(renderTable(
      [{ head: 'Tool' }, { head: 'Session', min: 8, drop: 1 }, { head: 'Turns', align: 'right' }, { head: 'Tool use', align: 'right' }, { head: 'Share', align: 'right' }, { head: 'Longest loop', align: 'right' }],
      rep.tools.slice(0, 10).map((t) => [t.tool, t.session ?? '-', formatInt(t.turns), formatInt(t.toolUseTurns), formatPercent(t.share), formatInt(t.longestLoop)]),
      { color },
    ));
  }
  out('\nTool calls by name (names only, since the gateway started)');
  if (cacheNote) out('  tool names need the running gateway (it counts them in memory only)');
  else if (rep.toolCalls.byTool.length === 0) out('  none');
  else {
    out(renderTable(
      [{ head: 'Tool' }, { head: 'Calls', align: 'right' }, { head: 'Errors', align: 'right' }, { head: 'Most called' }],
      rep.toolCalls.byTool.slice(0, 10).map((t) => [t.tool, formatInt(t.calls), t.errorRate === null ? '-' : `${formatInt(t.errors)} (${formatPercent(t.errorRate)})`,
        t.names.slice(0, 4).map((n) => `${n.name} ${formatInt(n.calls)}`).join(', ')]),
      { color },
    ));
  }
  return 0;
}
