// The `sluice smart report` data: each smart rule's ledger rows (paged through requestsInRange)
// summed per tier against its top tier's model, by smart/savings.ts. Reads a ledger and settings
// as plain data; must not import the gateway or the pipeline.
import { savingsByRoute, type RouteSavings } from '../smart/index.js';
import type { PriceBook } from '../pricing/index.js';
import type { RangeQuery, RequestRecord, RequestsInRangeQuery, RequestsPage } from '../ledger/types.js';
import type { RoutingSettings } from './schema.js';

export interface SmartReport {
  since: string | null;
  routes: RouteSavings[];
}

/**
 * The model a smart rule's counterfactual is priced at: a `tiers` rule's complex target, a
 * cascade's last step. null for any other rule (not a smart rule, or no longer configured).
 */
export function topModelOfRoute(routing: Pick<RoutingSettings, 'rules' | 'smart'>, route: string | null): string | null {
  const rule = routing.rules.find((r) => r.name === route);
  if (!rule) return null;
  if (rule.tiers) return routing.smart.tiers.complex.model;
  if (rule.cascade !== undefined) return routing.smart.cascades.find((c) => c.name === rule.cascade)?.tiers.at(-1)?.model ?? null;
  return null;
}

const PAGE = 5000;

/**
 * Reads every row in range page by page (the ledger may be large) and reports each smart rule.
 * Rows a duplicate import shadows (`counted: false`) are left out like every other ledger sum.
 */
export function smartReport(
  ledger: { requestsInRange(q?: RequestsInRangeQuery): RequestsPage },
  book: PriceBook,
  routing: Pick<RoutingSettings, 'rules' | 'smart'>,
  q: RangeQuery & { rule?: string } = {},
): SmartReport {
  const rows: (RequestRecord & { billed: boolean })[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = ledger.requestsInRange({
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      limit: PAGE,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    for (const r of page.requests) {
      if (r.tier === null || r.route === null) continue;
      if (q.rule !== undefined && r.route !== q.rule) continue;
      rows.push({ ...r, billed: r.billed && r.counted });
    }
    if (page.nextAfterId === null) break;
    afterId = page.nextAfterId;
  }
  return {
    since: q.since === undefined ? null : String(q.since),
    routes: savingsByRoute(rows, book, (route) => topModelOfRoute(routing, route)),
  };
}
