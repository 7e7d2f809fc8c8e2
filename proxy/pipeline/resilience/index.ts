// The gateway's resilience state: one key pool per provider, one breaker per target, the global
// retry budget; and the targets for one request (first choice, then its fallback chain).
import type { SettingsStore } from '../../store/settings.js';
import type { ProviderKeys } from '../../store/secrets.js';
import type { Caller } from '../auth.js';
import type { Target } from '../upstream.js';
import { globMatch } from '../glob.js';
import { CircuitBreaker, type BreakerSnapshot, type BreakerState } from './breaker.js';
import { KeyPool, type KeySnapshot } from './key-pool.js';
import { RetryBudget } from './policy.js';
import { ProviderKeyMissingError } from '../../errors.js';
import type { AuthStyle, Wire } from '../../providers/kinds.js';

/** One link of a routed chain: a provider and the model to send there (null keeps the requested one). */
export interface ChainLink {
  provider: string;
  model: string | null;
}

export interface ResilienceSnapshot {
  breakers: BreakerSnapshot[];
  /** Per provider, each key's state; `hint` (last 4) only when asked for (admin API). */
  pools: Record<string, (Omit<KeySnapshot, 'hint'> & { hint?: string })[]>;
  retryBudget: number;
}

export interface Resilience {
  budget: RetryBudget;
  /**
   * Targets for a request in order; throws ProviderKeyMissingError when none has a key. With
   * `route` (a routing rule's target and fallbacks) that chain replaces the default one.
   */
  targetsFor(model: string | null, caller: Caller, route?: readonly ChainLink[]): Promise<Target[]>;
  snapshot(opts?: { hints?: boolean }): ResilienceSnapshot;
}

export function createResilience(opts: {
  settings: SettingsStore;
  keys: ProviderKeys;
  /** Base URL of a provider (env overrides for `anthropic`). */
  baseUrlOf: (provider: string) => URL;
  /** Wire format and auth style of a provider; default Anthropic with x-api-key. */
  kindOf?: (provider: string) => { wire: Wire; auth: AuthStyle } | null;
  now?: () => number;
  onBreakerChange?: (s: BreakerSnapshot, from: BreakerState) => void;
  /** A provider's key list was (re)loaded (the logger masks every key). */
  onKeys?: (keys: readonly { key: string }[]) => void;
}): Resilience {
  const now = opts.now ?? Date.now;
  const pools = new Map<string, KeyPool>();
  const seen = new Map<string, unknown>();
  const breakers = new Map<string, CircuitBreaker>();
  // The ratio is read on every deposit, so a settings change applies without a restart.
  const budget = new RetryBudget(() => opts.settings.get().resilience.retry.budgetRatio);
  // One breaker per (provider, model): an outage of one model never refuses another.
  const breakerFor = (name: string, model: string | null) => {
    const id = `${name}\u0000${model ?? ''}`;
    let b = breakers.get(id);
    if (!b) {
      b = new CircuitBreaker(name, () => opts.settings.get().resilience.breaker, now, opts.onBreakerChange, model);
      breakers.set(id, b);
    }
    return b;
  };
  const poolFor = async (provider: string): Promise<KeyPool> => {
    let p = pools.get(provider);
    if (!p) {
      p = new KeyPool(provider, now, 30_000, () => opts.settings.get().resilience.ejection);
      pools.set(provider, p);
    }
    const list = await opts.keys.pool(provider);
    // The key list is cached upstream; rebuild the pool's view only when it changed.
    if (seen.get(provider) !== list) {
      p.setKeys(list.map((k) => ({ id: k.id, key: k.key, hint: k.hint })));
      seen.set(provider, list);
      opts.onKeys?.(list);
    }
    return p;
  };

  return {
    budget,
    async targetsFor(model, caller, route) {
      const s = opts.settings.get();
      const first = (provider: string, sendModel: string | null = null): Omit<Target, 'pool'> => {
        const kind = opts.kindOf?.(provider) ?? null;
        return {
          name: provider, baseUrl: opts.baseUrlOf(provider), breaker: breakerFor(provider, sendModel ?? model), model: null, fallback: false,
          ...(kind ? { wire: kind.wire, auth: kind.auth } : {}),
        };
      };
      if (caller.kind === 'passthrough' && !route) {
        // The client's own credential is valid only for the first-party API it came for.
        return [{ ...first('anthropic'), pool: null }];
      }
      const chain: { provider: string; model: string | null; fallback: boolean }[] = route
        ? route.map((l, i) => ({ provider: l.provider, model: l.model, fallback: i > 0 }))
        : [{ provider: 'anthropic', model: null, fallback: false }];
      if (!route) {
        const fb = s.resilience.fallbacks.find((f) => globMatch(f.models, model ?? ''));
        for (const t of fb?.to ?? []) chain.push({ provider: t.provider, model: t.model ?? null, fallback: true });
      }
      const targets: Target[] = [];
      for (const c of chain) {
        if (!s.providers[c.provider]) continue;
        const base = { ...first(c.provider, c.model), model: c.model, fallback: c.fallback };
        // A routed passthrough caller keeps its own credential on the first-party API; other
        // providers need their own key (or none, for a local server).
        if (base.auth === 'none' || (caller.kind === 'passthrough' && c.provider === 'anthropic')) {
          targets.push({ ...base, pool: null });
          continue;
        }
        const pool = await poolFor(c.provider);
        if (pool.size === 0) continue;
        targets.push({ ...base, pool });
      }
      if (targets.length === 0) throw new ProviderKeyMissingError(route?.[0]?.provider ?? 'anthropic');
      return targets;
    },
    snapshot(o = {}) {
      const out: ResilienceSnapshot['pools'] = {};
      for (const [name, p] of pools) {
        out[name] = p.snapshot().map((k) => {
          if (o.hints) return k;
          const { hint: _hint, ...rest } = k;
          return rest;
        });
      }
      return { breakers: [...breakers.values()].map((b) => { b.current(); return b.snapshot(); }), pools: out, retryBudget: Math.floor(budget.available * 100) / 100 };
    },
  };
}
