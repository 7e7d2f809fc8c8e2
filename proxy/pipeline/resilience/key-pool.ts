// A pool of keys for one provider. Two kinds of state per key, kept apart because the upstream
// keeps them apart:
// - Rate limits, per limit scope (docs/rate-limits.md): Anthropic meters each model class, and
//   within it requests, input tokens and output tokens, each with its own reset. A 429 rests the
//   key only for the scope (and limit kind) it exhausted, until that limit's reset; the key's
//   other scopes keep flowing.
// - Health (outlier ejection): a key whose attempts time out, reset or are abandoned while
//   waiting for headers is ejected for a growing interval and then probed one request at a
//   time. A key that has never answered never outranks one that is answering. Ejection only
//   reorders keys: when every key is ejected, the least bad one is still used (calling the
//   upstream directly would have, too), so health alone never refuses a request.
// Holds key ids and hints only in its snapshot; the key itself goes to the header.
import type { IncomingHttpHeaders } from 'node:http';
import { LIMIT_KINDS, parseScopeLimits, type LimitDimension, type LimitKind } from './policy.js';

export interface PoolKey {
  /** Keychain account or env name, e.g. `anthropic`, `anthropic:2`, `anthropic:env`. */
  id: string;
  key: string;
  hint: string;
}

/** A 429 that named no exhausted limit rests the whole scope under this kind. */
export type RestKind = LimitKind | 'unknown';

interface ScopeState {
  dims: Partial<Record<LimitKind, LimitDimension>>;
  /** Until when each exhausted limit rests this scope (ms epoch). */
  cooling: Partial<Record<RestKind, number>>;
  /** The last answer in this scope was a 429 (its cooldown may be over, but it proved nothing since). */
  limited: boolean;
  lastStatus: number | null;
}

interface Health {
  /** Last time this key got a response (any status). */
  lastAnswerAt: number;
  /** Last timeout, reset before headers, or abandoned wait for headers. */
  lastTroubleAt: number;
  /** Consecutive ejections (the interval doubles with each); 0 once the key answers. */
  ejections: number;
  ejectedUntil: number;
  probing: boolean;
  transportFailures: number;
}

interface KeyState {
  scopes: Map<string, ScopeState>;
  lastScope: string | null;
  inFlight: number;
  lastUsed: number;
  lastStatus: number | null;
  rateLimited: number;
  health: Health;
}

export interface ScopeSnapshot {
  scope: string;
  /** Each limit kind the upstream reported for this scope. */
  limits: Partial<Record<LimitKind, LimitDimension>>;
  /** Limits resting this scope now, with the time each admits requests again. */
  resting: Partial<Record<RestKind, number>>;
}

export interface KeySnapshot {
  id: string;
  hint: string;
  requestsRemaining: number | null;
  requestsLimit: number | null;
  tokensRemaining: number | null;
  tokensLimit: number | null;
  resetAt: number | null;
  /** The latest rest of any scope (see `scopes` for which). */
  coolingUntil: number | null;
  inFlight: number;
  lastStatus: number | null;
  rateLimited: number;
  scopes: ScopeSnapshot[];
  health: { state: 'answering' | 'unproven' | 'ejected' | 'probing'; ejectedUntil: number | null; ejections: number; transportFailures: number };
}

export interface EjectionOptions {
  baseMs: number;
  maxMs: number;
}

const DEFAULT_EJECTION: EjectionOptions = { baseMs: 1_000, maxMs: 60_000 };

function headroom(d: LimitDimension | undefined, now: number): number {
  if (!d || d.limit === null || d.remaining === null || d.limit <= 0) return 1;
  if (d.resetAt !== null && d.resetAt <= now) return 1; // the window has turned over
  return Math.max(0, Math.min(1, d.remaining / d.limit));
}

const emptyScope = (): ScopeState => ({ dims: {}, cooling: {}, limited: false, lastStatus: null });

type Rank = [number, number, number, number, number];
const better = (a: Rank, b: Rank | null) => {
  if (!b) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
};

export class KeyPool {
  private keys: PoolKey[] = [];
  private state = new Map<string, KeyState>();

  constructor(
    readonly provider: string,
    private readonly now: () => number,
    private readonly defaultCooldownMs = 30_000,
    private readonly ejection: () => EjectionOptions = () => DEFAULT_EJECTION,
  ) {}

  /** Replaces the key list (keychain reloaded); state of keys still present is kept. */
  setKeys(keys: PoolKey[]): void {
    this.keys = keys;
    for (const k of keys) {
      if (!this.state.has(k.id)) {
        this.state.set(k.id, {
          scopes: new Map(), lastScope: null, inFlight: 0, lastUsed: 0, lastStatus: null, rateLimited: 0,
          health: { lastAnswerAt: 0, lastTroubleAt: 0, ejections: 0, ejectedUntil: 0, probing: false, transportFailures: 0 },
        });
      }
    }
    for (const id of [...this.state.keys()]) if (!keys.some((k) => k.id === id)) this.state.delete(id);
  }

  get size(): number {
    return this.keys.length;
  }

  private restUntil(s: KeyState, scope: string, now: number): number {
    const sc = s.scopes.get(scope);
    let until = 0;
    if (sc) for (const t of Object.values(sc.cooling)) if (t! > now) until = Math.max(until, t!);
    return until;
  }

  /**
   * The best key not in `exclude` for a request in `scope`. Keys resting in that scope are
   * skipped (when every candidate rests, `waitMs` says until the first wakes). Among the rest:
   * a key whose last answer in this scope was a 429 last (its rest being over proves nothing),
   * answering keys before unproven ones, then most headroom in the scope's limits, fewest in flight, least recently used. Ejected
   * keys (and a key whose one probe is in flight) are used only when nothing else is left.
   */
  choose(exclude: ReadonlySet<string> = new Set(), scope = '*'): { key: PoolKey; waitMs: 0 } | { key: null; waitMs: number } | null {
    const now = this.now();
    const candidates = this.keys.filter((k) => !exclude.has(k.id));
    if (candidates.length === 0) return null;
    let best: PoolKey | null = null;
    let bestRank: Rank | null = null;
    let fallback: PoolKey | null = null;
    let fallbackAt = Infinity;
    let soonest = Infinity;
    for (const k of candidates) {
      const s = this.state.get(k.id)!;
      const rest = this.restUntil(s, scope, now);
      if (rest > now) {
        soonest = Math.min(soonest, rest);
        continue;
      }
      const h = s.health;
      if (h.ejectedUntil > now || h.probing) {
        // Least bad: the ejection that ends first, a probe in flight after that.
        const at = h.probing ? Math.max(h.ejectedUntil, now) + 1 : h.ejectedUntil;
        if (at < fallbackAt) { fallbackAt = at; fallback = k; }
        continue;
      }
      const answering = h.lastAnswerAt > 0 && h.lastAnswerAt > h.lastTroubleAt ? 1 : 0;
      const sc = s.scopes.get(scope);
      let room = 1;
      for (const kind of LIMIT_KINDS) room = Math.min(room, headroom(sc?.dims[kind], now));
      const rank: Rank = [sc?.limited ? 0 : 1, answering, room, -s.inFlight, -s.lastUsed];
      if (better(rank, bestRank)) { bestRank = rank; best = k; }
    }
    if (best) return { key: best, waitMs: 0 };
    if (fallback) return { key: fallback, waitMs: 0 };
    return { key: null, waitMs: Math.max(0, soonest - now) };
  }

  /** Which limits rest `scope` on every key now (for a refusal that names them). */
  restingKinds(scope: string): RestKind[] {
    const now = this.now();
    const out = new Set<RestKind>();
    for (const s of this.state.values()) {
      const sc = s.scopes.get(scope);
      if (!sc) continue;
      for (const [kind, t] of Object.entries(sc.cooling)) if (t! > now) out.add(kind as RestKind);
    }
    return [...out];
  }

  acquire(id: string): void {
    const s = this.state.get(id);
    if (!s) return;
    s.inFlight++;
    s.lastUsed = this.now();
    // A key back from an ejection takes one request at a time until it answers.
    if (s.health.ejections > 0) s.health.probing = true;
  }

  release(id: string): void {
    const s = this.state.get(id);
    if (!s) return;
    if (s.inFlight > 0) s.inFlight--;
    s.health.probing = false;
  }

  /**
   * Records what a response said about the key in `scope`: every limit it reported; a 429 rests
   * the scope for the limits it exhausted (all of them, as `unknown`, when it named none) until
   * their reset, or for `retry-after` when given. Any response proves the key healthy.
   */
  observe(id: string, status: number, headers: IncomingHttpHeaders, scope = '*'): { coolingUntil: number | null; limit: string | null } {
    const s = this.state.get(id);
    if (!s) return { coolingUntil: null, limit: null };
    const now = this.now();
    const h = s.health;
    h.lastAnswerAt = now;
    h.ejections = 0;
    h.ejectedUntil = 0;
    let sc = s.scopes.get(scope);
    if (!sc) { sc = emptyScope(); s.scopes.set(scope, sc); }
    s.lastScope = scope;
    const info = parseScopeLimits(headers, now);
    Object.assign(sc.dims, info.dims);
    s.lastStatus = status;
    sc.lastStatus = status;
    if (status !== 429) {
      if (status < 300) sc.limited = false;
      return { coolingUntil: null, limit: null };
    }
    s.rateLimited++;
    sc.limited = true;
    const exhausted = LIMIT_KINDS.filter((k) => info.dims[k]?.remaining === 0);
    const resetOf = (k: LimitKind) => info.dims[k]?.resetAt ?? null;
    let until: number;
    if (info.retryAfterMs !== null) until = now + info.retryAfterMs;
    else {
      const resets = exhausted.map(resetOf).filter((t): t is number => t !== null);
      until = resets.length ? Math.max(now, ...resets) : now + this.defaultCooldownMs;
    }
    const kinds: RestKind[] = exhausted.length ? exhausted : ['unknown'];
    for (const k of kinds) sc.cooling[k] = Math.max(sc.cooling[k] ?? 0, until);
    // The label the caller logs: the exhausted limit that resets last.
    let limit: 'requests' | 'tokens' | 'unknown' = 'unknown';
    if (exhausted.length) {
      if (info.retryAfterMs !== null) limit = exhausted.includes('requests') ? 'requests' : 'tokens';
      else {
        const latest = exhausted.reduce((a, b) => ((resetOf(b) ?? 0) >= (resetOf(a) ?? 0) ? b : a));
        limit = latest === 'requests' ? 'requests' : 'tokens';
      }
    }
    return { coolingUntil: this.restUntil(s, scope, now) || until, limit };
  }

  /**
   * The attempt failed in transport on this key (timeout before headers, reset, or the client
   * gave up while waiting for headers): the key is ejected for base × 2^(ejections) up to max.
   */
  transportFailure(id: string): void {
    const s = this.state.get(id);
    if (!s) return;
    const now = this.now();
    const h = s.health;
    const o = this.ejection();
    h.lastTroubleAt = now;
    h.transportFailures++;
    h.ejectedUntil = now + Math.min(o.maxMs, o.baseMs * 2 ** h.ejections);
    h.ejections++;
    h.probing = false;
  }

  /**
   * The client left while this key had not answered yet. No verdict on the key (a long answer
   * may be legitimate), but it no longer counts as answering until it answers again; a probe
   * that never answered counts as failed.
   */
  abandoned(id: string): void {
    const s = this.state.get(id);
    if (!s) return;
    if (s.health.ejections > 0) { this.transportFailure(id); return; }
    s.health.lastTroubleAt = this.now();
  }

  snapshot(): KeySnapshot[] {
    const now = this.now();
    return this.keys.map((k) => {
      const s = this.state.get(k.id)!;
      const last = s.lastScope ? s.scopes.get(s.lastScope)! : emptyScope();
      const tokens = last.dims.tokens ?? last.dims['input-tokens'] ?? null;
      let cooling = 0;
      const scopes: ScopeSnapshot[] = [];
      for (const [scope, sc] of s.scopes) {
        const resting: Partial<Record<RestKind, number>> = {};
        for (const [kind, t] of Object.entries(sc.cooling)) if (t! > now) { resting[kind as RestKind] = t!; cooling = Math.max(cooling, t!); }
        scopes.push({ scope, limits: { ...sc.dims }, resting });
      }
      const h = s.health;
      const state = h.probing ? 'probing' : h.ejectedUntil > now ? 'ejected' : h.lastAnswerAt > 0 && h.lastAnswerAt > h.lastTroubleAt ? 'answering' : 'unproven';
      return {
        id: k.id,
        hint: k.hint,
        requestsRemaining: last.dims.requests?.remaining ?? null,
        requestsLimit: last.dims.requests?.limit ?? null,
        tokensRemaining: tokens?.remaining ?? null,
        tokensLimit: tokens?.limit ?? null,
        resetAt: last.dims.requests?.resetAt ?? tokens?.resetAt ?? null,
        coolingUntil: cooling > now ? cooling : null,
        inFlight: s.inFlight,
        lastStatus: s.lastStatus,
        rateLimited: s.rateLimited,
        scopes,
        health: { state, ejectedUntil: h.ejectedUntil > now ? h.ejectedUntil : null, ejections: h.ejections, transportFailures: h.transportFailures },
      };
    });
  }
}
