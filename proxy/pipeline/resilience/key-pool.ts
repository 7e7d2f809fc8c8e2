// A pool of keys for one provider: picks the key with the most headroom (from the rate-limit
// headers of its last responses), rests a key after a 429 until its limit resets, and shows
// its state. Holds key ids and hints only in its snapshot; the key itself goes to the header.
import type { IncomingHttpHeaders } from 'node:http';
import { cooldownUntil, parseRateLimitHeaders, type LimitDimension } from './policy.js';

export interface PoolKey {
  /** Keychain account or env name, e.g. `anthropic`, `anthropic:2`, `anthropic:env`. */
  id: string;
  key: string;
  hint: string;
}

interface KeyState {
  requests: LimitDimension;
  tokens: LimitDimension;
  coolingUntil: number;
  inFlight: number;
  lastUsed: number;
  lastStatus: number | null;
  rateLimited: number;
}

export interface KeySnapshot {
  id: string;
  hint: string;
  requestsRemaining: number | null;
  requestsLimit: number | null;
  tokensRemaining: number | null;
  tokensLimit: number | null;
  resetAt: number | null;
  coolingUntil: number | null;
  inFlight: number;
  lastStatus: number | null;
  rateLimited: number;
}

const EMPTY = (): LimitDimension => ({ limit: null, remaining: null, resetAt: null });

function headroom(d: LimitDimension, now: number): number {
  if (d.limit === null || d.remaining === null || d.limit <= 0) return 1;
  if (d.resetAt !== null && d.resetAt <= now) return 1; // the window has turned over
  return Math.max(0, Math.min(1, d.remaining / d.limit));
}

export class KeyPool {
  private keys: PoolKey[] = [];
  private state = new Map<string, KeyState>();

  constructor(readonly provider: string, private readonly now: () => number, private readonly defaultCooldownMs = 30_000) {}

  /** Replaces the key list (keychain reloaded); state of keys still present is kept. */
  setKeys(keys: PoolKey[]): void {
    this.keys = keys;
    for (const k of keys) {
      if (!this.state.has(k.id)) {
        this.state.set(k.id, { requests: EMPTY(), tokens: EMPTY(), coolingUntil: 0, inFlight: 0, lastUsed: 0, lastStatus: null, rateLimited: 0 });
      }
    }
    for (const id of [...this.state.keys()]) if (!keys.some((k) => k.id === id)) this.state.delete(id);
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The best key not in `exclude`: not resting, most headroom (requests and tokens), fewest in
   * flight, least recently used. When every candidate rests, `waitMs` says until the first wakes.
   */
  choose(exclude: ReadonlySet<string> = new Set()): { key: PoolKey; waitMs: 0 } | { key: null; waitMs: number } | null {
    const now = this.now();
    const candidates = this.keys.filter((k) => !exclude.has(k.id));
    if (candidates.length === 0) return null;
    let best: PoolKey | null = null;
    let bestRank: [number, number, number] | null = null;
    let soonest = Infinity;
    for (const k of candidates) {
      const s = this.state.get(k.id)!;
      if (s.coolingUntil > now) {
        soonest = Math.min(soonest, s.coolingUntil);
        continue;
      }
      // Headroom first; among equals fewer in flight; then the one rested longest.
      const rank: [number, number, number] = [Math.min(headroom(s.requests, now), headroom(s.tokens, now)), -s.inFlight, -s.lastUsed];
      if (bestRank === null || rank[0] > bestRank[0] || (rank[0] === bestRank[0] && (rank[1] > bestRank[1] || (rank[1] === bestRank[1] && rank[2] > bestRank[2])))) {
        bestRank = rank;
        best = k;
      }
    }
    if (best) return { key: best, waitMs: 0 };
    return { key: null, waitMs: Math.max(0, soonest - now) };
  }

  acquire(id: string): void {
    const s = this.state.get(id);
    if (!s) return;
    s.inFlight++;
    s.lastUsed = this.now();
  }

  release(id: string): void {
    const s = this.state.get(id);
    if (s && s.inFlight > 0) s.inFlight--;
  }

  /** Records what a response said about the key; a 429 rests it until its limit resets. */
  observe(id: string, status: number, headers: IncomingHttpHeaders): { coolingUntil: number | null; limit: string | null } {
    const s = this.state.get(id);
    if (!s) return { coolingUntil: null, limit: null };
    const now = this.now();
    const info = parseRateLimitHeaders(headers, now);
    if (info.requests.limit !== null || info.requests.remaining !== null) s.requests = info.requests;
    const tokens = info.tokens.limit !== null ? info.tokens : info.inputTokens.limit !== null ? info.inputTokens : null;
    if (tokens) s.tokens = tokens;
    s.lastStatus = status;
    if (status !== 429) return { coolingUntil: null, limit: null };
    s.rateLimited++;
    const c = cooldownUntil(info, now, this.defaultCooldownMs);
    s.coolingUntil = Math.max(s.coolingUntil, c.until);
    return { coolingUntil: s.coolingUntil, limit: c.limit };
  }

  snapshot(): KeySnapshot[] {
    const now = this.now();
    return this.keys.map((k) => {
      const s = this.state.get(k.id)!;
      return {
        id: k.id,
        hint: k.hint,
        requestsRemaining: s.requests.remaining,
        requestsLimit: s.requests.limit,
        tokensRemaining: s.tokens.remaining,
        tokensLimit: s.tokens.limit,
        resetAt: s.requests.resetAt ?? s.tokens.resetAt,
        coolingUntil: s.coolingUntil > now ? s.coolingUntil : null,
        inFlight: s.inFlight,
        lastStatus: s.lastStatus,
        rateLimited: s.rateLimited,
      };
    });
  }
}
