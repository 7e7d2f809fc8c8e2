// Alert webhooks: signed JSON POSTs (HMAC-SHA256 over `timestamp.body`, secret from the keychain)
// with bounded retries and exponential backoff, every attempt written to the delivery log. The
// alert callback only queues; delivery runs in the background. Imports undici and this folder.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { AlertEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { DeliveryLog, DeliveryLogEntry } from './delivery-log.js';
import type { ObserveSettings, WebhookSettings } from './schema.js';

export type DeliverySettings = ObserveSettings['webhookDelivery'];

export const SIGNATURE_HEADER = 'x-sluice-signature';
export const TIMESTAMP_HEADER = 'x-sluice-timestamp';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`): the timestamp is signed so a captured request cannot be replayed later. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature in constant time and the timestamp's age. */
export function verifyWebhookSignature(secret: string, o: { signature: string | undefined; timestamp: string | undefined; body: string; nowMs?: number; toleranceSeconds?: number }): boolean {
  if (!o.signature || !o.timestamp || !/^\d{1,12}$/.test(o.timestamp)) return false;
  const age = Math.abs((o.nowMs ?? Date.now()) / 1000 - Number(o.timestamp));
  if (age > (o.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(signWebhook(secret, o.timestamp, o.body));
  const got = Buffer.from(o.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** A warning for plain http to another machine (alerts and signatures would cross the network in clear); null when fine. */
export function webhookUrlWarning(url: string): string | null {
  const u = new URL(url);
  if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname) && !u.hostname.startsWith('127.')) {
    return `webhook ${u.host} uses plain http to a non-loopback host: alert contents travel unencrypted (use https)`;
  }
  return null;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

export interface WebhookPayload {
  id: string;
  type: string;
  level: AlertEvent['level'];
  message: string;
  /** ISO time of the alert. */
  ts: string;
  data: Record<string, unknown>;
  source: { name: 'sluice'; version: string };
}

export function payloadOf(a: AlertEvent, deliveryId: string, version: string): WebhookPayload {
  return { id: deliveryId, type: a.kind, level: a.level, message: a.message, ts: new Date(a.ts).toISOString(), data: a.data ?? {}, source: { name: 'sluice', version } };
}

export function wantsEvent(hook: WebhookSettings, kind: string): boolean {
  return hook.enabled && (hook.events.includes('*') || hook.events.includes(kind));
}

/** Backoff before attempt n+1 after attempt n failed: base * 2^(n-1), capped, with half of it jittered. */
export function backoffMs(attempt: number, d: Pick<DeliverySettings, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const full = Math.min(d.maxDelayMs, d.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

export interface DeliveryOutcome {
  delivery: string;
  ok: boolean;
  attempts: number;
  status: number | null;
  error: string | null;
}

export interface WebhookStatus {
  configured: number;
  pending: number;
  delivered: number;
  failed: number;
  /** Deliveries not started because too many were pending. */
  dropped: number;
  recent: DeliveryLogEntry[];
}

export interface WebhookDispatcherOptions {
  webhooks: () => WebhookSettings[];
  delivery: () => DeliverySettings;
  /** The signing secret of a webhook (keychain account observe:webhook:<id>). */
  secretOf: (id: string) => Promise<string | null>;
  log: DeliveryLog;
  version: string;
  logger: Logger;
  now?: () => number;
  random?: () => number;
  dispatcher?: Dispatcher;
  /** Deliveries in flight or waiting to retry; beyond it new ones are dropped (counted). Default 500. */
  maxPending?: number;
}

export interface WebhookDispatcher {
  /** The alert callback: queues a delivery per interested webhook and returns at once. */
  onAlert(a: AlertEvent): void;
  /** Delivers one event to one webhook with retries and resolves with the outcome (`sluice webhook test`). */
  deliver(hook: WebhookSettings, a: AlertEvent): Promise<DeliveryOutcome>;
  status(): WebhookStatus;
  /** Resolves when every pending delivery has finished. */
  settled(): Promise<void>;
  /** Cancels retries and in-flight requests; their deliveries are logged as failed. */
  close(): Promise<void>;
}

export function createWebhookDispatcher(opts: WebhookDispatcherOptions): WebhookDispatcher {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const maxPending = opts.maxPending ?? 500;
  const abort = new AbortController();
  const pending = new Set<Promise<DeliveryOutcome>>();
  const counts = { delivered: 0, failed: 0, dropped: 0 };

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (abort.signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      abort.signal.removeEventListener('abort', done);
      resolve();
    }
    abort.signal.addEventListener('abort', done);
  });

  const attemptOnce = async (hook: WebhookSettings, secret: string, body: string, kind: string, deliveryId: string, d: DeliverySettings): Promise<{ status: number | null; error: string | null; retryable: boolean; retryAfterMs: number | null }> => {
    const timestamp = String(Math.floor(now() / 1000));
    try {
      const res = await request(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `sluice/${opts.version}`,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          'x-sluice-event': kind,
          'x-sluice-delivery': deliveryId,
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(d.timeoutMs), abort.signal]),
        headersTimeout: d.timeoutMs,
        bodyTimeout: d.timeoutMs,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
      await res.body.dump().catch(() => {});
      if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, error: null, retryable: false, retryAfterMs: null };
      const ra = Number(res.headers['retry-after']);
      const retryable = res.statusCode === 408 || res.statusCode === 425 || res.statusCode === 429 || res.statusCode >= 500;
      return { status: res.statusCode, error: `HTTP ${res.statusCode}`, retryable, retryAfterMs: Number.isFinite(ra) && ra >= 0 ? ra * 1000 : null };
    } catch (err) {
      const e = err as { code?: string; name?: string; message: string };
      const error = abort.signal.aborted ? 'cancelled: the gateway is shutting down'
        : e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${d.timeoutMs} ms` : (e.code ?? e.message);
      return { status: null, error, retryable: !abort.signal.aborted, retryAfterMs: null };
    }
  };

  const deliver = async (hook: WebhookSettings, a: AlertEvent): Promise<DeliveryOutcome> => {
    const d = opts.delivery();
    const deliveryId = `whd_${randomBytes(8).toString('hex')}`;
    const base = { delivery: deliveryId, webhook: hook.id, host: hostOf(hook.url), event: a.kind };
    let secret: string | null = null;
    let secretError: string | null = null;
    try {
      secret = await opts.secretOf(hook.id);
    } catch (err) {
      secretError = `cannot read the signing secret: ${(err as Error).message}`;
    }
    if (!secret) {
      // Unsigned alerts would teach receivers to accept unsigned requests: nothing is sent.
      const error = secretError ?? `no signing secret in the keychain (account observe:webhook:${hook.id}); run \`sluice webhook add\` again or \`sluice webhook secret ${hook.id}\``;
      opts.log.append({ ...base, ts: new Date(now()).toISOString(), attempt: 1, status: null, ok: false, error, durationMs: 0, final: true });
      counts.failed++;
      return { delivery: deliveryId, ok: false, attempts: 0, status: null, error };
    }
    const body = JSON.stringify(payloadOf(a, deliveryId, opts.version));
    for (let attempt = 1; ; attempt++) {
      const t0 = now();
      const r = await attemptOnce(hook, secret, body, a.kind, deliveryId, d);
      const ok = r.error === null;
      const final = ok || !r.retryable || attempt >= d.maxAttempts || abort.signal.aborted;
      opts.log.append({ ...base, ts: new Date(now()).toISOString(), attempt, status: r.status, ok, error: r.error, durationMs: now() - t0, final });
      if (final) {
        if (ok) counts.delivered++;
        else counts.failed++;
        if (!ok) opts.logger.warn(`observe: webhook ${hook.id} (${base.host}) gave up on a ${a.kind} alert after ${attempt} attempt(s): ${r.error}`);
        return { delivery: deliveryId, ok, attempts: attempt, status: r.status, error: r.error };
      }
      const wait = backoffMs(attempt, d, random);
      await sleep(r.retryAfterMs !== null ? Math.min(d.maxDelayMs, Math.max(wait, r.retryAfterMs)) : wait);
    }
  };

  const track = (p: Promise<DeliveryOutcome>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
    return p;
  };

  return {
    onAlert(a) {
      if (abort.signal.aborted) return;
      for (const hook of opts.webhooks()) {
        if (!wantsEvent(hook, a.kind)) continue;
        if (pending.size >= maxPending) {
          counts.dropped++;
          continue;
        }
        track(deliver(hook, a).catch((err: Error) => {
          counts.failed++;
          return { delivery: '', ok: false, attempts: 0, status: null, error: err.message };
        }));
      }
    },
    deliver: (hook, a) => track(deliver(hook, a)),
    status: () => ({ configured: opts.webhooks().length, pending: pending.size, ...counts, recent: opts.log.recent(50) }),
    settled: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await opts.log.settled();
    },
    async close() {
      abort.abort();
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await opts.log.settled();
    },
  };
}
