// Retry policy: which upstream outcomes a retry can fix, how long to wait (retry-after,
// Anthropic's rate-limit reset headers, exponential backoff with full jitter) and a global retry
// budget so an incident is not amplified. Pure; the clock and randomness are passed in.
import type { IncomingHttpHeaders } from 'node:http';

export type FailureKind = 'rate_limit' | 'overloaded' | 'server' | 'network' | 'timeout';

/** 429 and 529 and the 5xx a retry can help with; everything else is the caller's answer. */
export function classifyStatus(status: number): FailureKind | null {
  if (status === 429) return 'rate_limit';
  if (status === 529) return 'overloaded';
  if (status === 500 || status === 502 || status === 503 || status === 504) return 'server';
  return null;
}

/** Gateway error codes raised before any response arrived. */
export function classifyErrorCode(code: string): FailureKind | null {
  if (code === 'GATEWAY_UPSTREAM_UNREACHABLE') return 'network';
  if (code === 'GATEWAY_UPSTREAM_TIMEOUT') return 'timeout';
  return null;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `retry-after` as milliseconds from now: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export interface LimitDimension {
  limit: number | null;
  remaining: number | null;
  /** ms epoch. */
  resetAt: number | null;
}

/** What one response says about a key's headroom (anthropic-ratelimit-* headers). */
export interface RateLimitInfo {
  requests: LimitDimension;
  tokens: LimitDimension;
  inputTokens: LimitDimension;
  outputTokens: LimitDimension;
  retryAfterMs: number | null;
}

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function dim(h: IncomingHttpHeaders, kind: string): LimitDimension {
  const reset = header(h, `anthropic-ratelimit-${kind}-reset`);
  const t = reset ? Date.parse(reset) : NaN;
  return {
    limit: num(header(h, `anthropic-ratelimit-${kind}-limit`)),
    remaining: num(header(h, `anthropic-ratelimit-${kind}-remaining`)),
    resetAt: Number.isNaN(t) ? null : t,
  };
}

export function parseRateLimitHeaders(h: IncomingHttpHeaders, now: number): RateLimitInfo {
  return {
    requests: dim(h, 'requests'),
    tokens: dim(h, 'tokens'),
    inputTokens: dim(h, 'input-tokens'),
    outputTokens: dim(h, 'output-tokens'),
    retryAfterMs: parseRetryAfter(header(h, 'retry-after'), now),
  };
}

/**
 * Until when a key that got a 429 should rest. A request-rate limit (requests remaining 0)
 * waits for the requests reset; a token-rate limit (any token dimension at 0) for the latest
 * of the exhausted token resets; `retry-after` wins when present (it is what Anthropic asks
 * for); with no hint at all, `fallbackMs`.
 */
export function cooldownUntil(info: RateLimitInfo, now: number, fallbackMs: number): { until: number; limit: 'requests' | 'tokens' | 'unknown' } {
  if (info.retryAfterMs !== null) {
    const which = info.requests.remaining === 0 ? 'requests' : [info.tokens, info.inputTokens, info.outputTokens].some((d) => d.remaining === 0) ? 'tokens' : 'unknown';
    return { until: now + info.retryAfterMs, limit: which };
  }
  // Every exhausted dimension must have reset before the key can succeed: wait for the latest.
  const requestsOut = info.requests.remaining === 0 && info.requests.resetAt !== null ? info.requests.resetAt : null;
  const tokenResets = [info.tokens, info.inputTokens, info.outputTokens].filter((d) => d.remaining === 0 && d.resetAt !== null).map((d) => d.resetAt!);
  const tokensOut = tokenResets.length ? Math.max(...tokenResets) : null;
  if (requestsOut === null && tokensOut === null) return { until: now + fallbackMs, limit: 'unknown' };
  const limit = tokensOut !== null && (requestsOut === null || tokensOut >= requestsOut) ? 'tokens' : 'requests';
  return { until: Math.max(now, requestsOut ?? 0, tokensOut ?? 0), limit };
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * cap);
}

/**
 * Retries may be at most `ratio` of requests (a token bucket: each request adds `ratio`, each
 * retry takes 1, capped at `burst`). During an incident the bucket drains and requests fail
 * fast with the upstream's answer instead of multiplying the load.
 */
export class RetryBudget {
  // Kept in thousandths so that ten deposits of 0.1 make exactly one retry (no float drift).
  private milli: number;
  private readonly ratio: () => number;
  constructor(ratio: number | (() => number), private readonly burst = 10) {
    this.ratio = typeof ratio === 'function' ? ratio : () => ratio;
    this.milli = burst * 1000;
  }
  onRequest(): void {
    this.milli = Math.min(this.burst * 1000, this.milli + Math.round(this.ratio() * 1000));
  }
  tryRetry(): boolean {
    if (this.milli < 1000) return false;
    this.milli -= 1000;
    return true;
  }
  get available(): number {
    return this.milli / 1000;
  }
}
