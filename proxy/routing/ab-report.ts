// The A/B comparison: per rule and arm, requests, error rate, latency p50/p95, cost per request
// and output tokens, from ledger rows. `abReport` is pure over rows; `abReportFromLedger` pages
// through the ledger's requests (the admin API can call it). Imports ledger types and pricing's
// pico-dollar conversion only.
import type { DateBound, RequestRecord, RequestsPage } from '../ledger/types.js';
import { picoToUsd } from '../pricing/cost.js';

export interface ArmStats {
  rule: string;
  arm: string;
  requests: number;
  errors: number;
  /** errors / requests (0..1). */
  errorRate: number;
  /** Total time of a request, ms (null when no row had one). */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttfbP50Ms: number | null;
  /** Priced cost / priced requests, USD; null when none was priced. */
  costPerRequestUsd: number | null;
  costUsd: number | null;
  /** Requests whose served model had no price (left out of the cost figures). */
  unpricedRequests: number;
  outputTokens: number;
  outputTokensPerRequest: number;
  /** Served models seen in this arm, most frequent first. */
  servedModels: string[];
}

export interface AbReport {
  since: number | null;
  rules: { rule: string; arms: ArmStats[] }[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

type Row = Pick<RequestRecord, 'route' | 'arm' | 'status' | 'errorType' | 'totalMs' | 'ttfbMs' | 'costPico' | 'billed' | 'outputTokens' | 'servedModel' | 'endpoint'>;

function isError(r: Row): boolean {
  return r.status === null || r.status >= 400 || (r.errorType !== null && r.errorType !== undefined);
}

/**
 * Groups rows that carry an arm by (rule, arm). Rows without an arm (no A/B rule matched) are
 * not part of any comparison.
 *
 * @example
 * abReport(rows, { rule: 'sonnet-vs-deepseek' }).rules[0].arms.map((a) => [a.arm, a.errorRate])
 */
export function abReport(rows: Iterable<Row>, opts: { rule?: string; since?: number | null } = {}): AbReport {
  const groups = new Map<string, { rule: string; arm: string; rows: Row[] }>();
  for (const r of rows) {
    if (!r.arm || !r.route || r.endpoint !== 'messages') continue;
    if (opts.rule !== undefined && r.route !== opts.rule) continue;
    const k = `${r.route}\0${r.arm}`;
    let g = groups.get(k);
    if (!g) groups.set(k, g = { rule: r.route, arm: r.arm, rows: [] });
    g.rows.push(r);
  }
  const byRule = new Map<string, ArmStats[]>();
  for (const g of groups.values()) {
    const n = g.rows.length;
    const errors = g.rows.filter(isError).length;
    const lat = g.rows.map((r) => r.totalMs).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    const ttfb = g.rows.map((r) => r.ttfbMs).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    const billed = g.rows.filter((r) => r.billed);
    const priced = billed.filter((r) => r.costPico !== null);
    // Integer pico-dollars, summed exactly, divided once.
    const pico = priced.reduce((s, r) => s + BigInt(r.costPico!), 0n);
    const out = g.rows.reduce((s, r) => s + r.outputTokens, 0);
    const models = new Map<string, number>();
    for (const r of g.rows) if (r.servedModel) models.set(r.servedModel, (models.get(r.servedModel) ?? 0) + 1);
    const stats: ArmStats = {
      rule: g.rule,
      arm: g.arm,
      requests: n,
      errors,
      errorRate: n === 0 ? 0 : errors / n,
      latencyP50Ms: percentile(lat, 50),
      latencyP95Ms: percentile(lat, 95),
      ttfbP50Ms: percentile(ttfb, 50),
      costPerRequestUsd: priced.length === 0 ? null : picoToUsd(pico / BigInt(priced.length)),
      costUsd: priced.length === 0 ? null : picoToUsd(pico),
      unpricedRequests: billed.length - priced.length,
      outputTokens: out,
      outputTokensPerRequest: n === 0 ? 0 : out / n,
      servedModels: [...models].sort((a, b) => b[1] - a[1]).map(([m]) => m),
    };
    const list = byRule.get(g.rule) ?? [];
    list.push(stats);
    byRule.set(g.rule, list);
  }
  return {
    since: opts.since ?? null,
    rules: [...byRule].sort((a, b) => a[0].localeCompare(b[0])).map(([rule, arms]) => ({ rule, arms: arms.sort((a, b) => a.arm.localeCompare(b.arm)) })),
  };
}

/** Pages through the ledger's requests since `since` and reports per arm. */
export function abReportFromLedger(
  ledger: { requestsInRange(q: { since?: DateBound; limit?: number; afterId?: string }): RequestsPage },
  opts: { rule?: string; since?: DateBound } = {},
): AbReport {
  const rows: RequestRecord[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = ledger.requestsInRange({ ...(opts.since !== undefined ? { since: opts.since } : {}), limit: 10_000, ...(afterId ? { afterId } : {}) });
    for (const r of page.requests) if (r.arm) rows.push(r);
    if (!page.nextAfterId) break;
    afterId = page.nextAfterId;
  }
  const since = typeof opts.since === 'number' ? opts.since : typeof opts.since === 'string' ? Date.parse(opts.since) : NaN;
  return abReport(rows, { ...(opts.rule !== undefined ? { rule: opts.rule } : {}), since: Number.isNaN(since) ? null : since });
}
