// Stage 3, route: what the request is (the three fields the gateway reads from the body, in one
// scan without a parse) and where it goes: Sluice's own answer (local model ids), or the
// ordered targets with the per-target request. Plain data in and out; no express, no sockets.
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidRequestError, ProviderKeyMissingError } from '../errors.js';
import { JsonScanError, readField, scanTopLevel } from '../json-scan.js';
import type { Caller } from './auth.js';
import type { Target, TargetRequest } from './upstream.js';
import type { MessagesInfo, ProxyRequest } from './types.js';
import { cascadeStepName, type RouteDecision, type Router } from '../routing/index.js';

const MESSAGES_PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);
/** The OpenAI-compatible surface: chat clients (OpenAI SDKs, Cline, Continue) post here. */
export const CHAT_PATH = '/v1/chat/completions';

const NO_INFO: MessagesInfo = Object.freeze({ model: null, stream: false, metadataUserId: null }) as MessagesInfo;

export function readMessagesInfo(body: Buffer): MessagesInfo {
  let fields;
  try {
    fields = scanTopLevel(body);
  } catch (err) {
    if (err instanceof JsonScanError) throw new InvalidRequestError(`Request body is not a valid JSON object: ${err.message}.`);
    throw err;
  }
  try {
    const model = readField(body, fields, 'model');
    const stream = readField(body, fields, 'stream');
    const metadata = readField(body, fields, 'metadata') as { user_id?: unknown } | undefined;
    return {
      model: typeof model === 'string' ? model : null,
      stream: stream === true,
      metadataUserId: metadata && typeof metadata === 'object' && typeof metadata.user_id === 'string' ? metadata.user_id : null,
    };
  } catch (err) {
    if (err instanceof JsonScanError) throw new InvalidRequestError(`Request body has ${err.message}.`);
    throw err;
  }
}

/**
 * The request's model, stream flag and metadata user id: read from an uncompressed Messages or
 * chat body, nothing for any other request. Refuses a chat request that is not a JSON POST.
 */
export function readRequestInfo(method: string, pathname: string, headers: IncomingHttpHeaders, body: Buffer | null): MessagesInfo {
  const chat = pathname === CHAT_PATH;
  if (chat && (method !== 'POST' || !body || headers['content-encoding'])) {
    throw new InvalidRequestError(`${CHAT_PATH} takes a POST with an uncompressed JSON chat completion request.`);
  }
  let info = NO_INFO;
  if (body && method === 'POST' && (chat || MESSAGES_PATHS.has(pathname)) && !headers['content-encoding']) info = readMessagesInfo(body);
  if (chat && info.model === null) throw new InvalidRequestError('model: a string is required.');
  return info;
}

/**
 * The tier a target serves under a smart route: the classified tier (whichever target of its
 * chain serves), `step-N` for a cascade step, null for a cascade rule's plain fallback.
 */
export function tierOf(route: RouteDecision, t: Target): string | null {
  const smart = route.smart;
  if (!smart) return null;
  if (smart.kind === 'tiers') return smart.tier;
  const i = smart.cascade.tiers.findIndex((s) => s.provider === t.name && s.model === t.model);
  return i === -1 ? null : cascadeStepName(i);
}

export type RoutePlan =
  /** Answered by Sluice itself (its own model ids), unmetered. */
  | { kind: 'local'; status: number; body: string }
  | {
    kind: 'upstream';
    targets: Target[];
    /** Per-target request when it differs from the client's (routing, translation, models merge). */
    forTarget: ((t: Target) => TargetRequest) | undefined;
    /** The routing rule that matched, if any. */
    route: RouteDecision | null;
    /** `x-sluice-route`: the rule, and its A/B arm. */
    routeHeader: string | null;
  };

export interface RouteDeps {
  router: Pick<Router, 'decide' | 'planner' | 'modelsPlan'>;
  targetsFor(model: string | null, caller: Caller, chain?: RouteDecision['chain']): Promise<Target[]>;
}

export type RouteStage = (preq: ProxyRequest, rawHeaders: readonly string[]) => Promise<RoutePlan>;

export function createRoute(deps: RouteDeps): RouteStage {
  const { router } = deps;
  return async (preq, rawHeaders) => {
    const { pathname, info, caller, headers, method } = preq;
    const route = router.decide({ pathname, model: info.model, caller, headers, body: preq.body, metadataUserId: info.metadataUserId, requestId: preq.id });
    const models = method === 'GET' && (pathname === '/v1/models' || pathname.startsWith('/v1/models/'))
      ? await router.modelsPlan({ pathname, url: preq.url, headers, rawHeaders })
      : null;
    if (models?.kind === 'local') return models;
    let targets: Target[];
    try {
      targets = await deps.targetsFor(info.model, caller, route?.chain);
    } catch (err) {
      // Without an Anthropic key the merged list still answers with Sluice's own ids.
      if (models?.kind === 'merge' && err instanceof ProviderKeyMissingError) return { kind: 'local', status: 200, body: models.fallback };
      throw err;
    }
    const chat = pathname === CHAT_PATH;
    const forTarget = models?.kind === 'merge' ? models.forTarget : route || chat
      ? router.planner({
        format: chat ? 'openai-chat' : 'anthropic', url: preq.url, pathname, rawHeaders, body: preq.body!,
        requestedModel: info.model ?? '', requestId: preq.id, userAgent: typeof headers['user-agent'] === 'string' ? headers['user-agent'] : '',
      })
      : undefined;
    const routeHeader = route ? (route.arm ? `${route.rule}; arm=${route.arm}` : route.rule) : null;
    return { kind: 'upstream', targets, forTarget, route, routeHeader };
  };
}
