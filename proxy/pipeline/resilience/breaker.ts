// A circuit breaker per upstream target (provider and model; the caller records one verdict per
// client request, however many attempts it made, so no single request can open it): closed -> open when, within a window, failures reach a
// count AND a share of calls (a steady 20 % of 529s that retries absorb must not take the only
// target offline; an outage must) ->
// half-open after a pause, letting a few probe requests through -> closed on a probe's success,
// open again on its failure. An open breaker is skipped at once, without waiting for a timeout.
// Pure; the clock is passed in.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Failures in the window needed to open (also the smallest sample judged). */
  failureThreshold: number;
  /** Share of the window's calls that must have failed, 0..1 (absent: 0, the count alone decides). */
  failureRate?: number;
  windowMs: number;
  openMs: number;
  halfOpenProbes: number;
}

export interface BreakerSnapshot {
  /** The provider. */
  target: string;
  /** The model this breaker guards (one breaker per provider and model); null: the provider's requests without a model. */
  model: string | null;
  state: BreakerState;
  recentFailures: number;
  recentCalls: number;
  openedAt: number | null;
  /** When an open breaker lets probes through (ms epoch). */
  retryAt: number | null;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  /**
   * Outcomes in the window, oldest first, as a queue: times and whether each failed, live from
   * `head` on. Every request appends one; pruning only advances `head` (compacted once half
   * the arrays are dead), so a busy window costs O(1) per request, not a shift of the array.
   */
  private times: number[] = [];
  private fails: boolean[] = [];
  private head = 0;
  /** Failed outcomes in the window. */
  private failedCount = 0;
  private openedAt: number | null = null;
  private probesInFlight = 0;

  constructor(
    readonly target: string,
    private readonly opts: () => BreakerOptions,
    private readonly now: () => number,
    private readonly onChange: (s: BreakerSnapshot, from: BreakerState) => void = () => {},
    readonly model: string | null = null,
  ) {}

  private transition(to: BreakerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === 'open') this.openedAt = this.now();
    if (to === 'closed') { this.openedAt = null; this.clearOutcomes(); }
    if (to !== 'half_open') this.probesInFlight = 0;
    this.onChange(this.snapshot(), from);
  }

  /** Moves open -> half-open once the pause is over; returns the current state. */
  current(): BreakerState {
    if (this.state === 'open' && this.openedAt !== null && this.now() - this.openedAt >= this.opts().openMs) {
      this.transition('half_open');
    }
    return this.state;
  }

  /** Whether a request may go to this target now; in half-open, reserves a probe slot. */
  tryAcquire(): boolean {
    const s = this.current();
    if (s === 'closed') return true;
    if (s === 'open') return false;
    if (this.probesInFlight >= this.opts().halfOpenProbes) return false;
    this.probesInFlight++;
    return true;
  }

  /** ms until an open breaker admits probes (0 when it admits now). */
  waitMs(): number {
    const s = this.current();
    if (s !== 'open' || this.openedAt === null) return 0;
    return Math.max(0, this.openedAt + this.opts().openMs - this.now());
  }

  onSuccess(): void {
    if (this.state === 'half_open') this.transition('closed');
    else if (this.state === 'closed') {
      this.push(false);
      this.prune();
    }
  }

  onFailure(): void {
    if (this.state === 'half_open') {
      this.transition('open');
      return;
    }
    if (this.state === 'open') return;
    this.push(true);
    this.prune();
    const failed = this.failedCount;
    const o = this.opts();
    if (failed >= o.failureThreshold && failed / this.calls() >= (o.failureRate ?? 0)) this.transition('open');
  }

  private push(failed: boolean): void {
    this.times.push(this.now());
    this.fails.push(failed);
    if (failed) this.failedCount++;
  }

  private calls(): number {
    return this.times.length - this.head;
  }

  private clearOutcomes(): void {
    this.times = [];
    this.fails = [];
    this.head = 0;
    this.failedCount = 0;
  }

  /** A request that got no verdict (client left): frees its probe slot. */
  release(): void {
    if (this.state === 'half_open' && this.probesInFlight > 0) this.probesInFlight--;
  }

  private prune(): void {
    const cutoff = this.now() - this.opts().windowMs;
    const { times, fails } = this;
    let h = this.head;
    while (h < times.length && times[h]! < cutoff) {
      if (fails[h]) this.failedCount--;
      h++;
    }
    if (h === times.length) {
      this.clearOutcomes();
      return;
    }
    this.head = h;
    if (h >= 1024 && h * 2 >= times.length) {
      this.times = times.slice(h);
      this.fails = fails.slice(h);
      this.head = 0;
    }
  }

  snapshot(): BreakerSnapshot {
    this.prune();
    const retryAt = this.state === 'open' && this.openedAt !== null ? this.openedAt + this.opts().openMs : null;
    return { target: this.target, model: this.model, state: this.state, recentFailures: this.failedCount, recentCalls: this.calls(), openedAt: this.openedAt, retryAt };
  }
}
