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
import type { AttemptRecord } from '../ledger/types.js';
import type { AuthStyle, Wire } from '../providers/kinds.js';
import { escalationReason, readResponseEnd, type Cascade, type CascadeTrigger } from '../smart/index.js';
import { createDecodingSink, parseContentEncoding } from '../meter/body-decoder.js';

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
  /** The format the target speaks; default 'anthropic'. */
  wire?: Wire;
  /** How the pool's key is sent; default 'x-api-key'. 'none': no credential at all goes upstream. */
  auth?: AuthStyle;
}

type MeterHooks = Pick<ForwardHooks, 'onStart' | 'onChunk'>;

/** One target's version of the request, when it differs from the client's (routing, translation). */
export interface TargetRequest {
  /** Path and query appended to the target's base path. */
  path: string;
  body: Buffer | null;
  /** Request headers before the credential is set (hop-by-hop ones are still dropped). */
  rawHeaders: readonly string[];
  /** Puts a response translator between this target and the client sink (and the meter). */
  wrap?(sink: ResponseSink, hooks: MeterHooks): { sink: ResponseSink; hooks: MeterHooks };
}

export interface RetryConfig {
  maxAttempts: number;
  maxTotalMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxWaitMs: number;
}

/** One upstream attempt, exactly as the ledger stores it (durations always measured here). */
export type Attempt = AttemptRecord & { durationMs: number; waitMs: number };

export interface SendRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  rawHeaders: readonly string[];
  body: Buffer | null;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Per-target request (prepared once per target by the caller); absent: the client's request as is. */
  forTarget?: (target: Target) => TargetRequest;
  /**
   * A cascade rule: `targets` are its steps, cheapest first. An attempt whose outcome fires one
   * of the triggers moves on to the next step (recorded as `escalated:<trigger>`), but only while
   * the response is still held back: see `holdsForCascade`.
   */
  cascade?: Pick<Cascade, 'triggers' | 'errorStatuses'>;
}

/** Triggers read from a complete 2xx body (its stop reason), not from the status. */
const BODY_TRIGGERS: readonly CascadeTrigger[] = ['refusal', 'max_tokens'];

/**
 * Whether a cascade keeps this response back to look at it. A status that fires a trigger is
 * held like a retryable one; a 2xx is held (up to HOLD_LIMIT_BYTES) when a stop-reason trigger
 * is on, so its end can be read before the client sees a byte. A 2xx longer than the limit
 * streams to the client and can no longer escalate.
 */
export function holdsForCascade(cascade: Pick<Cascade, 'triggers' | 'errorStatuses'>, status: number): boolean {
  if (status >= 200 && status < 300) return cascade.triggers.some((t) => BODY_TRIGGERS.includes(t));
  return escalationReason(cascade, { status, stopReason: null }) !== null;
}

/** The decoded bytes of a held body (compressed as the client asked); null when undecodable. */
async function decodeHeld(body: Buffer, contentEncoding: string | undefined): Promise<Buffer | null> {
  const enc = parseContentEncoding(contentEncoding);
  if (!enc.ok) return null;
  if (enc.codings.length === 0) return body;
  const parts: Uint8Array[] = [];
  let failed = false;
  const sink = createDecodingSink(enc.codings, { write: (c) => { parts.push(c); }, end: async () => {} }, {
    onError: () => { failed = true; },
    isAborted: () => false,
  });
  sink.write(body);
  await sink.end();
  return failed ? null : Buffer.concat(parts);
}

/** The trigger a held cascade response fires, reading a 2xx body's stop reason. */
async function heldEscalation(cascade: Pick<Cascade, 'triggers' | 'errorStatuses'>, held: UpstreamHeld): Promise<CascadeTrigger | null> {
  if (held.status < 200 || held.status >= 300) return escalationReason(cascade, { status: held.status, stopReason: null });
  const ce = held.headers['content-encoding'];
  const ct = held.headers['content-type'];
  const decoded = await decodeHeld(held.body, typeof ce === 'string' ? ce : undefined);
  if (!decoded) return null;
  const end = readResponseEnd(decoded, typeof ct === 'string' ? ct : null);
  if (!end.complete) return null;
  return escalationReason(cascade, { status: held.status, stopReason: end.stopReason, errorType: end.errorType });
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
  hooks: MeterHooks;
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

/** The header carrying a provider key, in the target's style. */
export function credentialFor(auth: AuthStyle | undefined, key: string): { name: string; value: string } {
  return auth === 'bearer' ? { name: 'authorization', value: `Bearer ${key}` } : { name: 'x-api-key', value: key };
}

/** Upstream headers for one attempt: the client's credential never reaches a target that is not its own. */
function attemptHeaders(raw: readonly string[], target: Target, key: PoolKey | null): string[] {
  if (key && target.auth !== 'none') return buildUpstreamHeaders(raw, credentialFor(target.auth, key.key));
  const out = buildUpstreamHeaders(raw);
  if (target.auth !== 'none') return out;
  // A keyless target (a local server) gets neither our token nor the client's credential.
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    const n = out[i]!.toLowerCase();
    if (n !== 'x-api-key' && n !== 'authorization') kept.push(out[i]!, out[i + 1]!);
  }
  return kept;
}

/**
 * Sends `req` to the first usable target, retrying on 429 (another key at once; or the same
 * after its reset if that is soon), 529/5xx and connection failures (backoff with full jitter,
 * honouring retry-after), within the per-request caps and the global retry budget. When every
 * key and target is resting longer than `maxWaitMs`, answers at once: the last upstream
 * response with a retry-after, or a gateway 429/503 with one.
 */
const failedAttempts = new WeakMap<object, Attempt[]>();

/** The attempts a failed sendResilient made (for the ledger row of a request that got no answer). */
export function attemptsOf(err: unknown): Attempt[] {
  return (err !== null && typeof err === 'object' && failedAttempts.get(err)) || [];
}

export async function sendResilient(deps: SendDeps, targets: Target[], req: SendRequest, sink: ResponseSink, signal: AbortSignal): Promise<SendResult> {
  const attempts: Attempt[] = [];
  try {
    return await sendLoop(deps, targets, req, sink, signal, attempts);
  } catch (err) {
    if (err !== null && typeof err === 'object') failedAttempts.set(err, attempts);
    throw err;
  }
}

async function sendLoop(deps: SendDeps, targets: Target[], req: SendRequest, sink: ResponseSink, signal: AbortSignal, attempts: Attempt[]): Promise<SendResult> {
  /** Targets that asked for a longer pause than this request may wait. */
  const resting = new Set<Target>();
  const { retry, now } = deps;
  const started = now();
  let lastHeld: UpstreamHeld | null = null;
  let lastTarget: Target = targets[0]!;
  let lastKey: string | null = null;
  let lastErr: GatewayError | null = null;
  let waitBefore = 0;
  const timeLeft = () => retry.maxTotalMs - (now() - started);
  const canTryAgain = () => attempts.length < retry.maxAttempts && timeLeft() > 0 && deps.budget.available >= 1;

  /** Cascade steps escalated away from: never chosen again for this request. */
  const escalated = new Set<Target>();
  const laterStep = (t: Target) => targets.some((x) => x !== t && !escalated.has(x) && !resting.has(x));
  const prepared = new Map<Target, TargetRequest>();
  const requestFor = (t: Target): TargetRequest => {
    let r = prepared.get(t);
    if (!r) {
      r = req.forTarget ? req.forTarget(t) : { path: req.url, body: t.model && req.body ? withModel(req.body, t.model) : req.body, rawHeaders: req.rawHeaders };
      prepared.set(t, r);
    }
    return r;
  };
  /** The client sink as this target's response reaches it: served-by headers, then any translator. */
  const sinkFor = (t: Target, n: number): { sink: ResponseSink; hooks: MeterHooks } => {
    const base = withHeaders(sink, () => deps.servedHeaders?.(t, n) ?? {});
    const wrap = requestFor(t).wrap;
    return wrap ? wrap(base, deps.hooks) : { sink: base, hooks: deps.hooks };
  };

  const deliverHeld = (held: UpstreamHeld, target: Target, keyId: string | null, retryAfterS?: number): SendResult => {
    const headers = { ...held.headers };
    if (retryAfterS !== undefined && headers['retry-after'] === undefined) headers['retry-after'] = String(retryAfterS);
    const out = sinkFor(target, attempts.length);
    replayHeld({ ...held, headers }, out.sink, out.hooks);
    return { delivered: held, attempts, target, keyId };
  };

  for (;;) {
    // 1. A target whose breaker admits us and which has a key that is not resting.
    let choice: { target: Target; key: PoolKey | null } | null = null;
    let soonest = Infinity;
    let reason: 'rate_limited' | 'circuit_open' = 'circuit_open';
    for (const t of targets) {
      if (resting.has(t) || escalated.has(t)) continue;
      if (!t.breaker.tryAcquire()) {
        // An open breaker says when it admits probes; a half-open one whose probe slots are
        // taken says 0, and is skipped rather than polled.
        const w = t.breaker.waitMs();
        if (w > 0) soonest = Math.min(soonest, w);
        continue;
      }
      if (!t.pool) { choice = { target: t, key: null }; break; }
      const c = t.pool.choose();
      if (c?.key) { choice = { target: t, key: c.key }; break; }
      t.breaker.release();
      if (c) { soonest = Math.min(soonest, c.waitMs); reason = 'rate_limited'; }
    }
    if (!choice) {
      // Wait for the first key or breaker to wake only if that is soon; otherwise answer now
      // (Claude Code retries on its own; holding its connection helps nobody).
      if (soonest !== Infinity && soonest <= retry.maxWaitMs && soonest < timeLeft() && attempts.length < retry.maxAttempts) {
        await deps.sleep(Math.max(1, soonest), signal);
        waitBefore += soonest;
        continue;
      }
      const retryAfterS = Math.max(1, Math.ceil((soonest === Infinity ? 1000 : soonest) / 1000));
      if (lastHeld) return deliverHeld(lastHeld, lastTarget, lastKey, retryAfterS);
      if (lastErr) throw lastErr;
      throw new UpstreamsUnavailableError(reason, retryAfterS);
    }

    // 2. One attempt.
    const { target, key } = choice;
    const n = attempts.length + 1;
    const model = target.model;
    // A request the target cannot take (an untranslatable field) fails here, before any attempt.
    let treq: TargetRequest;
    try {
      treq = requestFor(target);
    } catch (err) {
      target.breaker.release();
      throw err;
    }
    const attemptStart = now();
    const record = (status: number | null, error: string | null) => {
      attempts.push({ n, ts: Date.now(), target: target.name, keyId: key?.id ?? null, model, status, error, durationMs: now() - attemptStart, waitMs: waitBefore });
      waitBefore = 0;
    };
    lastTarget = target;
    lastKey = key?.id ?? null;
    if (key) target.pool!.acquire(key.id);
    let result: UpstreamStarted | UpstreamHeld;
    const out = sinkFor(target, attempts.length + 1);
    try {
      result = await forward(deps.dispatcher, {
        origin: target.baseUrl.origin,
        path: target.baseUrl.pathname.replace(/\/$/, '') + treq.path,
        method: req.method,
        headers: attemptHeaders(treq.rawHeaders, target, key),
        body: treq.body,
        headersTimeoutMs: req.headersTimeoutMs,
        bodyTimeoutMs: req.bodyTimeoutMs,
      }, out.sink, signal, {
        ...out.hooks,
        // Keep a retryable answer back while another attempt is still possible. Moving a 429 to
        // another key adds no load to a struggling upstream, so it needs no retry budget.
        hold: (status) => {
          // A cascade step with a later step to escalate to keeps back what could escalate.
          // Stop reasons are read in Anthropic's format only: an OpenAI-format step's 2xx streams.
          if (req.cascade && laterStep(target) && (status >= 300 || (target.wire ?? 'anthropic') === 'anthropic')
            && holdsForCascade(req.cascade, status)) return true;
          if (status < 300) return false;
          const k = classifyStatus(status);
          if (k === null || attempts.length + 1 >= retry.maxAttempts || timeLeft() <= 0) return false;
          return k === 'rate_limit' || deps.budget.available >= 1;
        },
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
    const trigger = req.cascade && result.kind === 'held' && laterStep(target) ? await heldEscalation(req.cascade, result) : null;
    record(result.status, trigger ? `escalated:${trigger}` : null);
    if (result.kind === 'started') return { delivered: result, attempts, target, keyId: key?.id ?? null };
    if (trigger) {
      // The next step at once: no backoff (another model, not a retry of this one).
      escalated.add(target);
      lastHeld = result;
      lastErr = null;
      continue;
    }
    // A 2xx held only to read its stop reason goes out as it came.
    if (result.status < 300) return deliverHeld(result, target, key?.id ?? null);

    // 3. A held retryable answer: retry if allowed, else deliver it as it came.
    lastHeld = result;
    lastErr = null;
    if (kind === 'rate_limit' && key) continue; // the key now rests: another key at once, or the wait logic above
    const retryAfter = parseRetryAfter(typeof result.headers['retry-after'] === 'string' ? result.headers['retry-after'] : undefined, Date.now());
    if (retryAfter !== null && retryAfter > retry.maxWaitMs) {
      // The upstream asks for longer than we hold a client: never undercut it. Another target
      // in the chain may serve; otherwise its answer (with its retry-after) goes out now.
      resting.add(target);
      if (targets.some((t) => !resting.has(t))) continue;
      return deliverHeld(result, target, key?.id ?? null);
    }
    if (!deps.budget.tryRetry()) return deliverHeld(result, target, key?.id ?? null);
    const wait = Math.max(backoffMs(n - 1, retry.baseDelayMs, retry.maxDelayMs, deps.random), retryAfter ?? 0);
    if (wait >= timeLeft()) return deliverHeld(result, target, key?.id ?? null);
    await deps.sleep(wait, signal);
    waitBefore += wait;
  }
}
