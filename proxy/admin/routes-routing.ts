// Admin routes for routing: the ordered rules, the providers they may name (never a key), the
// resilience fallbacks and live breaker/pool state, and the per-arm A/B comparison from the ledger.
// Must not import app/ or renderer/; rules are validated by the settings schema itself.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { anthropicBaseUrl } from '../gateway.js';
import type { ResilienceSnapshot } from '../pipeline/resilience/index.js';
import { abReportFromLedger, RoutingSettingsSchema } from '../routing/index.js';
import { envVarFor } from '../store/secrets.js';
import { SettingsError, type Settings } from '../store/settings.js';
import { PROVIDER_KINDS } from '../providers/kinds.js';
import type { AbReport, ProviderView, RoutingView } from './api-types.js';
import { requireLedger, type AdminDeps } from './deps.js';
import { dateBound, parseBody, parseQuery } from './validate.js';

// Shape only: each rule is then parsed by the routing schema inside settings.update, so the
// cross-checks (known providers, one kind of target, unique names) run exactly as for the file.
const rulesBody = z.object({ rules: z.array(z.unknown()).max(500) }).strict();

const abQuery = z.object({
  rule: z.string().min(1).max(64).optional(),
  since: dateBound.optional(),
}).strict();

/** The live breaker and pool state, when the gateway's health() carries it (it is typed loosely there). */
function resilienceOf(health: Record<string, unknown>): ResilienceSnapshot | null {
  const r = health.resilience as Partial<ResilienceSnapshot> | undefined;
  if (!r || !Array.isArray(r.breakers) || typeof r.pools !== 'object' || r.pools === null) return null;
  return r as ResilienceSnapshot;
}

async function hasKey(deps: AdminDeps, provider: string): Promise<boolean | null> {
  try {
    return (await deps.internals.keys.resolve(provider)) !== null;
  } catch {
    // An unreachable keychain says nothing about whether a key exists.
    return null;
  }
}

export async function routingView(deps: AdminDeps): Promise<RoutingView> {
  const { internals } = deps;
  const s: Settings = internals.settings.get();
  const res = resilienceOf(internals.health());
  const providers: ProviderView[] = await Promise.all(Object.entries(s.providers).map(async ([name, p]) => {
    const breaker = res?.breakers.find((b) => b.target === name) ?? null;
    const pool = res?.pools[name];
    return {
      name,
      type: p.type,
      // The env override wins for the first-party provider, so show where requests really go.
      baseUrl: name === 'anthropic' ? anthropicBaseUrl(internals.settings, internals.env).href.replace(/\/$/, '') : p.baseUrl,
      auth: p.auth ?? PROVIDER_KINDS[p.type].defaultAuth,
      keyEnv: envVarFor(name),
      hasKey: p.auth === 'none' ? null : await hasKey(deps, name),
      models: [...p.models],
      breaker: breaker?.state ?? null,
      pool: pool ? { keys: pool.length, resting: pool.filter((k) => k.coolingUntil !== null || k.rateLimited).length } : null,
    };
  }));
  return {
    rules: s.routing.rules,
    backgroundModels: s.routing.backgroundModels,
    longContextTokens: s.routing.longContextTokens,
    providers,
    fallbacks: s.resilience.fallbacks.map((f) => ({ models: f.models, to: f.to.map((t) => ({ ...t })) })),
    resilience: res ? { breakers: res.breakers, retryBudget: res.retryBudget } : null,
  };
}

export function mountRoutingRoutes(router: Router, deps: AdminDeps): void {
  const { internals } = deps;

  router.get('/routing', async (_req: Request, res: Response) => {
    res.json(await routingView(deps));
  });

  router.put('/routing/rules', async (req: Request, res: Response) => {
    const { rules } = parseBody(rulesBody, req.body);
    // Parse here first so a field error names the rule's index the way the page shows it.
    const parsed = RoutingSettingsSchema.shape.rules.safeParse(rules);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `routing.rules.${i.path.join('.')}: ${i.message}`);
      throw new InvalidRequestError(`Invalid settings: ${problems.join('; ')}.`);
    }
    try {
      await internals.settings.update((s) => { s.routing.rules = parsed.data; });
    } catch (err) {
      if (err instanceof SettingsError) throw new InvalidRequestError(`Invalid settings: ${err.problems.join('; ')}.`);
      throw err;
    }
    res.json(await routingView(deps));
  });

  router.get('/routing/ab', (req: Request, res: Response) => {
    const q = parseQuery(abQuery, req.originalUrl);
    const body: AbReport = abReportFromLedger(requireLedger(deps), {
      ...(q.rule !== undefined ? { rule: q.rule } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
    });
    res.json(body);
  });
}
