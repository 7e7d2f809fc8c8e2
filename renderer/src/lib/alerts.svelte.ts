// Recent alerts: the control plane's stored log (budget thresholds, guardrails, capture) merged
// with alerts arriving live on the event stream, which also carries the ones nothing stores
// (circuit breaker, fallback). Newest first, each alert once. EventSource is injected.
import { untrack } from 'svelte';
import type { AlertEvent, AlertView } from './api.js';
import type { EventSourceLike, FeedStatus } from './feed.svelte.js';

export interface AlertItem {
  /** Same for the stored row and the live event of one alert. */
  key: string;
  ts: number;
  kind: string;
  level: AlertView['level'];
  message: string;
  /** Seen on the stream only (not in the stored log, or not reloaded yet). */
  live: boolean;
}

export function alertKey(a: Pick<AlertEvent, 'kind' | 'ts' | 'message'>): string {
  return `${a.kind}\u0000${a.ts}\u0000${a.message}`;
}

const KIND_LABELS: Record<string, string> = {
  budget: 'Budget', breaker: 'Circuit breaker', fallback: 'Fallback', guardrail: 'Guardrail', capture: 'Capture', webhook: 'Webhook',
};

export function alertKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? (kind ? kind[0]!.toUpperCase() + kind.slice(1) : 'Alert');
}

/** Stored and live alerts together, newest first, duplicates (same kind, time and message) once. */
export function mergeAlerts(stored: readonly AlertView[], live: readonly AlertEvent[], max: number): AlertItem[] {
  const out = new Map<string, AlertItem>();
  for (const a of stored) out.set(alertKey(a), { key: alertKey(a), ts: a.ts, kind: a.kind, level: a.level, message: a.message, live: false });
  for (const a of live) {
    const key = alertKey(a);
    if (!out.has(key)) out.set(key, { key, ts: a.ts, kind: a.kind, level: a.level, message: a.message, live: true });
  }
  return [...out.values()].sort((a, b) => b.ts - a.ts).slice(0, max);
}

export class AlertLog {
  stored = $state<AlertView[]>([]);
  live = $state<AlertEvent[]>([]);
  status = $state<FeedStatus>('closed');
  readonly max: number = 50;
  items = $derived(mergeAlerts(this.stored, this.live, this.max));
  #source: EventSourceLike | null = null;
  #onAlert: ((a: AlertEvent) => void) | null;

  constructor(opts: { max?: number; onAlert?: (a: AlertEvent) => void } = {}) {
    this.max = opts.max ?? 50;
    this.#onAlert = opts.onAlert ?? null;
  }

  /**
   * Takes the stored log. Called from an effect that follows the control status: reading `live`
   * here must not subscribe that effect to `live`, or writing it would re-run the effect forever
   * (Svelte's effect_update_depth_exceeded on the Budgets page).
   */
  setStored(alerts: readonly AlertView[]): void {
    this.stored = [...alerts];
    // Live alerts the store now holds are no longer needed twice.
    const have = new Set(alerts.map(alertKey));
    untrack(() => {
      const kept = this.live.filter((a) => !have.has(alertKey(a)));
      if (kept.length !== this.live.length) this.live = kept;
    });
  }

  add(a: AlertEvent): void {
    this.live = [a, ...this.live].slice(0, this.max);
    this.#onAlert?.(a);
  }

  connect(open: () => EventSourceLike): void {
    this.close();
    const src = open();
    this.#source = src;
    this.status = 'connecting';
    src.onopen = () => { this.status = 'live'; };
    src.onerror = () => { this.status = src.readyState === 2 ? 'closed' : 'reconnecting'; };
    src.addEventListener('alert', (e) => this.add(JSON.parse(e.data) as AlertEvent));
  }

  close(): void {
    this.#source?.close();
    this.#source = null;
    this.status = 'closed';
  }
}
