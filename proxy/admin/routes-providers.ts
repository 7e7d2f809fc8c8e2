// GET /admin/api/providers: every provider in the registry with where its key comes from (OS
// keychain, environment variable, or missing: never the key, only its last 4 characters) and its
// models (configured ids plus the discovery cache `sluice models` and /v1/models fill, read from
// <dataDir>/models-cache.json; no upstream call on a page load). Must not import app/ or renderer/.
import { join } from 'node:path';
import type { Request, Response, Router } from 'express';
import { envVarFor } from '../store/secrets.js';
import { readFileIfExists } from '../store/atomic-file.js';
import type { ProviderKeyState, ProvidersResponse } from './api-types.js';
import type { AdminDeps } from './deps.js';

interface CacheEntry { baseUrl?: unknown; fetchedAt?: unknown; models?: unknown }

async function modelsCache(dataDir: string): Promise<Record<string, CacheEntry>> {
  try {
    const text = await readFileIfExists(join(dataDir, 'models-cache.json'));
    const o = text ? (JSON.parse(text) as unknown) : null;
    return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, CacheEntry>) : {};
  } catch {
    return {}; // a damaged cache is only a cache
  }
}

export async function providersView(deps: AdminDeps): Promise<ProvidersResponse> {
  const { internals } = deps;
  const cache = await modelsCache(internals.dataDir);
  const providers = await Promise.all(internals.providers.list().map(async (spec) => {
    let key: ProviderKeyState;
    if (spec.auth === 'none') key = { state: 'not-needed', keys: 0, hint: null };
    else {
      const pool = await internals.keys.pool(spec.name).catch(() => []);
      const first = pool.find((k) => k.source === 'keychain') ?? pool[0] ?? null;
      key = first ? { state: first.source, keys: pool.length, hint: first.hint } : { state: 'missing', keys: 0, hint: null };
    }
    const c = cache[spec.name];
    const fresh = c && c.baseUrl === spec.baseUrl.href && Array.isArray(c.models);
    const discovered = fresh ? (c.models as unknown[]).map((m) => (m && typeof m === 'object' ? (m as { id?: unknown }).id : null)).filter((id): id is string => typeof id === 'string') : [];
    const models = [...new Set([...spec.models, ...discovered])];
    return {
      name: spec.name,
      type: spec.type,
      wire: spec.wire,
      baseUrl: spec.baseUrl.href.replace(/\/$/, ''),
      auth: spec.auth,
      keyEnv: envVarFor(spec.name),
      key,
      models,
      configuredModels: spec.models.length,
      modelsFetchedAt: fresh && typeof c.fetchedAt === 'number' ? c.fetchedAt : null,
    };
  }));
  return { providers };
}

export function mountProviderRoutes(router: Router, deps: AdminDeps): void {
  router.get('/providers', async (_req: Request, res: Response) => {
    res.json(await providersView(deps));
  });
}
