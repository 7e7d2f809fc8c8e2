// Model discovery: asks each provider's models endpoint (Anthropic's or OpenAI's list shape),
// merges the answer with the configured ids, and caches it in memory and in
// `<dataDir>/models-cache.json` so a restart or a slow provider never delays a client's
// /v1/models. Takes its dispatcher, keys, clock and paths as arguments; no singletons.
import { request, type Dispatcher } from 'undici';
import { readFileIfExists, writeFileAtomic } from '../store/atomic-file.js';
import type { ProviderKeys } from '../store/secrets.js';
import type { ProviderRegistry, ProviderSpec } from './registry.js';

export interface ProviderModel {
  id: string;
  /** Seconds since the epoch, when the provider says. */
  created: number | null;
  displayName: string | null;
  ownedBy: string | null;
}

export interface ProviderModels {
  provider: string;
  models: ProviderModel[];
  /** ms epoch of the last successful discovery; null when only configured ids are known. */
  fetchedAt: number | null;
  /** Why the last discovery failed (never contains a key). */
  error: string | null;
}

export interface ModelCatalog {
  /** One provider's models: configured ids plus the cached or freshly discovered list. Never throws. */
  forProvider(spec: ProviderSpec, opts?: { refresh?: boolean }): Promise<ProviderModels>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Both list shapes: Anthropic `{data:[{id,display_name,created_at}]}`, OpenAI `{data:[{id,created,owned_by}]}`. */
export function parseModelList(body: unknown): { models: ProviderModel[]; lastId: string | null; hasMore: boolean } {
  if (!isRecord(body) || !Array.isArray(body.data)) throw new Error('the models endpoint did not return a `data` list');
  const models: ProviderModel[] = [];
  for (const m of body.data) {
    if (!isRecord(m) || typeof m.id !== 'string' || m.id === '') continue;
    let created: number | null = typeof m.created === 'number' ? m.created : null;
    if (created === null && typeof m.created_at === 'string') {
      const t = Date.parse(m.created_at);
      created = Number.isNaN(t) ? null : Math.floor(t / 1000);
    }
    models.push({
      id: m.id,
      created,
      displayName: typeof m.display_name === 'string' ? m.display_name : null,
      ownedBy: typeof m.owned_by === 'string' ? m.owned_by : null,
    });
  }
  return { models, lastId: typeof body.last_id === 'string' ? body.last_id : null, hasMore: body.has_more === true };
}

interface CacheEntry { baseUrl: string; fetchedAt: number; models: ProviderModel[] }

export function createModelCatalog(opts: {
  registry: ProviderRegistry;
  keys: ProviderKeys;
  dispatcher: Dispatcher;
  now?: () => number;
  /** How long a discovered list is reused. */
  ttlMs: () => number;
  /** Where the cache survives restarts; null keeps it in memory only. */
  cacheFile: string | null;
  timeoutMs?: number;
}): ModelCatalog {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 2500;
  const cache = new Map<string, CacheEntry>();
  const errors = new Map<string, string>();
  const inflight = new Map<string, Promise<void>>();
  let loaded: Promise<void> | null = null;

  const load = () => {
    loaded ??= (async () => {
      if (!opts.cacheFile) return;
      const text = await readFileIfExists(opts.cacheFile);
      if (text === null) return;
      try {
        const o = JSON.parse(text) as Record<string, CacheEntry>;
        for (const [k, v] of Object.entries(o)) if (isRecord(v) && Array.isArray(v.models)) cache.set(k, v);
      } catch {
        // A damaged cache is only a cache: discovery rebuilds it.
      }
    })();
    return loaded;
  };
  const save = async () => {
    if (!opts.cacheFile) return;
    await writeFileAtomic(opts.cacheFile, `${JSON.stringify(Object.fromEntries(cache), null, 1)}\n`, { backup: false, mode: 0o600 });
  };

  const discover = async (spec: ProviderSpec): Promise<void> => {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    if (spec.auth !== 'none') {
      const key = (await opts.keys.pool(spec.name))[0];
      if (!key) throw new Error(`no key for provider "${spec.name}"`);
      if (spec.auth === 'bearer') headers.authorization = `Bearer ${key.key}`;
      else headers['x-api-key'] = key.key;
    }
    if (spec.wire === 'anthropic') headers['anthropic-version'] = '2023-06-01';
    const path = opts.registry.pathOf(spec, 'models')!;
    const base = spec.baseUrl.href.replace(/\/$/, '');
    const models: ProviderModel[] = [];
    let after: string | null = null;
    // Anthropic pages (limit <= 1000); OpenAI-format lists come whole. Ten pages is far beyond any catalogue.
    for (let page = 0; page < 10; page++) {
      const q = spec.wire === 'anthropic' ? `?limit=1000${after ? `&after_id=${encodeURIComponent(after)}` : ''}` : '';
      const res = await request(`${base}${path}${q}`, { method: 'GET', headers, dispatcher: opts.dispatcher, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`the models endpoint answered ${res.statusCode}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error('the models endpoint did not return JSON');
      }
      const r = parseModelList(body);
      models.push(...r.models);
      if (spec.wire !== 'anthropic' || !r.hasMore || !r.lastId) break;
      after = r.lastId;
    }
    cache.set(spec.name, { baseUrl: spec.baseUrl.href, fetchedAt: now(), models });
    errors.delete(spec.name);
    await save();
  };

  return {
    async forProvider(spec, o = {}) {
      await load();
      let entry = cache.get(spec.name);
      if (entry && entry.baseUrl !== spec.baseUrl.href) entry = undefined;
      const stale = !entry || o.refresh === true || now() - entry.fetchedAt > opts.ttlMs();
      if (spec.discoverModels && stale) {
        let p = inflight.get(spec.name);
        if (!p) {
          p = discover(spec).catch((err: unknown) => {
            errors.set(spec.name, String((err as Error).message ?? err).slice(0, 300));
          }).finally(() => inflight.delete(spec.name));
          inflight.set(spec.name, p);
        }
        await p;
        entry = cache.get(spec.name);
        if (entry && entry.baseUrl !== spec.baseUrl.href) entry = undefined;
      }
      const seen = new Set<string>();
      const models: ProviderModel[] = [];
      for (const id of spec.models) {
        if (!seen.has(id)) { seen.add(id); models.push({ id, created: null, displayName: null, ownedBy: null }); }
      }
      for (const m of entry?.models ?? []) {
        if (!seen.has(m.id)) { seen.add(m.id); models.push(m); }
      }
      return { provider: spec.name, models, fetchedAt: entry?.fetchedAt ?? null, error: spec.discoverModels ? errors.get(spec.name) ?? null : null };
    },
  };
}
