// Stage 4, forward: sends the routed request upstream through the resilient loop (retries,
// fallbacks, cascade) and streams the delivered response to the client as it arrives: headers
// written once, SSE headers flushed at once, backpressure both ways, no buffering. The
// one-attempt primitive lives in dispatch.ts and is re-exported here.
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { toErrorBody, type GatewayError } from '../errors.js';
import type { ForwardHooks, ResponseSink } from './dispatch.js';
import { abortableSleep, sendResilient, type RetryConfig, type SendResult, type Target } from './upstream.js';
import type { RetryBudget } from './resilience/policy.js';
import { tierOf, type RoutePlan } from './route.js';
import type { ProxyRequest } from './types.js';

export * from './dispatch.js';

/** The client's HTTP response as a sink: a failed SSE stream ends with an error event. */
export function httpSink(res: ServerResponse, requestId: string): ResponseSink {
  let sse = false;
  let encoded = false;
  return {
    start(status, headers) {
      const ct = headers['content-type'];
      sse = typeof ct === 'string' && ct.startsWith('text/event-stream');
      const ce = headers['content-encoding'];
      encoded = ce !== undefined && ce !== 'identity';
      // An upstream Vary would replace the CORS `Vary: Origin` set before (cors.ts): keep both.
      const vary = headers.vary;
      if (vary !== undefined && res.hasHeader('vary')) headers.vary = `${String(res.getHeader('vary'))}, ${String(vary)}`;
      res.writeHead(status, headers);
      // Stream headers go out now, not with the first event: time to first byte matters.
      if (sse) res.flushHeaders();
    },
    write: (chunk) => res.write(chunk),
    onDrain: (resume) => { res.once('drain', resume); },
    end: () => { res.end(); },
    fail(err: GatewayError) {
      if (res.destroyed) return;
      // A plain SSE stream can carry the failure as an error event, as Anthropic does; a
      // compressed or non-SSE body cannot, so the connection is cut and the client sees it.
      if (sse && !encoded) res.end(`event: error\ndata: ${toErrorBody(err, requestId)}\n\n`);
      else res.destroy(err);
    },
  };
}

/** Sluice's own answer (local model ids), headers and body in one write. */
export function sendLocal(res: ServerResponse, plan: { status: number; body: string }, requestId: string): void {
  res.writeHead(plan.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(plan.body), 'request-id': requestId });
  res.end(plan.body);
}

export interface ForwardSettings {
  retry: RetryConfig;
  timeouts: { firstByteMs: number; idleMs: number; streamFirstByteMs: number };
}

export interface ForwardDeps {
  dispatcher: Dispatcher;
  /** Current retry and timeout settings (read once per request). */
  settings(): ForwardSettings;
  budget: RetryBudget;
  now?: () => number;
  random?: () => number;
}

export type UpstreamPlan = Extract<RoutePlan, { kind: 'upstream' }>;
export type ForwardStage = (
  preq: ProxyRequest, rawHeaders: readonly string[], plan: UpstreamPlan, sink: ResponseSink,
  hooks: Pick<ForwardHooks, 'onStart' | 'onChunk'>, signal: AbortSignal,
) => Promise<SendResult>;

/** The response headers naming what served the request. */
export function servedHeaders(plan: UpstreamPlan, t: Target, attempts: number): Record<string, string> {
  const h: Record<string, string> = { 'x-sluice-served-by': t.model ? `${t.name}; model=${t.model}` : t.name };
  if (attempts > 1) h['x-sluice-attempts'] = String(attempts);
  if (t.fallback) h['x-sluice-fallback'] = '1';
  if (plan.routeHeader) h['x-sluice-route'] = plan.routeHeader;
  const tier = plan.route?.smart ? tierOf(plan.route, t) : null;
  if (tier !== null) h['x-sluice-tier'] = tier;
  return h;
}

export function createForward(deps: ForwardDeps): ForwardStage {
  const now = deps.now ?? (() => performance.now());
  const random = deps.random ?? Math.random;
  return (preq, rawHeaders, plan, sink, hooks, signal) => {
    deps.budget.onRequest();
    const s = deps.settings();
    const tm = s.timeouts;
    const smart = plan.route?.smart;
    return sendResilient({
      dispatcher: deps.dispatcher,
      retry: s.retry,
      budget: deps.budget,
      now,
      random,
      sleep: abortableSleep,
      hooks,
      servedHeaders: (t, n) => servedHeaders(plan, t, n),
    }, plan.targets, {
      method: preq.method, url: preq.url, rawHeaders, body: preq.body,
      headersTimeoutMs: tm.firstByteMs, bodyTimeoutMs: tm.idleMs, model: preq.info.model,
      ...(preq.info.stream ? { firstAttemptHeadersTimeoutMs: tm.streamFirstByteMs } : {}),
      ...(plan.forTarget ? { forTarget: plan.forTarget } : {}),
      ...(smart?.kind === 'cascade' ? { cascade: smart.cascade } : {}),
    }, sink, signal);
  };
}
