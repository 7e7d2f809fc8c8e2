// `sluice reconcile --anthropic [--since D] [--until D] [--refresh] [--json]`: the ledger against
// Anthropic's own numbers. Reads the organization's token usage and cost from the Admin API's
// Usage and Cost Analytics endpoints (GET /v1/organizations/analytics/usage and /cost, beta
// header analytics-usage-cost-2026-08-24; the older usage_report/messages and cost_report are
// legacy), per UTC day and model, and compares them with the ledger rows Sluice sent with its own
// Anthropic keys (caller_kind 'token', target anthropic; passthrough rows use the client's own
// credentials, which may belong to another organization). Every difference gets a cause.
//
// The Admin key (sk-ant-admin…) lives in the OS keychain only, under "anthropic-admin". Calls run
// from the CLI, never on the request path; the fetched report is cached in the data dir
// (anthropic-report.json: usage and cost figures only, no key) and reused for 15 minutes, and
// no two fetches run within a minute of each other. The dashboard reads the cache only.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './ledger/sqlite.js';

export const ADMIN_KEY_ACCOUNT = 'anthropic-admin';
export const ANALYTICS_BETA = 'analytics-usage-cost-2026-08-24';
export const DEFAULT_ADMIN_BASE_URL = 'https://api.anthropic.com';
export const CACHE_FILE = 'anthropic-report.json';
export const CACHE_FRESH_MS = 15 * 60_000;
export const MIN_FETCH_GAP_MS = 60_000;
/** Anthropic's report lags the traffic; a day this close to now may not be complete in it. */
export const REPORT_DELAY_MS = 24 * 3_600_000;
const PICO_PER_CENT = 10_000_000_000n;
const MAX_PAGES = 100;

/** Token and dollar figures of one UTC day and model, from either side. */
export interface DayModelFigures {
  day: string;
  model: string;
  requests: number;
  uncachedInputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
  /** Pico-dollars; null when unknown (no cost row, or a model the price sheet lacks). */
  costPico: bigint | null;
}

export interface AnthropicDayModel extends DayModelFigures {
  /** The cost at list price (before discounts), pico-dollars; null when not reported. */
  listCostPico: bigint | null;
  /** Requests the report puts on the priority tier (billed at its own rates). */
  priorityRequests: number;
}

export interface AnthropicReport {
  fetchedAt: number;
  since: string;
  until: string;
  rows: AnthropicDayModel[];
}

export type DifferenceCause = 'not_via_sluice' | 'report_delay' | 'priority_tier' | 'discount' | 'estimated' | 'not_in_report' | 'unexplained';

export const CAUSE_TEXT: Record<DifferenceCause, string> = {
  not_via_sluice: 'traffic that did not pass through this Sluice (other keys or machines of the organization, the Console)',
  report_delay: "the report's own delay (this day is not complete in Anthropic's report yet)",
  priority_tier: 'priority tier: billed at its own rates, not the standard price sheet',
  discount: "a discount: Anthropic's list price equals Sluice's figure",
  estimated: 'cancelled or cut streams: Sluice bills the delivered output, a floor',
  not_in_report: "Sluice sent it, Anthropic's report has no row for it",
  unexplained: 'UNEXPLAINED: the same traffic recorded differently',
};

/** The cause in a table cell; CAUSE_TEXT says it in full under the table. */
export const CAUSE_LABEL: Record<DifferenceCause, string> = {
  not_via_sluice: 'not via Sluice', report_delay: 'report delay', priority_tier: 'priority tier', discount: 'discount',
  estimated: 'estimated output', not_in_report: 'not in report', unexplained: 'UNEXPLAINED',
};

export interface Comparison {
  day: string;
  model: string;
  sluice: DayModelFigures & { estimatedRequests: number };
  anthropic: AnthropicDayModel | null;
  matches: boolean;
  causes: DifferenceCause[];
}

export interface DayStatus {
  day: string;
  /** 'match': every model equal; 'explained': differences with known causes; 'differs': an unexplained one. */
  status: 'match' | 'explained' | 'differs';
  causes: DifferenceCause[];
}

// ---- The Admin API -------------------------------------------------------------------------

type FetchLike = (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

export class AdminApiError extends Error {}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** "1234.5678" cents (fractional minor units, as the cost report gives them) to pico-dollars, exactly. */
export function centsToPico(amount: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (m === null) throw new AdminApiError(`cost amount "${amount}" is not a decimal number of cents`);
  const frac = (m[3] ?? '').padEnd(10, '0').slice(0, 10);
  const v = BigInt(m[2]!) * PICO_PER_CENT + BigInt(frac);
  return m[1] === '-' ? -v : v;
}

const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

async function pages(fetchImpl: FetchLike, url: URL, headers: Record<string, string>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < MAX_PAGES; i++) {
    const res = await fetchImpl(url.href, { headers, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 300);
      const why = res.status === 401 ? 'the Admin key was refused (401): store an sk-ant-admin… key with `sluice key set anthropic-admin`'
        : res.status === 403 ? 'the key may not read usage (403): it must be an Admin API key of the organization'
        : res.status === 429 ? 'rate limited by the Admin API (429): try again in a minute'
        : `HTTP ${res.status}`;
      throw new AdminApiError(`${url.pathname}: ${why}${body ? ` — ${body}` : ''}`);
    }
    const page = await res.json() as { data?: unknown; has_more?: unknown; next_page?: unknown };
    if (!Array.isArray(page.data)) throw new AdminApiError(`${url.pathname}: the response has no data array`);
    out.push(...(page.data as Record<string, unknown>[]));
    if (page.has_more !== true || typeof page.next_page !== 'string') return out;
    url.searchParams.set('page', page.next_page);
  }
  throw new AdminApiError(`${url.pathname}: more than ${MAX_PAGES} pages`);
}

/** Fetches the usage (by model and service tier) and cost (by model) reports, one bucket per UTC day. */
export async function fetchAnthropicReport(o: { adminKey: string; since: string; until: string; baseUrl?: string; fetchImpl?: FetchLike; now?: () => number }): Promise<AnthropicReport> {
  const base = (o.baseUrl ?? DEFAULT_ADMIN_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = o.fetchImpl ?? (globalThis.fetch as unknown as FetchLike);
  const headers = { 'x-api-key': o.adminKey, 'anthropic-version': '2023-06-01', 'anthropic-beta': ANALYTICS_BETA, accept: 'application/json' };
  const query = (path: string, groupBy: string[]) => {
    const u = new URL(`${base}${path}`);
    u.searchParams.set('starting_at', `${o.since}T00:00:00Z`);
    u.searchParams.set('ending_at', `${nextDay(o.until)}T00:00:00Z`);
    u.searchParams.set('bucket_width', '1d');
    for (const g of groupBy) u.searchParams.append('group_by[]', g);
    return u;
  };
  const usage = await pages(fetchImpl, query('/v1/organizations/analytics/usage', ['model', 'service_tier']), headers);
  const cost = await pages(fetchImpl, query('/v1/organizations/analytics/cost', ['model']), headers);

  const rows = new Map<string, AnthropicDayModel>();
  const row = (startingAt: unknown, model: unknown): AnthropicDayModel | null => {
    const start = str(startingAt);
    const m = str(model);
    if (start === null || m === null) return null;
    const day = new Date(start).toISOString().slice(0, 10);
    const key = `${day}\u0000${m}`;
    let r = rows.get(key);
    if (r === undefined) {
      r = { day, model: m, requests: 0, uncachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheReadTokens: 0, outputTokens: 0, costPico: null, listCostPico: null, priorityRequests: 0 };
      rows.set(key, r);
    }
    return r;
  };
  for (const item of usage) {
    const group = (item.group ?? {}) as Record<string, unknown>;
    const u = (item.usage ?? {}) as Record<string, unknown>;
    const r = row(item.starting_at, group.model);
    if (r === null) continue;
    const cc = (u.cache_creation ?? {}) as Record<string, unknown>;
    r.requests += num(u.requests);
    r.uncachedInputTokens += num(u.uncached_input_tokens);
    r.cacheWrite5mTokens += num(cc.ephemeral_5m_input_tokens);
    r.cacheWrite1hTokens += num(cc.ephemeral_1h_input_tokens);
    r.cacheReadTokens += num(u.cache_read_input_tokens);
    r.outputTokens += num(u.output_tokens);
    if (group.service_tier === 'priority') r.priorityRequests += num(u.requests);
  }
  for (const item of cost) {
    const group = (item.group ?? {}) as Record<string, unknown>;
    const c = (item.cost ?? {}) as Record<string, unknown>;
    const r = row(item.starting_at, group.model);
    if (r === null) continue;
    const amount = str(c.amount);
    const list = str(c.list_amount);
    if (amount !== null) r.costPico = (r.costPico ?? 0n) + centsToPico(amount);
    if (list !== null) r.listCostPico = (r.listCostPico ?? 0n) + centsToPico(list);
  }
  return { fetchedAt: (o.now ?? Date.now)(), since: o.since, until: o.until, rows: [...rows.values()].sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model)) };
}

// ---- The cache ----------------------------------------------------------------------------------

interface CacheFile { version: 1; lastFetchAt: number; report: (Omit<AnthropicReport, 'rows'> & { rows: (Omit<AnthropicDayModel, 'costPico' | 'listCostPico'> & { costPico: string | null; listCostPico: string | null })[] }) | null }

export function readCachedReport(dataDir: string): { report: AnthropicReport | null; lastFetchAt: number } {
  try {
    const f = JSON.parse(readFileSync(join(dataDir, CACHE_FILE), 'utf8')) as CacheFile;
    if (f.version !== 1) return { report: null, lastFetchAt: 0 };
    const report = f.report === null ? null : {
      ...f.report,
      rows: f.report.rows.map((r) => ({ ...r, costPico: r.costPico === null ? null : BigInt(r.costPico), listCostPico: r.listCostPico === null ? null : BigInt(r.listCostPico) })),
    };
    return { report, lastFetchAt: num(f.lastFetchAt) };
  } catch {
    return { report: null, lastFetchAt: 0 };
  }
}

function writeCache(dataDir: string, lastFetchAt: number, report: AnthropicReport | null): void {
  const f: CacheFile = {
    version: 1, lastFetchAt,
    report: report === null ? null : { ...report, rows: report.rows.map((r) => ({ ...r, costPico: r.costPico?.toString() ?? null, listCostPico: r.listCostPico?.toString() ?? null })) },
  };
  const path = join(dataDir, CACHE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(f, null, 1)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * The report for a range: the cached one when it covers the range and is fresh (or a fetch ran
 * under a minute ago), else a new fetch, cached. `refresh` skips the freshness check, never the
 * one-minute gap.
 */
export async function loadAnthropicReport(o: { dataDir: string; adminKey: string; since: string; until: string; refresh?: boolean; baseUrl?: string; fetchImpl?: FetchLike; now?: () => number }): Promise<{ report: AnthropicReport; fromCache: boolean }> {
  const now = (o.now ?? Date.now)();
  const cached = readCachedReport(o.dataDir);
  const covers = cached.report !== null && cached.report.since <= o.since && cached.report.until >= o.until;
  if (covers && (now - cached.lastFetchAt < MIN_FETCH_GAP_MS || (!o.refresh && now - cached.report!.fetchedAt < CACHE_FRESH_MS))) {
    return { report: cached.report!, fromCache: true };
  }
  if (now - cached.lastFetchAt < MIN_FETCH_GAP_MS) {
    throw new AdminApiError(`the Admin API was called ${Math.ceil((now - cached.lastFetchAt) / 1000)} s ago; Sluice waits a minute between calls. Try again shortly.`);
  }
  writeCache(o.dataDir, now, cached.report);
  const report = await fetchAnthropicReport({ ...o, now: () => now });
  writeCache(o.dataDir, now, report);
  return { report, fromCache: false };
}

// ---- The ledger side and the comparison -----------------------------------------------------

/** Ledger rows Sluice sent with its own Anthropic keys, per UTC day and served model. */
export function ledgerDayModels(db: Db, since: string, until: string): (DayModelFigures & { estimatedRequests: number; unpriced: number })[] {
  const from = Date.parse(`${since}T00:00:00Z`);
  const to = Date.parse(`${nextDay(until)}T00:00:00Z`);
  const rows = db.prepare(`SELECT strftime('%Y-%m-%d', ts_start / 1000, 'unixepoch') AS day, coalesce(served_model, requested_model, '') AS model,
      count(*) AS requests, sum(input_tokens) AS input, sum(cache_write_5m_tokens) AS w5, sum(cache_write_1h_tokens) AS w1, sum(cache_read_tokens) AS cr,
      sum(output_tokens) AS output, CAST(sum(coalesce(cost_pico, 0)) AS TEXT) AS cost, sum(CASE WHEN cost_pico IS NULL THEN 1 ELSE 0 END) AS unpriced,
      sum(CASE WHEN estimated IS NOT NULL THEN 1 ELSE 0 END) AS est
    FROM requests WHERE source = 'gateway' AND counted = 1 AND billed = 1 AND caller_kind = 'token' AND coalesce(target, 'anthropic') = 'anthropic'
      AND ts_start >= ? AND ts_start < ? GROUP BY 1, 2 ORDER BY 1, 2`).all(from, to) as Record<string, unknown>[];
  return rows.map((r) => ({
    day: String(r.day), model: String(r.model), requests: num(r.requests), uncachedInputTokens: num(r.input), cacheWrite5mTokens: num(r.w5), cacheWrite1hTokens: num(r.w1),
    cacheReadTokens: num(r.cr), outputTokens: num(r.output), costPico: num(r.unpriced) > 0 && num(r.unpriced) === num(r.requests) ? null : BigInt(String(r.cost ?? '0')),
    estimatedRequests: num(r.est), unpriced: num(r.unpriced),
  }));
}

/** The report states cost in fractional cents of unstated precision: a millionth of a dollar apart is equal. */
export const COST_TOLERANCE_PICO = 1_000_000n;
const absDiff = (x: bigint, y: bigint) => (x > y ? x - y : y - x);
const TOKEN_KINDS = ['uncachedInputTokens', 'cacheWrite5mTokens', 'cacheWrite1hTokens', 'cacheReadTokens', 'outputTokens'] as const;

/**
 * Pairs each (day, model) of either side and gives every difference its causes. The report
 * counts cost in fractional cents of unstated precision, so dollars within a millionth are equal;
 * tokens and requests must be equal exactly.
 */
export function compareWithAnthropic(sluiceRows: ReturnType<typeof ledgerDayModels>, report: AnthropicReport, now: number): Comparison[] {
  const key = (d: string, m: string) => `${d}\u0000${m}`;
  const theirs = new Map(report.rows.filter((r) => r.day >= report.since && r.day <= report.until).map((r) => [key(r.day, r.model), r]));
  const out: Comparison[] = [];
  const seen = new Set<string>();
  const empty = (day: string, model: string) => ({ day, model, requests: 0, uncachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheReadTokens: 0, outputTokens: 0, costPico: 0n, estimatedRequests: 0 });
  const recent = (day: string) => Date.parse(`${nextDay(day)}T00:00:00Z`) > now - REPORT_DELAY_MS;
  const judge = (ours: Comparison['sluice'], a: AnthropicDayModel | null): Comparison => {
    const causes = new Set<DifferenceCause>();
    const tokensEqual = a !== null && TOKEN_KINDS.every((k) => ours[k] === a[k]) && ours.requests === a.requests;
    const costEqual = a !== null && (a.costPico === null || ours.costPico === null || absDiff(a.costPico, ours.costPico) <= COST_TOLERANCE_PICO);
    if (a === null) {
      causes.add(recent(ours.day) ? 'report_delay' : 'not_in_report');
    } else if (!tokensEqual) {
      const more = TOKEN_KINDS.every((k) => a[k] >= ours[k]) && a.requests >= ours.requests;
      const less = TOKEN_KINDS.every((k) => a[k] <= ours[k]) && a.requests <= ours.requests;
      if (more && a.requests > ours.requests) causes.add('not_via_sluice');
      else if (less && recent(ours.day)) causes.add('report_delay');
      else if (ours.estimatedRequests > 0 && a.requests === ours.requests) causes.add('estimated');
      else causes.add('unexplained');
    } else if (!costEqual) {
      if (a.priorityRequests > 0) causes.add('priority_tier');
      else if (a.listCostPico !== null && ours.costPico !== null && absDiff(a.listCostPico, ours.costPico) <= COST_TOLERANCE_PICO) causes.add('discount');
      else causes.add('unexplained');
    }
    return { day: ours.day, model: ours.model, sluice: ours, anthropic: a, matches: causes.size === 0, causes: [...causes] };
  };
  for (const s of sluiceRows) {
    const k = key(s.day, s.model);
    seen.add(k);
    out.push(judge(s, theirs.get(k) ?? null));
  }
  for (const [k, a] of theirs) {
    if (seen.has(k)) continue;
    // Only in Anthropic's report: the organization's traffic that never came through here.
    out.push({ day: a.day, model: a.model, sluice: empty(a.day, a.model), anthropic: a, matches: false, causes: ['not_via_sluice'] });
  }
  return out.sort((x, y) => x.day.localeCompare(y.day) || x.model.localeCompare(y.model));
}

/** One line per day for the Spend page: matches, differs with known causes, or differs unexplained. */
export function dayStatuses(rows: readonly Comparison[]): DayStatus[] {
  const days = new Map<string, DayStatus>();
  for (const r of rows) {
    const d = days.get(r.day) ?? { day: r.day, status: 'match' as DayStatus['status'], causes: [] };
    for (const c of r.causes) if (!d.causes.includes(c)) d.causes.push(c);
    if (r.causes.includes('unexplained')) d.status = 'differs';
    else if (!r.matches && d.status === 'match') d.status = 'explained';
    days.set(r.day, d);
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}
