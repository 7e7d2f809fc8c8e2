// Cache candidates: prompt prefixes that repeat across requests within 5 minutes / 1 hour
// without a cache read, and what `cache_control` breakpoints there would save at the price
// sheet. Holds hashes, sizes, counts and names only (never text), in memory, pruned after an
// hour. Pure over an injected clock and price function.

import type { PrefixPoint } from './prefixes.js';
import type { CacheCandidate } from './types.js';

export type { CacheCandidate } from './types.js';

export interface Sighting {
  ts: number;
  tool: string;
  session: string | null;
  model: string | null;
  points: PrefixPoint[];
  /** The request read from the prompt cache (then its prefix is already cached). */
  cacheRead: boolean;
}


/** USD for `tokens` input tokens of `model` as: plain input, a cache read, a 5-minute cache write. */
export type PrefixPrices = (model: string | null, tokens: number) => { input: number; read: number; write5m: number } | null;

interface Entry {
  tool: string;
  session: string | null;
  model: string | null;
  position: string;
  bytes: number;
  /** When each request carrying this prefix was seen. */
  seen: number[];
  /** Timestamps of repeats (a sighting within 1 h of the previous one) that read no cache. */
  uncached: number[];
}

const HOUR = 3_600_000;
const FIVE_MIN = 300_000;
const MAX_ENTRIES = 20_000;

export function createCacheCandidates(now: () => number = Date.now) {
  const entries = new Map<string, Entry>();
  const prune = (t: number) => {
    for (const [k, e] of entries) {
      while (e.seen.length && e.seen[0]! < t - HOUR) e.seen.shift();
      while (e.uncached.length && e.uncached[0]! < t - HOUR) e.uncached.shift();
      if (e.seen.length === 0) entries.delete(k);
    }
  };
  let lastPrune = 0;
  return {
    observe(s: Sighting): void {
      if (s.ts - lastPrune > 60_000 || entries.size > MAX_ENTRIES) { prune(s.ts); lastPrune = s.ts; }
      for (const p of s.points) {
        const key = `${s.tool}\0${p.hash}`;
        let e = entries.get(key);
        if (!e) {
          if (entries.size >= MAX_ENTRIES) continue;
          e = { tool: s.tool, session: s.session, model: s.model, position: p.position, bytes: p.bytes, seen: [], uncached: [] };
          entries.set(key, e);
        }
        const prev = e.seen.at(-1);
        if (prev !== undefined && s.ts - prev <= HOUR && !s.cacheRead) e.uncached.push(s.ts);
        e.seen.push(s.ts);
        if (s.model) e.model = s.model;
        if (e.session !== s.session) e.session = null; // across sessions: the tool's own prefix
      }
    },
    /** Top candidates by savings, the longest prefix of each repeated chain first on ties. */
    list(prices: PrefixPrices, limit = 20): CacheCandidate[] {
      const t = now();
      prune(t);
      const out: CacheCandidate[] = [];
      for (const [k, e] of entries) {
        const repeats1h = e.uncached.length;
        if (repeats1h === 0) continue;
        const repeats5m = e.uncached.filter((x) => x >= t - FIVE_MIN).length;
        const tokens = Math.round(e.bytes / 4);
        const p = prices(e.model, tokens);
        const savingsUsd = p === null ? null : Math.max(0, repeats1h * (p.input - p.read) - (p.write5m - p.input));
        out.push({ tool: e.tool, session: e.session, model: e.model, position: e.position, hash: k.split('\0')[1]!, tokens, repeats5m, repeats1h, savingsUsd });
      }
      out.sort((a, b) => (b.savingsUsd ?? -1) - (a.savingsUsd ?? -1) || b.tokens - a.tokens);
      // A longer prefix repeated as often as a shorter one subsumes it: keep the longest per tool and count.
      const kept: CacheCandidate[] = [];
      for (const c of out) {
        if (kept.some((k) => k.tool === c.tool && k.repeats1h === c.repeats1h && k.tokens >= c.tokens)) continue;
        kept.push(c);
        if (kept.length >= limit) break;
      }
      return kept;
    },
  };
}
