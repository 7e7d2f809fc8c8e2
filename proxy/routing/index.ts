// The routing facade the gateway calls: route decisions for a request, the per-target planner,
// and the merged /v1/models answer. Plain data in (settings, headers, body), no express objects;
// must not import gateway.ts.
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../pipeline/auth.js';
import { readField, scanTopLevel } from '../json-scan.js';
import { sessionIdFrom } from '../meter/attribution.js';
import type { TargetRequest, Target } from '../pipeline/upstream.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ModelCatalog } from '../providers/models.js';
import { decideRoute, type RouteDecision } from './rules.js';
import { classify, compileClassifierConfig, extractFeatures, type ClassifierConfig, type SmartSettings } from '../smart/index.js';
import type { RoutingSettings } from './schema.js';
import { createTargetPlanner, type ClientRequest } from './plan.js';
import {
  anthropicModel, catalogShapeFor, catalogueActive, extraEntries, isClaudeCode, listBody, modelsMergeWrapper, openaiModel,
  type CatalogEntry, type CatalogShape,
} from './catalog.js';

export { decideRoute, pickArm, stickyPoint, cascadeStepName, CLAUDE_CODE_PREFIX, type RouteDecision, type RequestFacts, type SmartDecision } from './rules.js';
export { smartReport, topModelOfRoute, type SmartReport } from './smart-report.js';
export { RoutingSettingsSchema, routingProblems, type RoutingSettings, type RouteRule } from './schema.js';
export { abReport, abReportFromLedger, type ArmStats, type AbReport } from './ab-report.js';
export { createTargetPlanner, type ClientRequest } from './plan.js';

/** Paths whose requests routing rules apply to. count_tokens stays first-party (see README). */
export const ROUTED_PATHS = new Set(['/v1/messages', '/v1/chat/completions']);

export interface DecideInput {
  pathname: string;
  model: string | null;
  caller: Caller;
  headers: IncomingHttpHeaders;
  body: Buffer | null;
  metadataUserId: string | null;
  requestId: string;
}

/** What to do with a models request: answer here, or forward with a merging translator. */
export type ModelsPlan =
  | { kind: 'local'; status: number; body: string }
  | { kind: 'merge'; forTarget: (t: Target) => TargetRequest; fallback: string };

export interface Router {
  decide(input: DecideInput): RouteDecision | null;
  planner(req: ClientRequest): (t: Target) => TargetRequest;
  /** null: pass the models request through unchanged (no extra providers or aliases, Anthropic-shaped client). */
  modelsPlan(input: { pathname: string; url: string; headers: IncomingHttpHeaders; rawHeaders: readonly string[] }): Promise<ModelsPlan | null>;
  /** Every extra model id (for `sluice models` and the admin API). */
  extras(forClaudeCode: boolean): Promise<CatalogEntry[]>;
}

function thinkingOn(body: Buffer | null): boolean {
  if (!body) return false;
  try {
    const t = readField(body, scanTopLevel(body), 'thinking') as { type?: unknown } | undefined;
    return t !== undefined && t !== null && (t.type === 'enabled' || t.type === 'adaptive');
  } catch {
    return false;
  }
}

export function createRouter(opts: {
  providers: () => Readonly<Record<string, unknown>>;
  routing: () => RoutingSettings;
  registry: ProviderRegistry;
  catalog: ModelCatalog;
}): Router {
  // Regexes compiled once per smart section (a settings reload replaces the object).
  const compiled = new WeakMap<SmartSettings, ClassifierConfig>();
  const classifierFor = (smart: SmartSettings): ClassifierConfig => {
    let c = compiled.get(smart);
    if (!c) { c = compileClassifierConfig(smart); compiled.set(smart, c); }
    return c;
  };
  const extras = async (forClaudeCode: boolean) => {
    const specs = opts.registry.list().filter((s) => s.name !== 'anthropic');
    const lists = await Promise.all(specs.map((s) => opts.catalog.forProvider(s)));
    return extraEntries(lists, opts.routing(), forClaudeCode);
  };
  return {
    extras,
    decide(input) {
      const routing = opts.routing();
      const providers = opts.providers();
      // The hot path: no rules and no other provider means no decision to make.
      if (routing.rules.length === 0 && Object.keys(providers).length <= 1) return null;
      if (!ROUTED_PATHS.has(input.pathname) || !input.body) return null;
      const session = sessionIdFrom(input.headers, input.metadataUserId ?? undefined).sessionId;
      const agent = input.headers['x-claude-code-agent-id'];
      return decideRoute(routing, providers, {
        model: input.model,
        tool: input.caller.kind === 'token' ? input.caller.token.name : null,
        subagent: typeof agent === 'string' && agent !== '',
        bodyBytes: input.body.length,
        thinking: () => thinkingOn(input.body),
        stickyKey: session ?? (input.caller.kind === 'token' ? `token:${input.caller.token.id}` : null),
        // The top-level scan is cheap (no content parsed); only the last user turn is decoded.
        classify: () => classify(extractFeatures(input.body!, scanTopLevel(input.body!)), classifierFor(routing.smart)),
      }, input.requestId);
    },
    planner: (req) => createTargetPlanner(opts.registry, req),
    async modelsPlan(input) {
      const shape: CatalogShape = catalogShapeFor(input.headers);
      const active = catalogueActive(opts.providers(), opts.routing());
      if (!active && shape === 'anthropic') return null;
      const list = active ? await extras(isClaudeCode(input.headers)) : [];
      const one = /^\/v1\/models\/(.+)$/.exec(input.pathname);
      if (one) {
        const id = decodeURIComponent(one[1]!);
        const e = list.find((x) => x.id === id);
        if (e) return { kind: 'local', status: 200, body: JSON.stringify(shape === 'openai' ? openaiModel(e) : anthropicModel(e)) };
        if (shape === 'anthropic') return null;
      }
      // Anthropic's page comes back uncompressed so it can be merged.
      const rawHeaders: string[] = [];
      for (let i = 0; i < input.rawHeaders.length; i += 2) {
        if (input.rawHeaders[i]!.toLowerCase() !== 'accept-encoding') rawHeaders.push(input.rawHeaders[i]!, input.rawHeaders[i + 1]!);
      }
      if (!rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'anthropic-version')) rawHeaders.push('anthropic-version', '2023-06-01');
      const wrap = one ? undefined : modelsMergeWrapper(list, shape);
      return {
        kind: 'merge',
        forTarget: () => ({ path: input.url, body: null, rawHeaders, ...(wrap ? { wrap } : one ? { wrap: singleModelWrapper(shape) } : {}) }),
        fallback: listBody(list, shape),
      };
    },
  };
}

/** One Anthropic model object (`/v1/models/{id}`) in OpenAI's shape for a chat client. */
function singleModelWrapper(shape: CatalogShape): NonNullable<TargetRequest['wrap']> {
  return (out, meter) => {
    let status = 0;
    let headers: Record<string, string | string[]> = {};
    const held: Buffer[] = [];
    return {
      hooks: meter,
      sink: {
        start(s, h) { status = s; headers = h; },
        write(c) { held.push(c); return true; },
        onDrain: (r) => out.onDrain(r),
        fail: (e) => out.fail(e),
        end() {
          const text = Buffer.concat(held).toString('utf8');
          let body = text;
          if (status === 200 && shape === 'openai') {
            try {
              const m = JSON.parse(text) as Record<string, unknown>;
              const t = typeof m.created_at === 'string' ? Date.parse(m.created_at) : NaN;
              body = JSON.stringify(openaiModel({ id: String(m.id), displayName: '', created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), ownedBy: 'anthropic' }));
            } catch {
              body = text;
            }
          }
          const b = Buffer.from(body);
          const h: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(headers)) if (k !== 'content-length' && k !== 'content-encoding') h[k] = v;
          h['content-length'] = String(b.length);
          out.start(status, h);
          out.write(b);
          out.end();
        },
      },
    };
  };
}
