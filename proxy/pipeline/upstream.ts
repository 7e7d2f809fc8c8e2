// The resilient upstream stage: chooses a target and key, sends, and retries what a retry can
// fix — only before the first response byte reaches the client. A started stream is never
// retried. Every attempt is recorded. Takes plain data and a sink, never express objects.
import type { Dispatcher } from 'undici';
import {
  forward, replayHeld, ClientAbortError, upstreamError, buildUpstreamHeaders,
  type ForwardHooks, type ResponseSink, type UpstreamHeld, type UpstreamStarted,
} from './forward.js';
import { backoffMs, classifyErrorCode, classifyStatus, parseRetryAfter, type RetryBudget } from './resilience/policy.js';
import type { CircuitBreaker } from './resilience/breaker.js';
import type { KeyPool, PoolKey } from './resilience/key-pool.js';
import { GatewayError } from '../errors.js';
import { scanTopLevel } from './json-scan.js';

export interface Target {
  /** Provider name from settings (`anthropic`, `anthropic-eu`). */
  name: string;
  baseUrl: URL;
  /** Keys to use; null forwards the client's own credential (passthrough). */
  pool: KeyPool | null;
  breaker: CircuitBreaker;
  /** The model to send instead of the requested one (a configured fallback model). */
  model: string | null;
  /** Not the first choice. */
  fallback: boolean;
}

export interface RetryConfig {
  maxAttempts: number;
  maxTotalMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxWaitMs: number;
}

export interface Attempt {
  n: number;
  ts: number;
  target: string;
  keyId: string | null;
  model: string | null;
  status: number | null;
  error: string | null;
  durationMs: number;
  waitMs: number;
}

export interface SendRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  rawHeaders: readonly string[];
  body: Buffer | null;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface SendResult {
  /** The response delivered to the client: streamed (`started`) or a held one replayed. */
  delivered: UpstreamStarted | UpstreamHeld;
  attempts: Attempt[];
  target: Target;
  keyId: string | null;
}

export class UpstreamsUnavailableError extends GatewayError {
  constructor(reason: 'rate_limited' | 'circuit_open', retryAfterS: number) {
    super(
      reason === 'rate_limited' ? 'GATEWAY_ALL_KEYS_RATE_LIMITED' : 'GATEWAY_CIRCUIT_OPEN',
      reason === 'rate_limited' ? 429 : 503,
      reason === 'rate_limited' ? 'gateway_rate_limited' : 'gateway_circuit_open',
      reason === 'rate_limited'
        ? `Every key for this model is rate limited; retry after ${retryAfterS} s.`
        : `Every upstream for this model is failing (circuit open); retry after ${retryAfterS} s.`,
      { retryable: true, headers: { 'retry-after': String(retryAfterS) } },
    );
  }
}

export interface SendDeps {
  dispatcher: Dispatcher;
  retry: RetryConfig;
  budget: RetryBudget;
  now: () => number;
  random: () => number;
  /** Abortable wait; rejects with ClientAbortError when the client leaves. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Metering hooks for the delivered response only. */
  hooks: Pick<ForwardHooks, 'onStart' | 'onChunk'>;
  /** Extra response headers naming what served the request. */
  servedHeaders?: (target: Target, attempts: number) => Record<string, string>;
}

/** The request body with its top-level `model` replaced; every other byte kept. */
export function withModel(body: Buffer, model: string): Buffer {
  const span = scanTopLevel(body).get('model');
  const value = Buffer.from(JSON.stringify(model));
  if (!span) return body;
  return Buffer.concat([body.subarray(0, span.start), value, body.subarray(span.end)]);
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(new ClientAbortError()); return; }
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(new ClientAbortError()); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function withHeaders(sink: ResponseSink, extra: () => Record<string, string>): ResponseSink {
  return { ...sink, start: (status, headers) => sink.start(status, { ...headers, ...extra() }) };
}

/**
 * Sends `req` to the first usable target, retrying on 429 (another key at once; or the same
 * after its reset if that is soon), 529/5xx and connection failures (backoff with full jitter,
 * honouring retry-after), within the per-request caps and the global retry budget. When every
 * key and target is resting longer than `maxWaitMs`, answers at once: the last upstream
 * response with a retry-after, or a gateway 429/503 with one.
 */
export async function sendResilient(deps: SendDeps, targets: Target[], req: SendRequest, sink: ResponseSink, signal: AbortSignal): Promise<SendResult> {
  const { retry, now } = deps;
  const started = now();
  const attempts: Attempt[] = [];
  let lastHeld: UpstreamHeld | null = null;
  let lastTarget: Target = targets[0]!;
  let lastKey: string | null = null;
  let lastErr: GatewayError | null = null;
  let waitBefore = 0;
  const timeLeft = () => retry.maxTotalMs - (now() - started);
  const canTryAgain = () => attempts.length < retry.maxAttempts && timeLeft() > 0 && deps.budget.available >= 1;

  const deliverHeld = (held: UpstreamHeld, target: Target, keyId: string | null, retryAfterS?: number): SendResult => {
    const headers = { ...held.headers };
    if (retryAfterS !== undefined && headers['retry-after'] === undefined) headers['retry-after'] = String(retryAfterS);
    replayHeld({ ...held, headers }, withHeaders(sink, () => deps.servedHeaders?.(target, attempts.length) ?? {}), deps.hooks);
    return { delivered: held, attempts, target, keyId };
  };

  for (;;) {
    // 1. A target whose breaker admits us and which has a key that is not resting.
    let choice: { target: Target; key: PoolKey | null } | null = null;
    let soonest = Infinity;
    let reason: 'rate_limited' | 'circuit_open' = 'circuit_open';
    for (const t of targets) {
      if (!t.breaker.tryAcquire()) {
        soonest = Math.min(soonest, t.breaker.waitMs());
        continue;
      }
      if (!t.pool) { choice = { target: t, key: null }; break; }
      const c = t.pool.choose();
      if (c?.key) { choice = { target: t, key: c.key }; break; }
      t.breaker.release();
      if (c) { soonest = Math.min(soonest, c.waitMs); reason = 'rate_limited'; }
    }
    if (!choice) {
      const wait = soonest === Infinity ? retry.maxWaitMs : soonest;
      // Wait for the first key or breaker to wake only if that is soon; otherwise answer now
      // (Claude Code retries on its own; holding its connection helps nobody).
      if (wait <= retry.maxWaitMs && wait < timeLeft() && attempts.length < retry.maxAttempts) {
        await deps.sleep(Math.max(1, wait), signal);
        waitBefore += wait;
        continue;
      }
      const retryAfterS = Math.max(1, Math.ceil(wait / 1000));
      if (lastHeld) return deliverHeld(lastHeld, lastTarget, lastKey, retryAfterS);
      if (lastErr) throw lastErr;
      throw new UpstreamsUnavailableError(reason, retryAfterS);
    }

    // 2. One attempt.
    const { target, key } = choice;
    const n = attempts.length + 1;
    const model = target.model;
    const body = model && req.body ? withModel(req.body, model) : req.body;
    const attemptStart = now();
    const record = (status: number | null, error: string | null) => {
      attempts.push({ n, ts: Date.now(), target: target.name, keyId: key?.id ?? null, model, status, error, durationMs: now() - attemptStart, waitMs: waitBefore });
      waitBefore = 0;
    };
    lastTarget = target;
    lastKey = key?.id ?? null;
    if (key) target.pool!.acquire(key.id);
    let result: UpstreamStarted | UpstreamHeld;
    try {
      result = await forward(deps.dispatcher, {
        origin: target.baseUrl.origin,
        path: target.baseUrl.pathname.replace(/\/$/, '') + req.url,
        method: req.method,
        headers: buildUpstreamHeaders(req.rawHeaders, key ? { name: 'x-api-key', value: key.key } : undefined),
        body,
        headersTimeoutMs: req.headersTimeoutMs,
        bodyTimeoutMs: req.bodyTimeoutMs,
      }, withHeaders(sink, () => deps.servedHeaders?.(target, attempts.length + 1) ?? {}), signal, {
        ...deps.hooks,
        // Keep a retryable answer back while another attempt is still possible.
        hold: (status) => classifyStatus(status) !== null && attempts.length + 1 < retry.maxAttempts && timeLeft() > 0 && deps.budget.available >= 1,
      });
    } catch (err) {
      if (key) target.pool!.release(key.id);
      if (err instanceof ClientAbortError) {
        target.breaker.release();
        throw err;
      }
      const gerr = upstreamError(err, target.baseUrl.origin);
      record(null, gerr.code);
      const kind = classifyErrorCode(gerr.code);
      if (kind) target.breaker.onFailure(); else target.breaker.release();
      lastErr = gerr;
      lastHeld = null;
      if (kind && canTryAgain() && deps.budget.tryRetry()) {
        const wait = Math.min(backoffMs(n - 1, retry.baseDelayMs, retry.maxDelayMs, deps.random), Math.max(0, timeLeft()));
        await deps.sleep(wait, signal);
        waitBefore += wait;
        continue;
      }
      throw gerr;
    }
    if (key) {
      target.pool!.release(key.id);
      target.pool!.observe(key.id, result.status, result.headers);
    }
    const kind = classifyStatus(result.status);
    // A 429 is the key's limit, not the target's health.
    if (kind === 'overloaded' || kind === 'server') target.breaker.onFailure();
    else target.breaker.onSuccess();
    record(result.status, null);
    if (result.kind === 'started') return { delivered: result, attempts, target, keyId: key?.id ?? null };

    // 3. A held retryable answer: retry if allowed, else deliver it as it came.
    lastHeld = result;
    lastErr = null;
    if (!deps.budget.tryRetry()) return deliverHeld(result, target, key?.id ?? null);
    if (kind === 'rate_limit') continue; // another key at once, or the wait logic above
    const retryAfter = parseRetryAfter(typeof result.headers['retry-after'] === 'string' ? result.headers['retry-after'] : undefined, Date.now());
    const wait = Math.max(backoffMs(n - 1, retry.baseDelayMs, retry.maxDelayMs, deps.random), retryAfter !== null && retryAfter <= retry.maxWaitMs ? retryAfter : 0);
    if (wait >= timeLeft()) return deliverHeld(result, target, key?.id ?? null);
    await deps.sleep(wait, signal);
    waitBefore += wait;
  }
}
