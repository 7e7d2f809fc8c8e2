// The resilient upstream stage: chooses a target and key, sends, and retries what a retry can
// fix — only before the first response byte reaches the client. A started stream is never
// retried. Every attempt is recorded. Takes plain data and a sink, never express objects.
import type { Dispatcher } from 'undici';
import {
  forward, replayHeld, ClientAbortError, upstreamError, buildUpstreamHeaders,
  type ForwardHooks, type ResponseSink, type UpstreamHeld, type UpstreamStarted,
} from './dispatch.js';
import { backoffMs, classifyErrorCode, classifyStatus, limitScope, parseRetryAfter, type RetryBudget } from './resilience/policy.js';
import type { CircuitBreaker } from './resilience/breaker.js';
import type { KeyPool, PoolKey } from './resilience/key-pool.js';
import { GatewayError, UpstreamUnreachableError } from '../errors.js';
import { scanTopLevel } from '../json-scan.js';
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
  /**
   * The first attempt's time-to-headers limit when shorter (streaming requests: their headers
   * come before generation, so a stall fails over in seconds); later attempts get headersTimeoutMs.
   */
  firstAttemptHeadersTimeoutMs?: number;
  bodyTimeoutMs: number;
  /** The requested model: with the target's wire, the rate-limit scope the request counts against. */
  model?: string | null;
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

/**
 * Sluice's own refusal, given only where the upstream itself said so: every key rests in the
 * request's rate-limit scope (the upstream reported those limits exhausted), or the target's
 * breaker is open (its recent requests failed). It names the scope, and its retry-after is
 * when Sluice would admit the request.
 */
export class UpstreamsUnavailableError extends GatewayError {
  constructor(reason: 'rate_limited' | 'circuit_open', retryAfterS: number, scope = '') {
    super(
      reason === 'rate_limited' ? 'GATEWAY_ALL_KEYS_RATE_LIMITED' : 'GATEWAY_CIRCUIT_OPEN',
      reason === 'rate_limited' ? 429 : 503,
      reason === 'rate_limited' ? 'gateway_rate_limited' : 'gateway_circuit_open',
      reason === 'rate_limited'
        ? `Every key is rate limited for ${scope || 'this model'} (the upstream reported the limit exhausted); Sluice admits this request again in ${retryAfterS} s.`
        : `Upstream ${scope || 'for this model'} is failing (circuit open after its recent requests failed); Sluice tries it again in ${retryAfterS} s. Other models are not affected.`,
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

/** Attempts one request makes on a target before moving on to a later target in its chain. */
const ATTEMPTS_PER_TARGET = 2;

async function sendLoop(deps: SendDeps, targets: Target[], req: SendRequest, sink: ResponseSink, signal: AbortSignal, attempts: Attempt[]): Promise<SendResult> {
  // Breakers count client requests, not attempts: each target admits this request once (a
  // half-open breaker's probe slot is held for all of its attempts) and gets one verdict, its
  // first answer. Whatever got no verdict gives its probe slot back at the end.
  const admitted = new Set<Target>();
  const judged = new Set<Target>();
  try {
    return await attemptLoop(deps, targets, req, sink, signal, attempts, admitted, judged);
  } finally {
    for (const t of admitted) if (!judged.has(t)) t.breaker.release();
  }
}

async function attemptLoop(
  deps: SendDeps, targets: Target[], req: SendRequest, sink: ResponseSink, signal: AbortSignal, attempts: Attempt[],
  admitted: Set<Target>, judged: Set<Target>,
): Promise<SendResult> {
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
  const failed = (t: Target) => { if (!judged.has(t)) { judged.add(t); t.breaker.onFailure(); } };
  const answered = (t: Target) => { if (!judged.has(t)) { judged.add(t); t.breaker.onSuccess(); } };
  const beta = (() => {
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'anthropic-beta') return req.rawHeaders[i + 1]!;
    return null;
  })();
  const scopeOf = (t: Target) => limitScope(t.wire, t.model ?? req.model ?? null, beta);
  /** This request's failed attempts per target: after ATTEMPTS_PER_TARGET, a later target in the chain is tried. */
  const failures = new Map<Target, number>();
  const usable = (t: Target) => !resting.has(t) && !escalated.has(t);
  const movedOn = (t: Target) => (failures.get(t) ?? 0) >= ATTEMPTS_PER_TARGET && targets.some((x) => x !== t && usable(x) && (failures.get(x) ?? 0) < ATTEMPTS_PER_TARGET);

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

  // An upstream answer goes out with the upstream's own headers: nothing invented (no
  // retry-after it did not send), only Sluice's x-sluice-* headers naming what served it.
  const deliverHeld = (held: UpstreamHeld, target: Target, keyId: string | null): SendResult => {
    const out = sinkFor(target, attempts.length);
    replayHeld(held, out.sink, out.hooks);
    return { delivered: held, attempts, target, keyId };
  };

  for (;;) {
    // 1. A target whose breaker admits us and which has a key not resting in the request's scope.
    let choice: { target: Target; key: PoolKey | null } | null = null;
    let soonest = Infinity;
    let reason: 'rate_limited' | 'circuit_open' = 'circuit_open';
    let refusedScope = '';
    for (const t of targets) {
      if (!usable(t) || movedOn(t)) continue;
      let fresh = false;
      if (!admitted.has(t)) {
        if (!t.breaker.tryAcquire()) {
          // An open breaker says when it admits probes; a half-open one whose probe slots are
          // taken says 0, and is skipped rather than polled.
          const w = t.breaker.waitMs();
          if (w > 0 && w < soonest) { soonest = w; reason = 'circuit_open'; refusedScope = `${t.name}${t.model ?? req.model ? ` (model ${t.model ?? req.model})` : ''}`; }
          continue;
        }
        admitted.add(t);
        fresh = true;
      } else if (t.breaker.current() === 'open') {
        // Opened since (by this request's first failure, or by others'): move on.
        const w = t.breaker.waitMs();
        if (w > 0 && w < soonest) { soonest = w; reason = 'circuit_open'; refusedScope = `${t.name}${t.model ?? req.model ? ` (model ${t.model ?? req.model})` : ''}`; }
        continue;
      }
      if (!t.pool) { choice = { target: t, key: null }; break; }
      const scope = scopeOf(t);
      const c = t.pool.choose(new Set(), scope);
      if (c?.key) { choice = { target: t, key: c.key }; break; }
      if (fresh) { admitted.delete(t); t.breaker.release(); }
      if (c && c.waitMs < soonest) {
        soonest = c.waitMs;
        reason = 'rate_limited';
        const kinds = t.pool.restingKinds(scope).filter((k) => k !== 'unknown');
        refusedScope = `${t.name} ${scope}${kinds.length ? ` (${kinds.join(', ')} per minute)` : ''}`;
      }
    }
    if (!choice) {
      // Wait for the first key or breaker to wake only if that is soon; otherwise answer now
      // (Claude Code retries on its own; holding its connection helps nobody).
      if (soonest !== Infinity && soonest <= retry.maxWaitMs && soonest < timeLeft() && attempts.length < retry.maxAttempts) {
        await deps.sleep(Math.max(1, soonest), signal);
        waitBefore += soonest;
        continue;
      }
      if (lastHeld) return deliverHeld(lastHeld, lastTarget, lastKey);
      if (lastErr) throw lastErr;
      // Only a scope the upstream reported (a resting key, an open breaker) gets here: the
      // retry-after is when that scope admits requests again.
      throw new UpstreamsUnavailableError(reason, Math.max(1, Math.ceil((soonest === Infinity ? 1000 : soonest) / 1000)), refusedScope);
    }

    // 2. One attempt.
    const { target, key } = choice;
    const n = attempts.length + 1;
    const model = target.model;
    // A request the target cannot take (an untranslatable field) fails here, before any attempt.
    const treq = requestFor(target);
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
        headersTimeoutMs: n === 1 && req.firstAttemptHeadersTimeoutMs !== undefined ? Math.min(req.firstAttemptHeadersTimeoutMs, req.headersTimeoutMs) : req.headersTimeoutMs,
        bodyTimeoutMs: req.bodyTimeoutMs,
      }, out.sink, signal, {
        ...out.hooks,
        // Keep a retryable answer back while another attempt is still possible. Moving a 429 to
        // another key adds no load to a struggling upstream, so it needs no retry budget.
        hold: (status, headers) => {
          // A cascade step with a later step to escalate to keeps back what could escalate.
          // Stop reasons are read in Anthropic's format only: an OpenAI-format step's 2xx streams.
          if (req.cascade && laterStep(target) && (status >= 300 || (target.wire ?? 'anthropic') === 'anthropic')
            && holdsForCascade(req.cascade, status)) return true;
          if (status < 300) return false;
          // The upstream said not to retry (e.g. a gateway's spend cap: 429 billing_error,
          // x-should-retry: false): no other attempt, its answer goes out as it came, as the
          // client would act on it directly. Retrying would only hammer the block.
          if (headers['x-should-retry'] === 'false') return false;
          const k = classifyStatus(status);
          if (k === null || attempts.length + 1 >= retry.maxAttempts || timeLeft() <= 0) return false;
          return k === 'rate_limit' || deps.budget.available >= 1;
        },
      });
    } catch (err) {
      if (key) target.pool!.release(key.id);
      if (err instanceof ClientAbortError) {
        // The attempt was made: the ledger counts it like the upstream does. A key that had not
        // answered when the client gave up no longer counts as answering.
        record(null, 'CLIENT_ABORTED');
        if (key) target.pool!.abandoned(key.id);
        throw err;
      }
      const gerr = upstreamError(err, target.baseUrl.origin);
      record(null, gerr.code);
      const kind = classifyErrorCode(gerr.code);
      // A failed connection is the host's (every key shares it): the target's breaker. A
      // timeout or reset after connecting is held against the key (outlier ejection), so a
      // stalled key never opens the breaker its healthy siblings share.
      if (kind) {
        const hostLevel = gerr instanceof UpstreamUnreachableError && gerr.phase === 'connect';
        if (key && !hostLevel) target.pool!.transportFailure(key.id);
        else failed(target);
        failures.set(target, (failures.get(target) ?? 0) + 1);
      }
      lastErr = gerr;
      lastHeld = null;
      if (kind && canTryAgain() && deps.budget.tryRetry()) {
        // Another key (or target) is tried at once; the same one after a backoff.
        const elsewhere = key !== null && target.pool!.size > 1;
        const wait = elsewhere ? 0 : Math.min(backoffMs(n - 1, retry.baseDelayMs, retry.maxDelayMs, deps.random), Math.max(0, timeLeft()));
        if (wait > 0) await deps.sleep(wait, signal);
        waitBefore += wait;
        continue;
      }
      throw gerr;
    }
    if (key) {
      target.pool!.release(key.id);
      target.pool!.observe(key.id, result.status, result.headers, scopeOf(target));
    }
    const kind = classifyStatus(result.status);
    // A 429 is the key's limit, not the target's health.
    if (kind === 'overloaded' || kind === 'server') {
      failed(target);
      failures.set(target, (failures.get(target) ?? 0) + 1);
    } else answered(target);
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
    if (kind === 'rate_limit' && key) continue; // the key now rests in this scope: another key at once, or the wait logic above
    const retryAfter = parseRetryAfter(typeof result.headers['retry-after'] === 'string' ? result.headers['retry-after'] : undefined, Date.now());
    if (retryAfter !== null && retryAfter > retry.maxWaitMs) {
      // The upstream asks for longer than we hold a client: never undercut it. Another target
      // in the chain may serve; otherwise its answer (with its retry-after) goes out now.
      resting.add(target);
      if (targets.some((t) => !resting.has(t))) continue;
      return deliverHeld(result, target, key?.id ?? null);
    }
    if (!deps.budget.tryRetry()) return deliverHeld(result, target, key?.id ?? null);
    // Moving on to a later target in the chain needs no backoff.
    const wait = movedOn(target) ? 0 : Math.max(backoffMs(n - 1, retry.baseDelayMs, retry.maxDelayMs, deps.random), retryAfter ?? 0);
    if (wait >= timeLeft()) return deliverHeld(result, target, key?.id ?? null);
    if (wait > 0) await deps.sleep(wait, signal);
    waitBefore += wait;
  }
}
