// Budget figures for the dashboard: which budgets exist, how much of each is spent (from the
// control plane's budget engine when it has seen the period, else from the ledger), how a bar
// shows it, and the USD amounts typed into the forms. Pure; imports types and format.ts only.
import type { BudgetEngineEntry, BudgetSettings, StatusResponse, TokenPolicy } from './api.js';
import { formatUsd, localDayOf } from './format.js';

/** The control schema's ceiling for any USD budget. */
export const MAX_BUDGET_USD = 1_000_000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const USD_RE = /^(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)$/;

/** A USD amount typed by the user: empty clears (null); `5`, `$0.50`, `1,000` are read; anything else says why. */
export function parseUsd(input: string): Parsed<number | null> {
  if (input.trim() === '') return { ok: true, value: null };
  const t = input.trim().replace(/^\$\s*/, '');
  if (!USD_RE.test(t)) return { ok: false, error: 'Enter an amount in US dollars, like 5 or 0.50.' };
  const value = Number(t.replace(/,/g, ''));
  if (!(value > 0)) return { ok: false, error: 'Enter an amount above $0, or leave it empty for no limit.' };
  if (value > MAX_BUDGET_USD) return { ok: false, error: `At most ${formatUsd(MAX_BUDGET_USD)}.` };
  return { ok: true, value };
}

/** A whole count typed by the user (requests or tokens per minute): empty is null. */
export function parseCount(input: string, max: number): Parsed<number | null> {
  const t = input.trim().replace(/[,_]/g, '');
  if (t === '') return { ok: true, value: null };
  if (!/^\d+$/.test(t)) return { ok: false, error: 'Enter a whole number, or leave it empty for no limit.' };
  const value = Number(t);
  if (value < 1) return { ok: false, error: 'At least 1, or leave it empty for no limit.' };
  if (value > max) return { ok: false, error: `At most ${max.toLocaleString('en-US')}.` };
  return { ok: true, value };
}

/** The amount as a form field shows it (no `$`, no rounding away of small budgets). */
export function usdField(v: number | null): string {
  return v === null ? '' : String(v);
}

export type BarLevel = 'none' | 'unknown' | 'ok' | 'warn' | 'over';

export interface BarView {
  /** Width of the filled part, 0..1. */
  fraction: number;
  /** Whole percent spent (floored, so 100% means the limit is reached), null without a limit or a figure. */
  percent: number | null;
  level: BarLevel;
  /** Alert thresholds below 100%, as fractions, for tick marks. */
  ticks: number[];
  /** "$0.0023 of $0.0020 · 115%". */
  text: string;
}

/**
 * How a budget bar reads. `warn` from the highest alert threshold under 100% (80% by default);
 * `over` once the limit is reached. Without a limit there is no bar, only the spend.
 */
export function budgetBar(spent: number | null, limit: number | null, alertAt: readonly number[] = [0.5, 0.8, 1]): BarView {
  const ticks = [...new Set(alertAt.filter((t) => t > 0 && t < 1))].sort((a, b) => a - b);
  if (limit === null || !(limit > 0)) {
    return { fraction: 0, percent: null, level: 'none', ticks: [], text: spent === null ? 'no limit' : `${formatUsd(spent)} spent · no limit` };
  }
  if (spent === null || !Number.isFinite(spent)) {
    return { fraction: 0, percent: null, level: 'unknown', ticks, text: `spend unknown · limit ${formatUsd(limit)}` };
  }
  const ratio = Math.max(0, spent) / limit;
  // Floating point: 0.0023 / 0.0023 may land a hair under 1.
  const percent = Math.floor(ratio * 100 + 1e-9);
  const warnAt = ticks.length ? ticks[ticks.length - 1]! : 0.8;
  const level: BarLevel = ratio >= 1 - 1e-12 ? 'over' : ratio >= warnAt ? 'warn' : 'ok';
  return { fraction: Math.min(1, ratio), percent, level, ticks, text: `${formatUsd(spent)} of ${formatUsd(limit)} · ${percent}%` };
}

export interface BudgetRow {
  /** The engine's id: `daily`, `monthly`, `session:<id>`, `token:<name>:daily`, `token:<name>:monthly`. */
  id: string;
  scope: 'all' | 'session' | 'token';
  label: string;
  /** The current period: a local day, a month, or `lifetime`. */
  period: string;
  limitUsd: number | null;
  /** Null when nothing can say (no ledger, unpriced, or not loaded). */
  spentUsd: number | null;
  /** Held by requests in flight (engine only). */
  reservedUsd: number;
  inFlight: number;
  /** Where `spentUsd` comes from. */
  source: 'engine' | 'ledger' | 'none';
}

export interface SpendSources {
  /** The current local day (YYYY-MM-DD); its first 7 characters are the month. */
  day: string;
  /** The ledger's totals for that day and month (admin status); null without a ledger. */
  ledger: { today: number | null; month: number | null } | null;
  /** What the budget engine has seen since the gateway started. */
  engine: readonly BudgetEngineEntry[];
  /** Ledger spend per token name (report by tool), today and this month; absent until loaded. */
  tools?: { today: Record<string, number | null>; month: Record<string, number | null> } | null;
}

/** The sources from what the pages have: the admin status's ledger totals and the engine's entries. */
export function spendSources(spend: StatusResponse['spend'] | undefined, engine: readonly BudgetEngineEntry[] | undefined, now: number, tools?: SpendSources['tools']): SpendSources {
  return {
    day: spend?.day ?? localDayOf(now),
    ledger: spend ? { today: spend.today.costUsd, month: spend.month.costUsd } : null,
    engine: engine ?? [],
    tools: tools ?? null,
  };
}

function pick(id: string, period: string, ledgerValue: number | null | undefined, engine: readonly BudgetEngineEntry[]) {
  // The engine's figure is what admission uses (it includes in-flight reservations and the
  // estimates of unpriced requests); it is only current for the period it was loaded for.
  const e = engine.find((x) => x.id === id && x.period === period);
  if (e) return { spentUsd: e.settledUsd, reservedUsd: e.reservedUsd, inFlight: e.inFlight, source: 'engine' as const };
  if (ledgerValue !== undefined) return { spentUsd: ledgerValue, reservedUsd: 0, inFlight: 0, source: ledgerValue === null ? 'none' as const : 'ledger' as const };
  return { spentUsd: null, reservedUsd: 0, inFlight: 0, source: 'none' as const };
}

/**
 * The daily and monthly budgets of all tools (always, set or not), then each token's own
 * budgets (only those set), in name order. The per-session budget has its own rows
 * (sessionBudgetRows): it applies to each session separately.
 */
export function budgetRows(budgets: BudgetSettings, tokens: Record<string, TokenPolicy>, src: SpendSources): BudgetRow[] {
  const day = src.day;
  const month = day.slice(0, 7);
  const rows: BudgetRow[] = [
    { id: 'daily', scope: 'all', label: 'Daily, all tools', period: day, limitUsd: budgets.dailyUsd, ...pick('daily', day, src.ledger ? src.ledger.today : undefined, src.engine) },
    { id: 'monthly', scope: 'all', label: 'Monthly, all tools', period: month, limitUsd: budgets.monthlyUsd, ...pick('monthly', month, src.ledger ? src.ledger.month : undefined, src.engine) },
  ];
  for (const name of Object.keys(tokens).sort()) {
    const p = tokens[name]!;
    const fromTools = (which: 'today' | 'month') => (src.ledger && src.tools ? (src.tools[which][name] ?? 0) : undefined);
    if (p.dailyUsd !== null) rows.push({ id: `token:${name}:daily`, scope: 'token', label: `${name} · daily`, period: day, limitUsd: p.dailyUsd, ...pick(`token:${name}:daily`, day, fromTools('today'), src.engine) });
    if (p.monthlyUsd !== null) rows.push({ id: `token:${name}:monthly`, scope: 'token', label: `${name} · monthly`, period: month, limitUsd: p.monthlyUsd, ...pick(`token:${name}:monthly`, month, fromTools('month'), src.engine) });
  }
  return rows;
}

/** One row per session shown (the caller picks them, e.g. today's most expensive), against the per-session limit. */
export function sessionBudgetRows(limitUsd: number | null, sessions: readonly { sessionId: string; costUsd: number | null }[], engine: readonly BudgetEngineEntry[]): BudgetRow[] {
  if (limitUsd === null) return [];
  return sessions.map((s) => ({
    id: `session:${s.sessionId}`, scope: 'session' as const, label: s.sessionId, period: 'lifetime', limitUsd,
    ...pick(`session:${s.sessionId}`, 'lifetime', s.costUsd, engine),
  }));
}

/** "Alerts at 50%, 80% and 100%." */
export function describeThresholds(alertAt: readonly number[]): string {
  const p = [...new Set(alertAt)].sort((a, b) => a - b).map((t) => `${Math.round(t * 100)}%`);
  if (p.length === 0) return 'No alerts.';
  return `Alerts at ${p.length === 1 ? p[0] : `${p.slice(0, -1).join(', ')} and ${p.at(-1)}`}.`;
}
