// Per-token rate limits as token buckets: requests per minute and tokens per minute, each with
// an optional burst size. A bucket holds up to `burst` (default: the sustained rate, i.e. one
// minute's worth) and refills at the sustained rate, so a Claude Code session can fire 200
// subagent requests at once and is then held to its sustained rate. The token bucket is charged
// an estimate at admission and corrected with the real count at finish.
// Every operation is synchronous (check and take in one step, no await between), so concurrent
// requests on the event loop cannot both take the last unit. Pure over an injected clock.

export type RateLimitName = 'requests_per_minute' | 'tokens_per_minute';

export interface BucketResult {
  ok: boolean;
  /** Whole seconds until the request would fit (when !ok), from the bucket's level and refill rate. */
  retryAfterSeconds: number;
  /** Which limit refused: `requests_per_minute` or `tokens_per_minute`. */
  limit: RateLimitName | null;
}

/** A token's limits: sustained per minute, and the bucket size (null: one minute's worth). */
export interface BucketLimits {
  rpm: number | null;
  tpm: number | null;
  burstRequests?: number | null;
  burstTokens?: number | null;
}

/** One bucket as the dashboard and CLI show it. */
export interface BucketState {
  /** Units available now (negative: in debt after a request bigger than its estimate). */
  level: number;
  /** The burst size. */
  capacity: number;
  /** The sustained refill rate. */
  perMinute: number;
  /** Seconds until the bucket is full again (0 when full). */
  fullInSeconds: number;
}

export interface RateLimitState {
  requests: BucketState | null;
  tokens: BucketState | null;
}

interface Bucket {
  level: number;
  capacity: number;
  rate: number;
  at: number;
}

export interface RateLimiter {
  /** Takes one request and `tokens` (estimate) from `key`'s buckets, or neither. */
  take(key: string, limits: BucketLimits, tokens: number): BucketResult;
  /** Gives back (positive) or charges more (negative) tokens once the real count is known. */
  adjustTokens(key: string, delta: number): void;
  /** The buckets of `key` under `limits`, refilled to now (a key never seen is full). */
  state(key: string, limits: BucketLimits): RateLimitState;
}

export function createRateLimiter(now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const refill = (name: string, rate: number, capacity: number): Bucket => {
    const t = now();
    let b = buckets.get(name);
    if (!b) {
      b = { level: capacity, capacity, rate, at: t };
      buckets.set(name, b);
      return b;
    }
    // A changed limit takes effect at once, keeping the debt or credit already there.
    if (b.capacity !== capacity) { b.level = Math.min(b.level, capacity); b.capacity = capacity; }
    b.rate = rate;
    if (t > b.at) b.level = Math.min(capacity, b.level + ((t - b.at) / 60_000) * rate);
    b.at = Math.max(b.at, t);
    return b;
  };
  const requestsOf = (key: string, l: BucketLimits) => (l.rpm === null ? null : refill(`${key}\0r`, l.rpm, l.burstRequests ?? l.rpm));
  const tokensOf = (key: string, l: BucketLimits) => (l.tpm === null ? null : refill(`${key}\0t`, l.tpm, l.burstTokens ?? l.tpm));
  const wait = (b: Bucket, need: number) => Math.max(1, Math.ceil(((need - b.level) / b.rate) * 60));
  const view = (b: Bucket | null): BucketState | null => b && {
    level: b.level, capacity: b.capacity, perMinute: b.rate,
    fullInSeconds: b.level >= b.capacity ? 0 : Math.ceil(((b.capacity - b.level) / b.rate) * 60),
  };

  return {
    take(key, limits, tokens) {
      const r = requestsOf(key, limits);
      const k = tokensOf(key, limits);
      if (r && r.level < 1) return { ok: false, retryAfterSeconds: wait(r, 1), limit: 'requests_per_minute' };
      // A request bigger than the whole bucket is admitted when the bucket is full, or it could never run.
      const need = k ? Math.min(tokens, k.capacity) : 0;
      if (k && k.level < need) return { ok: false, retryAfterSeconds: wait(k, need), limit: 'tokens_per_minute' };
      if (r) r.level -= 1;
      if (k) k.level -= tokens;
      return { ok: true, retryAfterSeconds: 0, limit: null };
    },
    adjustTokens(key, delta) {
      const b = buckets.get(`${key}\0t`);
      if (!b) return;
      refill(`${key}\0t`, b.rate, b.capacity);
      b.level = Math.min(b.capacity, b.level + delta);
    },
    state(key, limits) {
      return { requests: view(requestsOf(key, limits)), tokens: view(tokensOf(key, limits)) };
    },
  };
}
