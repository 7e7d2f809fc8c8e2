// `sluice report daily|weekly|monthly|session|blocks`: ccusage-style reports over the ledger
// (gateway rows and imported Claude Code transcripts alike), read-only. Sums come from the
// ledger's own `usage()` query (the same counted rows and sums as `sluice stats`); numbers are
// formatted by proxy/format.ts and laid out by proxy/cli-table.ts.
import { existsSync } from 'node:fs';
import { createQueries, type Queries, type UsageBucket, type UsageRow } from './ledger/queries.js';
import { openDatabase } from './ledger/sqlite.js';
import { systemTzOffset, type TzOffset } from './ledger/dates.js';
import type { UsageSums } from './ledger/types.js';
import { approx, estimatedShare, formatCost, formatDuration, formatInt, formatTokens, formatUsd, projectName, shortModel } from './format.js';
import { paint, renderTable, useColor, type Column } from './cli-table.js';
import { LedgerCliUsageError, ledgerPath } from './cli-ledger.js';
import { readUsageLimits, type UsageLimitsDoc } from './control/unified-limits.js';
import { applyUsageLimits } from './report-limits.js';
import { formatPercent } from './format.js';

export const REPORT_HELP = `Reports (read-only; the ledger holds gateway traffic and imported Claude Code transcripts):
  sluice report daily|weekly|monthly|session|blocks [options]
    --since YYYY-MM-DD --until YYYY-MM-DD   local days, both included
    --project TEXT     sessions whose project path contains TEXT
    --tool NAME        one tool (the token name, e.g. claude-code)
    --model TEXT       models whose id contains TEXT
    --breakdown        one row per model under each period
    --json             machine-readable (schema "sluice.report/1", see README)
    --live             blocks only: redraw every 2 s until Ctrl-C
  blocks: 5-hour windows. A window starts at the hour of the first request after the last window
  ended and lasts 5 hours; an idle stretch between windows shows as a gap. Without Anthropic's
  rate-limit headers the window is an estimate from traffic, marked "est.".
`;

export const REPORT_KINDS = ['daily', 'weekly', 'monthly', 'session', 'blocks'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
const BUCKET: Record<Exclude<ReportKind, 'blocks'>, UsageBucket> = { daily: 'day', weekly: 'week', monthly: 'month', session: 'session' };
export const BLOCK_MS = 5 * 3_600_000;

export interface ReportIo {
  stdout: (s: string) => void;
  isTTY?: boolean;
  env: Record<string, string | undefined>;
  onStop?: (handler: (signal: string) => void) => void;
}

export interface ReportOptions {
  since?: string;
  until?: string;
  project?: string;
  tool?: string;
  model?: string;
  breakdown?: boolean;
  json?: boolean;
  live?: boolean;
}

/** Token and cost sums of one report row (a subset of the ledger's UsageSums, plus a total). */
export interface ReportSums {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  /** USD; null when nothing in the row had a price. */
  costUsd: number | null;
  unpricedRequests: number;
  /** Billed responses whose output is an estimate (a cancelled or cut stream); figures show "≈". */
  estimatedRequests: number;
  /** Billed responses (the base of the estimated share). */
  billedRequests: number;
}

export interface ReportRow extends ReportSums {
  /** The period: YYYY-MM-DD (daily; weekly: its Monday), YYYY-MM, or the session id. */
  key: string;
  firstTs: number;
  lastTs: number;
  models: string[];
  tool: string | null;
  project: string | null;
  breakdown?: (ReportSums & { model: string })[];
}

export interface BlockRow extends ReportSums {
  start: number;
  end: number;
  kind: 'block' | 'gap';
  active: boolean;
  firstTs: number | null;
  lastTs: number | null;
  models: string[];
  /** Tokens per minute and USD per hour between the window's first and last request. */
  burn: { tokensPerMinute: number; usdPerHour: number | null } | null;
  /** Anthropic's own utilization of the window; null: not seen (the window is an estimate). */
  utilization: number | null;
  estimated: boolean;
  /** Where utilization is null: scaled from the latest window that was seen (report-limits.ts); null without one. */
  estimatedUtilization?: number | null;
  breakdown?: (ReportSums & { model: string })[];
}

const DATE_RE = /^(\d{4})-?(\d{2})-?(\d{2})$/;
function day(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const m = DATE_RE.exec(v);
  if (m === null) throw new LedgerCliUsageError(`${flag} takes a date as YYYY-MM-DD, got "${v}"`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const zero = (): ReportSums => ({ requests: 0, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, totalTokens: 0, costUsd: 0, unpricedRequests: 0, estimatedRequests: 0, billedRequests: 0 });
function sumsOf(u: UsageSums): ReportSums & { billed: number } {
  return {
    requests: u.requests, inputTokens: u.inputTokens, outputTokens: u.outputTokens, cacheWriteTokens: u.cacheWriteTokens,
    cacheReadTokens: u.cacheReadTokens, totalTokens: u.inputTokens + u.outputTokens + u.cacheWriteTokens + u.cacheReadTokens,
    costUsd: u.costUsd, unpricedRequests: u.unpricedRequests, estimatedRequests: u.estimatedRequests, billedRequests: u.billedRequests, billed: u.billedRequests,
  };
}
/** Adds `b` into `a`; a cost stays null only while every part was unpriced. */
function add(a: ReportSums & { billed?: number }, b: ReportSums & { billed?: number }): void {
  a.requests += b.requests;
  a.inputTokens += b.inputTokens;
  a.outputTokens += b.outputTokens;
  a.cacheWriteTokens += b.cacheWriteTokens;
  a.cacheReadTokens += b.cacheReadTokens;
  a.totalTokens += b.totalTokens;
  a.costUsd = a.costUsd === null && b.costUsd === null ? null : (a.costUsd ?? 0) + (b.costUsd ?? 0);
  a.unpricedRequests += b.unpricedRequests;
  a.estimatedRequests += b.estimatedRequests;
  a.billedRequests += b.billedRequests;
}
const strip = <T extends { billed?: number }>(x: T): Omit<T, 'billed'> => { const { billed: _b, ...rest } = x; return rest; };

/** Groups `usage()` rows (one per key and model) into report rows, keys in first-seen order. */
function group(rows: UsageRow[], breakdown: boolean): ReportRow[] {
  const out = new Map<string, ReportRow & { billed: number }>();
  for (const u of rows) {
    let r = out.get(u.key);
    if (r === undefined) {
      r = { key: u.key, firstTs: u.firstTs, lastTs: u.lastTs, models: [], tool: u.tool, project: u.project, ...zero(), costUsd: null, billed: 0 };
      if (breakdown) r.breakdown = [];
      out.set(u.key, r);
    }
    const s = sumsOf(u);
    add(r, s);
    r.billed += s.billed;
    r.firstTs = Math.min(r.firstTs, u.firstTs);
    r.lastTs = Math.max(r.lastTs, u.lastTs);
    if (u.model !== null && u.model !== '' && !r.models.includes(u.model)) r.models.push(u.model);
    if (breakdown) r.breakdown!.push({ model: u.model ?? '', ...strip(s) });
  }
  return [...out.values()].map((r) => {
    // A row with billed requests whose costs were all unknown reads "unpriced", never $0.
    if (r.billed > 0 && r.unpricedRequests === r.billed) r.costUsd = null;
    r.breakdown?.sort((a, b) => (b.costUsd ?? -1) - (a.costUsd ?? -1));
    return strip(r);
  });
}

/**
 * 5-hour windows from hourly usage rows (sorted by hour): a window starts at the hour of the
 * first request at or after the previous window's end and covers [start, start + 5 h). Between
 * two windows that do not touch, a gap row. `now` marks the active window.
 */
export function blocksFrom(hourRows: UsageRow[], now: number, breakdown: boolean): BlockRow[] {
  const blocks: (BlockRow & { billed: number })[] = [];
  for (const h of hourRows) {
    const hour = Number(h.key);
    let b = blocks.at(-1);
    if (b === undefined || hour >= b.end) {
      b = { start: hour, end: hour + BLOCK_MS, kind: 'block', active: false, firstTs: h.firstTs, lastTs: h.lastTs, models: [], burn: null, utilization: null, estimated: true, ...zero(), costUsd: null, billed: 0 };
      if (breakdown) b.breakdown = [];
      blocks.push(b);
    }
    const s = sumsOf(h);
    add(b, s);
    b.billed += s.billed;
    b.firstTs = Math.min(b.firstTs!, h.firstTs);
    b.lastTs = Math.max(b.lastTs!, h.lastTs);
    const m = h.model ?? '';
    if (m !== '' && !b.models.includes(m)) b.models.push(m);
    if (breakdown) {
      const row = b.breakdown!.find((x) => x.model === m);
      if (row) add(row, s); else b.breakdown!.push({ model: m, ...strip(s) });
    }
  }
  const out: BlockRow[] = [];
  for (const b of blocks) {
    const prev = out.at(-1);
    if (prev !== undefined && prev.kind === 'block' && b.start > prev.end) {
      out.push({ start: prev.end, end: b.start, kind: 'gap', active: false, firstTs: null, lastTs: null, models: [], burn: null, utilization: null, estimated: false, ...zero() });
    }
    if (b.billed > 0 && b.unpricedRequests === b.billed) b.costUsd = null;
    const minutes = (b.lastTs! - b.firstTs!) / 60_000;
    b.burn = minutes > 0 ? { tokensPerMinute: b.totalTokens / minutes, usdPerHour: b.costUsd === null ? null : b.costUsd / (minutes / 60) } : null;
    b.active = now >= b.start && now < b.end;
    b.breakdown?.sort((x, y) => (y.costUsd ?? -1) - (x.costUsd ?? -1));
    out.push(strip(b));
  }
  return out;
}

export function totalsOf(rows: readonly ReportSums[]): ReportSums {
  const t = zero();
  t.costUsd = null;
  let anyPriced = false;
  for (const r of rows) {
    add(t, r);
    if (r.costUsd !== null) anyPriced = true;
  }
  if (!anyPriced && t.requests > 0) t.costUsd = null;
  else t.costUsd ??= 0;
  return t;
}

export interface ReportResult {
  schema: 'sluice.report/1';
  report: ReportKind;
  since: string | null;
  until: string | null;
  filters: { project: string | null; tool: string | null; model: string | null };
  rows: (ReportRow | BlockRow)[];
  totals: ReportSums;
}

/** The report's data from a ledger's queries (the CLI, the tests and `--json` share it). */
export function buildReport(q: Queries, kind: ReportKind, o: ReportOptions, now: number, limits: UsageLimitsDoc | null = null): ReportResult {
  const since = day('--since', o.since);
  const until = day('--until', o.until);
  const filters = { ...(o.tool !== undefined ? { tool: o.tool } : {}), ...(o.model !== undefined ? { model: o.model } : {}), ...(o.project !== undefined ? { project: o.project } : {}) };
  let rows: (ReportRow | BlockRow)[];
  if (kind === 'blocks') {
    rows = applyUsageLimits(blocksFrom(q.usage({ bucket: 'hour', since, until, byModel: true, ...filters }), now, o.breakdown === true), limits);
  } else {
    rows = group(q.usage({ bucket: BUCKET[kind], since, until, byModel: true, ...filters }), o.breakdown === true);
    if (kind === 'session') {
      (rows as ReportRow[]).sort((a, b) => a.lastTs - b.lastTs || a.key.localeCompare(b.key));
    }
  }
  return {
    schema: 'sluice.report/1', report: kind, since: since ?? null, until: until ?? null,
    filters: { project: o.project ?? null, tool: o.tool ?? null, model: o.model ?? null },
    rows, totals: totalsOf(rows),
  };
}

const costCell = (s: ReportSums) => approx(formatCost(s.costUsd, s.unpricedRequests), s.estimatedRequests);
const costStyle = (c: string) => (c.includes('unpriced') ? 'yellow' : null);
const TOKEN_COLS: Column[] = [
  { head: 'input', align: 'right', drop: 3 },
  { head: 'output', align: 'right', drop: 4 },
  { head: 'cache wr', align: 'right', drop: 1 },
  { head: 'cache rd', align: 'right', drop: 2 },
  { head: 'total tokens', align: 'right', drop: 5 },
  { head: 'cost', align: 'right', style: costStyle },
];
const tokenCells = (s: ReportSums) => [formatTokens(s.inputTokens), approx(formatTokens(s.outputTokens), s.estimatedRequests), formatTokens(s.cacheWriteTokens), formatTokens(s.cacheReadTokens), formatTokens(s.totalTokens), costCell(s)];
const models = (m: string[]) => m.map(shortModel).join(', ') || '—';
/** Exact where Anthropic's headers were seen, else the estimate marked as one. */
const usedCell = (b: BlockRow) => (b.utilization !== null ? formatPercent(b.utilization, 0)
  : b.estimatedUtilization != null ? `≈${formatPercent(b.estimatedUtilization, 0)} est.` : 'est.');
const hhmm = (ts: number) => { const d = new Date(ts); return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`; };
const localDate = (ts: number) => { const d = new Date(ts); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };

/** The report as the table a person reads (100 columns; colour when `color`). */
export function renderReport(r: ReportResult, color: boolean, now: number): string {
  const sub = (b: ReportSums & { model: string }) => [`  └ ${shortModel(b.model || null)}`, '', ...tokenCells(b)];
  const lines: string[][] = [];
  let cols: Column[];
  if (r.report === 'blocks') {
    cols = [
      { head: 'window', min: 20 },
      { head: 'status', min: 8 },
      { head: 'models', min: 10, drop: 0 },
      { head: 'tokens', align: 'right' },
      { head: 'cost', align: 'right', style: costStyle },
      { head: 'burn/h', align: 'right', drop: 6 },
      { head: 'used', align: 'right', drop: 7 },
    ];
    for (const b of r.rows as BlockRow[]) {
      const window = `${localDate(b.start)} ${hhmm(b.start)}-${hhmm(b.end)}`;
      if (b.kind === 'gap') { lines.push([window, `gap ${formatDuration(b.end - b.start)}`, '', '', '', '', '']); continue; }
      const status = b.active ? `active, ${formatDuration(b.end - now)} left` : 'done';
      lines.push([window, status, models(b.models), formatTokens(b.totalTokens), costCell(b),
        b.burn?.usdPerHour != null ? formatUsd(b.burn.usdPerHour) : '—', usedCell(b)]);
      for (const x of b.breakdown ?? []) lines.push([`  └ ${shortModel(x.model || null)}`, '', '', formatTokens(x.totalTokens), costCell(x), '', '']);
    }
    lines.push(['total', '', '', formatTokens(r.totals.totalTokens), costCell(r.totals), '', '']);
  } else if (r.report === 'session') {
    cols = [
      { head: 'session', min: 12 },
      { head: 'project', min: 8, drop: 7 },
      { head: 'last active', drop: 6 },
      { head: 'models', min: 8, drop: 0 },
      ...TOKEN_COLS,
    ];
    for (const s of r.rows as ReportRow[]) {
      lines.push([s.key, projectName(s.project), `${localDate(s.lastTs)} ${hhmm(s.lastTs)}`, models(s.models), ...tokenCells(s)]);
      for (const b of s.breakdown ?? []) lines.push([...sub(b).slice(0, 1), '', '', '', ...tokenCells(b)]);
    }
    lines.push(['total', '', '', '', ...tokenCells(r.totals)]);
  } else {
    const head = r.report === 'daily' ? 'day' : r.report === 'weekly' ? 'week of' : 'month';
    cols = [{ head, min: 10 }, { head: 'models', min: 10, drop: 0 }, ...TOKEN_COLS];
    for (const s of r.rows as ReportRow[]) {
      lines.push([s.key, models(s.models), ...tokenCells(s)]);
      for (const b of s.breakdown ?? []) lines.push(sub(b));
    }
    lines.push(['total', '', ...tokenCells(r.totals)]);
  }
  const title = `Sluice ${r.report} report${r.since || r.until ? ` ${r.since ?? '…'} to ${r.until ?? 'now'}` : ''}`
    + `${r.filters.project ? `, project ~ ${r.filters.project}` : ''}${r.filters.tool ? `, tool ${r.filters.tool}` : ''}${r.filters.model ? `, model ~ ${r.filters.model}` : ''}`;
  const rule = '-'.repeat(Math.min(100, title.length));
  const empty = r.rows.length === 0 ? 'No usage in this range.\n' : '';
  return `${paint(title, 'bold', color)}\n${paint(rule, 'dim', color)}\n${empty || renderTable(cols, lines, { color })}`
    + (r.report === 'blocks' && r.rows.some((b) => (b as BlockRow).kind === 'block' && (b as BlockRow).estimated)
      ? `${paint('used: Anthropic\'s own 5-hour utilization, from its rate-limit headers; ≈ … est.: no headers recorded for that window, scaled by cost from the latest one that had them.', 'dim', color)}\n` : '')
    + (r.totals.estimatedRequests > 0 ? `${paint(`${estimatedShare(r.totals.estimatedRequests, r.totals.billedRequests)}: cancelled or cut streams, their output is the delivered count (≈).`, 'dim', color)}\n` : '')
    + `${formatInt(r.totals.requests)} requests\n`;
}

/** Opens the ledger read-only; null when there is none yet. */
export function openReadOnly(dataDir: string, tz: TzOffset = systemTzOffset): { q: Queries; close(): void } | null {
  const path = ledgerPath(dataDir);
  if (!existsSync(path)) return null;
  const db = openDatabase(path, { readonly: true });
  return { q: createQueries(db, tz), close: () => db.close() };
}

export async function report(io: ReportIo, dataDir: string, kind: string | undefined, o: ReportOptions): Promise<number> {
  if (kind === undefined || !(REPORT_KINDS as readonly string[]).includes(kind)) {
    throw new LedgerCliUsageError(`report takes one of ${REPORT_KINDS.join(', ')}`);
  }
  if (o.live && kind !== 'blocks') throw new LedgerCliUsageError('--live is for `sluice report blocks`');
  if (o.live && o.json) throw new LedgerCliUsageError('--live draws a table; leave out --json');
  const ledger = openReadOnly(dataDir);
  if (ledger === null) {
    io.stdout(o.json ? `${JSON.stringify(buildEmpty(kind as ReportKind, o), null, 2)}\n` : `No ledger yet in ${dataDir}: start \`sluice serve\` or run \`sluice import claude-code\`.\n`);
    return 0;
  }
  const color = useColor(io);
  try {
    const draw = () => buildReport(ledger.q, kind as ReportKind, o, Date.now(), readUsageLimits(dataDir));
    if (o.json) {
      io.stdout(`${JSON.stringify(draw(), null, 2)}\n`);
      return 0;
    }
    if (!o.live) {
      io.stdout(renderReport(draw(), color, Date.now()));
      return 0;
    }
    // Redraw in place: home the cursor, clear below, draw; until Ctrl-C.
    return await new Promise<number>((resolve) => {
      const frame = () => io.stdout(`\x1b[H\x1b[2J${renderReport(draw(), color, Date.now())}${paint('live: redraws every 2 s; Ctrl-C to stop', 'dim', color)}\n`);
      frame();
      const timer = setInterval(frame, 2000);
      io.onStop?.(() => { clearInterval(timer); resolve(0); });
    });
  } finally {
    ledger.close();
  }
}

function buildEmpty(kind: ReportKind, o: ReportOptions): ReportResult {
  return { schema: 'sluice.report/1', report: kind, since: o.since ?? null, until: o.until ?? null, filters: { project: o.project ?? null, tool: o.tool ?? null, model: o.model ?? null }, rows: [], totals: { ...zero() } };
}
