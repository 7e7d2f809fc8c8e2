// USD budget accounting: settled spend per budget and period plus in-flight reservations, so
// concurrent requests cannot all squeeze under the same remaining amount. Pure bookkeeping in
// integer pico-dollars; the stage supplies limits, estimates and real costs. Imports errors only.
//
// Admission rule: a request is admitted only if settled + reserved + its estimate <= limit for
// every budget it falls under; its estimate stays reserved until the finish hook settles the
// real cost. Hence the overspend bound: spend can pass a limit only by
//   sum over requests in flight of max(0, real cost - estimate),
// which is 0 whenever the estimate (see estimate.ts) is an upper bound. Rows the gateway did not
// meter (metering off) settle at 0, so budgets need metering on.
import { BudgetExceededError } from './errors.js';
import { budgetRefusalHeaders, budgetRefusalLead } from './unified-limits.js';
import { picoToUsd } from '../pricing/index.js';

export interface BudgetLimit {
  /** Stable id of the budget: `daily`, `monthly`, `session:<id>`, `token:<name>:daily`, ... */
  id: string;
  /** For messages: "the daily budget (all tools)". */
  label: string;
  /** The period this request falls in: a local day, a month, or `lifetime`. */
  period: string;
  limitPico: number;
  /** The command or setting that raises it. */
  howToRaise: string;
  /** Settled spend of this budget in this period so far (the ledger); called once per period. */
  load(): number;
  /** When the period ends, epoch ms, and that instant in the user's clock ("2026-03-11 00:00"); absent for `lifetime`. */
  resetsAt?: number;
  resetsLabel?: string;
}

/** How a refusal is shaped for this request: Claude Code's unified headers only on API-key traffic. */
export interface RefusalContext {
  now: number;
  unified: boolean;
}

const PERIOD_NAMES: Record<number, 'daily' | 'monthly'> = { 10: 'daily', 7: 'monthly' };

function inWords(ms: number): string {
  const min = Math.max(1, Math.ceil(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.round(h / 24)} days`;
}

export interface Reservation {
  readonly estimatePico: number;
  readonly keys: readonly string[];
  done: boolean;
}

export interface BudgetStatus {
  id: string;
  period: string;
  settledPico: number;
  reservedPico: number;
  inFlight: number;
}

export interface ThresholdCrossing {
  limit: Pick<BudgetLimit, 'id' | 'label' | 'period' | 'limitPico' | 'howToRaise'>;
  threshold: number;
  settledPico: number;
}

interface Entry {
  id: string;
  period: string;
  settledPico: number;
  reservedPico: number;
  inFlight: number;
  limit: BudgetLimit;
  fired: Set<number>;
}

export interface BudgetEngine {
  /**
   * Reserves `estimatePico` under every limit or throws BudgetExceededError naming the first
   * that does not fit: 429 billing_error, the period and its reset in the message, retry-after.
   */
  reserve(limits: readonly BudgetLimit[], estimatePico: number, thresholds: readonly number[], refusal?: RefusalContext): Reservation;
  /** Replaces the reservation by the real cost (0 when nothing was billed). Idempotent. */
  settle(r: Reservation, actualPico: number, thresholds: readonly number[]): void;
  status(): BudgetStatus[];
}

const MAX_ENTRIES = 20_000;

export function formatUsd(pico: number): string {
  const usd = picoToUsd(pico);
  return `$${usd >= 1 || usd === 0 ? usd.toFixed(2) : usd.toFixed(4)}`;
}

export function createBudgetEngine(opts: { onThreshold(c: ThresholdCrossing): void }): BudgetEngine {
  // Insertion order doubles as recency (entries are re-inserted on use), for eviction.
  const entries = new Map<string, Entry>();

  const entryFor = (limit: BudgetLimit): Entry => {
    const key = `${limit.id}@${limit.period}`;
    let e = entries.get(key);
    if (e) {
      entries.delete(key);
      entries.set(key, e);
      e.limit = limit;
      return e;
    }
    e = { id: limit.id, period: limit.period, settledPico: limit.load(), reservedPico: 0, inFlight: 0, limit, fired: new Set() };
    entries.set(key, e);
    if (entries.size > MAX_ENTRIES) {
      for (const [k, old] of entries) {
        if (entries.size <= MAX_ENTRIES) break;
        if (old.inFlight === 0) entries.delete(k);
      }
    }
    return e;
  };

  const check = (e: Entry, thresholds: readonly number[]) => {
    for (const t of [...thresholds].sort((a, b) => a - b)) {
      if (e.fired.has(t) || e.settledPico < t * e.limit.limitPico) continue;
      e.fired.add(t);
      opts.onThreshold({ limit: e.limit, threshold: t, settledPico: e.settledPico });
    }
  };

  return {
    reserve(limits, estimatePico, thresholds, refusal = { now: Date.now(), unified: false }) {
      const list = limits.map(entryFor);
      // Spend already in the ledger when a period is first seen may have crossed thresholds.
      for (const e of list) check(e, thresholds);
      for (const e of list) {
        const spent = e.settledPico + e.reservedPico;
        if (spent + estimatePico <= e.limit.limitPico) continue;
        const l = e.limit;
        const reached = e.settledPico >= l.limitPico;
        const why = reached
          ? `${formatUsd(e.settledPico)} of ${formatUsd(l.limitPico)} is spent`
          : `${formatUsd(e.settledPico)} is spent, ${formatUsd(e.reservedPico)} is reserved by ${e.inFlight} request(s) in flight, and this request may cost up to ${formatUsd(estimatePico)}`;
        const resetsAt = l.period === 'lifetime' ? null : l.resetsAt ?? null;
        const when = resetsAt === null ? '' : ` It resets ${l.resetsLabel ? `at ${l.resetsLabel} ` : ''}(in ${inWords(resetsAt - refusal.now)}).`;
        const headers = budgetRefusalHeaders({
          utilization: l.limitPico > 0 ? e.settledPico / l.limitPico : 1,
          resetsAt, period: resetsAt === null ? null : PERIOD_NAMES[l.period.length] ?? null, now: refusal.now, unified: refusal.unified,
        });
        throw new BudgetExceededError(l.id, `${budgetRefusalLead(reached, resetsAt)} · Sluice refused this request: ${l.label} (${formatUsd(l.limitPico)}, ${l.period === 'lifetime' ? 'lifetime' : `period ${l.period}`}) would be exceeded: ${why}.${when} To raise it: ${l.howToRaise}.`, headers);
      }
      for (const e of list) { e.reservedPico += estimatePico; e.inFlight++; }
      return { estimatePico, keys: list.map((e) => `${e.id}@${e.period}`), done: false };
    },
    settle(r, actualPico, thresholds) {
      if (r.done) return;
      r.done = true;
      for (const key of r.keys) {
        const e = entries.get(key);
        if (!e) continue;
        e.reservedPico -= r.estimatePico;
        e.inFlight--;
        e.settledPico += actualPico;
        check(e, thresholds);
      }
    },
    status: () => [...entries.values()].map((e) => ({ id: e.id, period: e.period, settledPico: e.settledPico, reservedPico: e.reservedPico, inFlight: e.inFlight })),
  };
}
