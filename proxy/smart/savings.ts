// The per-rule smart-routing report: how often each tier served, what it cost, and what sending
// every request to the rule's top-tier model would have cost instead (the saving). Pure over
// ledger-like rows and a price book; imports pricing/cost.ts and ledger types only.
//
// Money stays integer pico-dollars (bigint sums), as the ledger stores it; USD is derived once.
// The counterfactual reprices each row's recorded usage at the top model's prices: it assumes
// the top model would have read and written the same tokens, which is the only fair basis the
// ledger offers (the answers it did not give cannot be measured).
import { picoToUsd, type PriceBook, type Usage } from '../pricing/cost.js';
import type { LedgerRow } from '../ledger/types.js';
import { TIERS } from './schema.js';

/** The ledger fields the report reads (a LedgerRow or a RequestRecord fits). */
export type SavingsRow = Pick<LedgerRow,
  'servedModel' | 'inputTokens' | 'outputTokens' | 'cacheWrite5mTokens' | 'cacheWrite1hTokens'
  | 'cacheReadTokens' | 'webSearchRequests' | 'costPico'> & {
  tier?: string | null;
  route?: string | null;
  /** False rows (failed attempts, count_tokens) are left out, as in every ledger sum. */
  billed?: boolean;
};

export interface SavingsTotals {
  requests: number;
  /** Actual cost of the rows that are priced. */
  costPico: bigint;
  costUsd: number;
  /** Rows whose actual cost is unknown (costPico null): flagged, never counted as $0. */
  unpriced: number;
  /** Rows the top model's prices could not reprice (unknown model, unpriced web search). */
  counterfactualUnpriced: number;
  /** Rows priced both ways: the saving is computed over these only. */
  comparable: number;
  comparableCostPico: bigint;
  /** What the comparable rows would have cost on the top model. */
  counterfactualPico: bigint;
  counterfactualUsd: number;
  /** counterfactual - actual over comparable rows; negative when routing cost more. */
  savingPico: bigint;
  savingUsd: number;
  /** Served models seen, sorted. */
  models: string[];
}

export interface TierSavings extends SavingsTotals {
  tier: string;
  /** This tier's requests / the route's requests. */
  share: number;
}

export interface RouteSavings {
  route: string | null;
  topModel: string;
  tiers: TierSavings[];
  total: SavingsTotals;
}

/** A ledger row's token columns as the Usage the price book takes. */
export function usageOfRow(r: SavingsRow): Usage {
  return {
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_creation_input_tokens: r.cacheWrite5mTokens + r.cacheWrite1hTokens,
    cache_creation: { ephemeral_5m_input_tokens: r.cacheWrite5mTokens, ephemeral_1h_input_tokens: r.cacheWrite1hTokens },
    cache_read_input_tokens: r.cacheReadTokens,
    server_tool_use: { web_search_requests: r.webSearchRequests },
  };
}

interface Acc {
  requests: number;
  cost: bigint;
  unpriced: number;
  cfUnpriced: number;
  comparable: number;
  comparableCost: bigint;
  cf: bigint;
  models: Set<string>;
}

const newAcc = (): Acc => ({ requests: 0, cost: 0n, unpriced: 0, cfUnpriced: 0, comparable: 0, comparableCost: 0n, cf: 0n, models: new Set() });

function totals(a: Acc): SavingsTotals {
  const saving = a.cf - a.comparableCost;
  return {
    requests: a.requests,
    costPico: a.cost,
    costUsd: picoToUsd(a.cost),
    unpriced: a.unpriced,
    counterfactualUnpriced: a.cfUnpriced,
    comparable: a.comparable,
    comparableCostPico: a.comparableCost,
    counterfactualPico: a.cf,
    counterfactualUsd: picoToUsd(a.cf),
    savingPico: saving,
    savingUsd: picoToUsd(saving),
    models: [...a.models].sort(),
  };
}

const tierOrder = (t: string) => {
  const i = (TIERS as readonly string[]).indexOf(t);
  return i === -1 ? TIERS.length : i;
};

/**
 * The report for one rule's rows, against its top tier's model. Rows without a tier (not
 * smart-routed) and unbilled rows are left out. Tiers come simple, moderate, complex, then any
 * other tier names (cascade steps) alphabetically.
 */
export function routeSavings(rows: Iterable<SavingsRow>, book: PriceBook, topModel: string, route: string | null = null): RouteSavings {
  const all = newAcc();
  const byTier = new Map<string, Acc>();
  for (const r of rows) {
    if (r.billed === false || r.tier === null || r.tier === undefined) continue;
    let acc = byTier.get(r.tier);
    if (!acc) { acc = newAcc(); byTier.set(r.tier, acc); }
    const cf = book.cost(topModel, usageOfRow(r)).costPicoUsd;
    for (const a of [acc, all]) {
      a.requests++;
      if (r.servedModel !== null) a.models.add(r.servedModel);
      if (r.costPico === null) a.unpriced++;
      else a.cost += BigInt(r.costPico);
      if (cf === null) a.cfUnpriced++;
      if (r.costPico !== null && cf !== null) {
        a.comparable++;
        a.comparableCost += BigInt(r.costPico);
        a.cf += BigInt(cf);
      }
    }
  }
  const tiers = [...byTier.entries()]
    .sort(([a], [b]) => tierOrder(a) - tierOrder(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([tier, acc]): TierSavings => ({ tier, share: all.requests ? acc.requests / all.requests : 0, ...totals(acc) }));
  return { route, topModel, tiers, total: totals(all) };
}

/**
 * One report per route. `topModelOf` names the top tier's model of a route (the rule's complex
 * target, or its cascade's last step); routes it returns null for are not smart rules and are
 * skipped. Routes come in order of first appearance.
 */
export function savingsByRoute(rows: Iterable<SavingsRow>, book: PriceBook, topModelOf: (route: string | null) => string | null): RouteSavings[] {
  const groups = new Map<string | null, SavingsRow[]>();
  for (const r of rows) {
    const key = r.route ?? null;
    let g = groups.get(key);
    if (!g) { g = []; groups.set(key, g); }
    g.push(r);
  }
  const out: RouteSavings[] = [];
  for (const [route, g] of groups) {
    const top = topModelOf(route);
    if (top !== null) out.push(routeSavings(g, book, top, route));
  }
  return out;
}
