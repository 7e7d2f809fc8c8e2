// Per-token rate limits as token buckets: requests per minute and tokens per minute. The token
// bucket is charged an estimate at admission and corrected with the real count at finish.
// Pure over an injected clock; imports nothing.

export interface BucketResult {
  ok: boolean;
  /** Whole seconds until the request would fit (when !ok). */
  retryAfterSeconds: number;
  /** Which limit refused: `requests_per_minute` or `tokens_per_minute`. */
  limit: 'requests_per_minute' | 'tokens_per_minute' | null;
}

interface Bucket {
  level: number;
  capacity: number;
  at: number;
}

export interface RateLimiter {
  /** Takes one request and `tokens` (estimate) from `key`'s buckets, or neither. */
  take(key: string, limits: { rpm: number | null; tpm: number | null }, tokens: number): BucketResult;
  /** Gives back (positive) or charges more (negative) tokens once the real count is known. */
  adjustTokens(key: string, delta: number): void;
}

export function createRateLimiter(now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const refill = (name: string, capacity: number): Bucket => {
    const t = now();
    let b = buckets.get(name);
    if (!b) {
      b = { level: capacity, capacity, at: t };
      buckets.set(name, b);
      return b;
    }
    // A changed limit takes effect at once, keeping the debt or credit already there.
    if (b.capacity !== capacity) { b.level = Math.min(b.level, capacity); b.capacity = capacity; }
    b.level = Math.min(capacity, b.level + ((t - b.at) / 60_000) * capacity);
    b.at = t;
    return b;
  };
  const wait = (b: Bucket, need: number) => Math.max(1, Math.ceil(((need - b.level) / b.capacity) * 60));

  return {
    take(key, limits, tokens) {
      const r = limits.rpm === null ? null : refill(`${key}\0r`, limits.rpm);
      const k = limits.tpm === null ? null : refill(`${key}\0t`, limits.tpm);
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
      refill(`${key}\0t`, b.capacity);
      b.level = Math.min(b.capacity, b.level + delta);
    },
  };
}
