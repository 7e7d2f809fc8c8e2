// The request path, top to bottom: auth -> route -> guard -> forward -> meter. Each stage is a
// factory in its own module (auth.ts, route.ts, guard.ts, forward.ts, meter.ts) built once by
// gateway.ts; this file only runs them in order for one request. Reading the body and the
// request info happens between auth and the guard (the guard's stages see the request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors.js';
import type { AuthStage } from './auth.js';
import { readBody } from './body.js';
import { ClientAbortError } from './dispatch.js';
import { attemptsOf, type Attempt, type SendResult } from './upstream.js';
import type { Guard } from './guard.js';
import { httpSink, sendLocal, type ForwardStage } from './forward.js';
import type { MeterStart, Metering } from './meter.js';
import { readRequestInfo, tierOf, type RouteStage } from './route.js';
import type { Finish, ProxyRequest } from './types.js';

export interface PipelineRequest {
  requestId: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** Origin-form path and query, normalised. */
  url: string;
}

/** What the pipeline tells the gateway about each finished upstream exchange (health, alerts). */
export interface PipelineObserver {
  /** Before forwarding; only called when something listens (cheap check first). */
  wantsStart(): boolean;
  onStart(preq: ProxyRequest): void;
  /** The upstream answered (any status), after `ttfbMs`. */
  onUpstream(status: number, ttfbMs: number): void;
  /** No answer: a retryable gateway error (unreachable, timeout) after `ms`. */
  onUpstreamError(code: string, ms: number): void;
  /** Served by a fallback target after failed attempts (not a cascade step). */
  onFallback(preq: ProxyRequest, result: SendResult): void;
  /** The upstream failed mid-response (the client saw a cut or an error event). */
  onMidResponseError(preq: ProxyRequest, err: Error): void;
  onDone(preq: ProxyRequest, status: number, totalMs: number, attempts: number): void;
}

export interface PipelineDeps {
  auth: AuthStage;
  route: RouteStage;
  guard: Guard;
  forward: ForwardStage;
  metering: Metering;
  observer: PipelineObserver;
}

export type Pipeline = (r: PipelineRequest) => Promise<void>;

/** What the meter starts from; the body's size is read when called (a stage may rewrite it). */
function meterStartOf(preq: ProxyRequest): MeterStart {
  return {
    id: preq.id, tsStart: preq.tsStart, method: preq.method, path: preq.pathname, headers: preq.headers, caller: preq.caller,
    info: preq.info, bytesIn: preq.body?.length ?? 0, provider: 'anthropic', keyId: null,
  };
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { auth, route, guard, forward, metering, observer } = deps;
  return async ({ requestId, req, res, url }) => {
    const tsStart = Date.now();
    // 1. auth
    const authed = auth(req.headers);
    const caller = authed instanceof Promise ? await authed : authed;
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? null : await readBody(req);
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const info = readRequestInfo(method, pathname, req.headers, body);
    const preq: ProxyRequest = { id: requestId, tsStart, method, url, pathname, headers: req.headers, caller, body, info, notes: {} };
    // 2. guard (extension stages: policies, budgets, guardrails) may refuse or change the body
    let finish: Finish;
    try {
      const checked = guard.check(preq);
      finish = checked instanceof Promise ? await checked : checked;
    } catch (err) {
      // A refusal is still a request: it gets its row (0 attempts, not billed) so it counts
      // in every total and the session page can show why it was refused.
      if (err instanceof GatewayError) {
        metering.begin(meterStartOf(preq))?.onRefused(err.status, err.code, Date.now() - tsStart);
      }
      throw err;
    }
    // 3. route
    let plan;
    try {
      plan = await route(preq, req.rawHeaders);
    } catch (err) {
      finish(null);
      throw err;
    }
    if (plan.kind === 'local') {
      sendLocal(res, plan, requestId);
      finish(null);
      return;
    }
    // 4. forward, 5. meter (taps the delivered response as it streams)
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    const sink = guard.tap(httpSink(res, requestId), preq);
    const meter = metering.begin(meterStartOf(preq), finish);
    if (!meter) res.once('close', () => finish(null));
    if (observer.wantsStart()) observer.onStart(preq);
    const smart = plan.route?.smart;
    const smartNotes = smart?.kind === 'tiers' ? { tier: smart.tier, features: smart.features as Record<string, unknown> | null } : {};
    const t0 = performance.now();
    let attempts: Attempt[] = [];
    try {
      const r = await forward(preq, req.rawHeaders, plan, sink, meter ?? {}, abort.signal);
      attempts = r.attempts;
      const d = r.delivered;
      meter?.annotate({
        provider: r.target.name, keyId: r.keyId,
        routing: {
          target: r.target.name, fallback: r.target.fallback, attempts, ...(plan.route ? { route: plan.route.rule, arm: plan.route.arm } : {}),
          ...smartNotes, ...(smart?.kind === 'cascade' ? { tier: tierOf(plan.route!, r.target) } : {}),
        },
      });
      observer.onUpstream(d.status, d.ttfbMs);
      // A cascade's later step is its design, not a failure worth an alert.
      if (r.target.fallback && smart?.kind !== 'cascade') observer.onFallback(preq, r);
      const end = d.kind === 'started' ? await d.done : { bytes: d.body.length, totalMs: d.totalMs, error: null, aborted: false };
      meter?.onEnd(end);
      if (end.error) observer.onMidResponseError(preq, end.error);
      observer.onDone(preq, d.status, end.totalMs, attempts.length);
    } catch (err) {
      // No answer reached the client: the row still keeps every attempt that was made.
      // A request refused before any attempt stores 0 attempts, as the upstream saw none.
      const tried = attemptsOf(err);
      const last = tried[tried.length - 1];
      const target = last?.target ?? plan.targets[0]?.name ?? 'anthropic';
      meter?.annotate({ provider: target, keyId: last?.keyId ?? null, routing: { target, attempts: tried, attemptsMade: tried.length, ...smartNotes } });
      if (err instanceof ClientAbortError) {
        meter?.onFailure(null, performance.now() - t0);
        return;
      }
      const gerr = err instanceof GatewayError ? err : null;
      meter?.onFailure(gerr?.code ?? 'GATEWAY_INTERNAL', performance.now() - t0);
      if (gerr?.retryable) observer.onUpstreamError(gerr.code, performance.now() - t0);
      throw err;
    }
  };
}
