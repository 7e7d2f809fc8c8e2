// A circuit breaker per upstream target: closed -> open after enough failures in a window ->
// half-open after a pause, letting a few probe requests through -> closed on a probe's success,
// open again on its failure. An open breaker is skipped at once, without waiting for a timeout.
// Pure; the clock is passed in.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  windowMs: number;
  openMs: number;
  halfOpenProbes: number;
}

export interface BreakerSnapshot {
  target: string;
  state: BreakerState;
  recentFailures: number;
  openedAt: number | null;
  /** When an open breaker lets probes through (ms epoch). */
  retryAt: number | null;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures: number[] = [];
  private openedAt: number | null = null;
  private probesInFlight = 0;

  constructor(
    readonly target: string,
    private readonly opts: () => BreakerOptions,
    private readonly now: () => number,
    private readonly onChange: (s: BreakerSnapshot, from: BreakerState) => void = () => {},
  ) {}

  private transition(to: BreakerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === 'open') this.openedAt = this.now();
    if (to === 'closed') { this.openedAt = null; this.failures = []; }
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
    else if (this.state === 'closed') this.prune();
  }

  onFailure(): void {
    if (this.state === 'half_open') {
      this.transition('open');
      return;
    }
    if (this.state === 'open') return;
    this.failures.push(this.now());
    this.prune();
    if (this.failures.length >= this.opts().failureThreshold) this.transition('open');
  }

  /** A request that got no verdict (client left): frees its probe slot. */
  release(): void {
    if (this.state === 'half_open' && this.probesInFlight > 0) this.probesInFlight--;
  }

  private prune(): void {
    const cutoff = this.now() - this.opts().windowMs;
    while (this.failures.length && this.failures[0]! < cutoff) this.failures.shift();
  }

  snapshot(): BreakerSnapshot {
    this.prune();
    const retryAt = this.state === 'open' && this.openedAt !== null ? this.openedAt + this.opts().openMs : null;
    return { target: this.target, state: this.state, recentFailures: this.failures.length, openedAt: this.openedAt, retryAt };
  }
}
