// Exact subscription utilization for `sluice report blocks`: a 5-hour block takes the last
// utilization Anthropic reported (unified rate-limit headers, recorded by the gateway in
// usage-limits.json) while the block was running. A block without one gets an estimate, clearly
// marked: its API-price cost scaled by the cost-per-percent of the latest block that was seen.
import type { UnifiedObservation, UsageLimitsDoc } from './control/unified-limits.js';

export interface LimitBlock {
  start: number;
  end: number;
  kind: 'block' | 'gap';
  costUsd: number | null;
  utilization: number | null;
  estimated: boolean;
  /** Set only where `utilization` is null: the estimate (a fraction), or null when there is no basis. */
  estimatedUtilization?: number | null;
}

/** Fills `utilization` (exact) or `estimatedUtilization` of each block, in place. */
export function applyUsageLimits<B extends LimitBlock>(blocks: B[], doc: UsageLimitsDoc | null): B[] {
  const seen: UnifiedObservation[] = [];
  for (const a of doc?.accounts ?? []) {
    seen.push(...a.windows);
    if (!a.windows.includes(a.latest)) seen.push(a.latest);
  }
  let basis: { usd: number; utilization: number } | null = null;
  for (const b of blocks) {
    if (b.kind !== 'block') continue;
    let last: UnifiedObservation | null = null;
    for (const o of seen) {
      if (o.fiveHour?.utilization == null || o.seenAt < b.start || o.seenAt >= b.end) continue;
      // Several accounts in one block: the fullest window is the one that limits.
      if (last === null || o.fiveHour.utilization > last.fiveHour!.utilization! || (o.fiveHour.utilization === last.fiveHour!.utilization && o.seenAt > last.seenAt)) last = o;
    }
    if (last !== null) {
      b.utilization = last.fiveHour!.utilization!;
      b.estimated = false;
      if (b.costUsd !== null && b.costUsd > 0 && b.utilization > 0) basis = { usd: b.costUsd, utilization: b.utilization };
    }
  }
  for (const b of blocks) {
    if (b.kind !== 'block' || b.utilization !== null) continue;
    b.estimated = true;
    b.estimatedUtilization = basis !== null && b.costUsd !== null ? (b.costUsd / basis.usd) * basis.utilization : null;
  }
  return blocks;
}
