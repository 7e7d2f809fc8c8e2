// The OTLP/HTTP (JSON) exporter: a bounded queue filled from the request:end event, drained on
// a timer into batched POSTs to `<endpoint>/v1/traces` and `/v1/metrics`. The event callback
// only enqueues; a slow, failing or hanging collector costs dropped spans, never request latency.
// Imports undici, ledger types and this folder; never the pipeline or gateway.ts.
import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import type { LedgerRow } from '../ledger/index.js';
import type { Logger } from '../log.js';
import { createMetricsAggregator, resourceOf, spanFromRow, traceRequest, type OtlpSpan, type Scope } from './otlp.js';
import type { ObserveSettings } from './schema.js';

export type OtlpSettings = ObserveSettings['otlp'];

export interface OtlpStatus {
  enabled: boolean;
  endpoint: string;
  /** Rows waiting to become spans, spans waiting for export and the batch in flight. */
  queued: number;
  queueLimit: number;
  exporting: boolean;
  exportedSpans: number;
  metricExports: number;
  /** Spans lost: queue overflow, or refused by the collector as malformed. */
  droppedSpans: number;
  failedExports: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
}

export interface OtlpExporterOptions {
  config: () => OtlpSettings;
  /** The value for `secretHeader` (keychain account observe:otlp); null when none is stored. */
  secretHeaderValue: () => Promise<string | null>;
  /** `gen_ai.provider.name` for a row (its target's wire family). */
  providerNameOf: (row: LedgerRow) => string;
  version: string;
  logger: Logger;
  now?: () => number;
  dispatcher?: Dispatcher;
  newIds?: () => { traceId: string; spanId: string };
}

export interface OtlpExporter {
  /** Queues a finished request; O(1), never throws, never waits. */
  enqueue(row: LedgerRow): void;
  /** Moves queued rows into spans and metrics and exports what it can now (tests, shutdown). */
  flush(): Promise<void>;
  status(): OtlpStatus;
  /** Stops the timer and makes one last export attempt bounded by `timeoutMs`. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

class ExportFailure extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

const randomIds = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

/** `<base>/v1/<signal>` as OTEL_EXPORTER_OTLP_ENDPOINT does it (the base's own path is kept). */
export function signalUrl(endpoint: string, signal: 'traces' | 'metrics'): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
}

export function createOtlpExporter(opts: OtlpExporterOptions): OtlpExporter {
  const now = opts.now ?? Date.now;
  const newIds = opts.newIds ?? randomIds;
  const resource = resourceOf(opts.version);
  const scope: Scope = { name: 'sluice', version: opts.version };
  const metrics = createMetricsAggregator(now());
  // Rows from the event callback; turned into spans and metric points on the next tick.
  let incoming: LedgerRow[] = [];
  let spans: OtlpSpan[] = [];
  let inFlight: OtlpSpan[] = [];
  let exporting: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let soon = false;
  let closed = false;
  let exportedVersion = 0;
  const abort = new AbortController();
  const st = {
    exportedSpans: 0, metricExports: 0, droppedSpans: 0, failedExports: 0, consecutiveFailures: 0,
    lastError: null as string | null, lastErrorAt: null as string | null, lastSuccessAt: null as string | null,
  };

  const bound = <T>(q: T[], limit: number): T[] => {
    if (q.length <= limit) return q;
    st.droppedSpans += q.length - limit;
    return q.slice(q.length - limit);
  };

  const fail = (err: unknown) => {
    st.failedExports++;
    st.consecutiveFailures++;
    st.lastError = (err as Error).message;
    st.lastErrorAt = new Date(now()).toISOString();
    // One line per failure streak, not per batch: a collector down for an hour is one warning.
    if (st.consecutiveFailures === 1) opts.logger.warn(`observe: OTLP export to ${opts.config().endpoint} failed: ${st.lastError}; spans queue (bounded) until it recovers`);
  };
  const succeed = () => {
    if (st.consecutiveFailures > 0) opts.logger.info(`observe: OTLP export to ${opts.config().endpoint} recovered after ${st.consecutiveFailures} failed attempt(s)`);
    st.consecutiveFailures = 0;
    st.lastSuccessAt = new Date(now()).toISOString();
  };

  const post = async (cfg: OtlpSettings, signal: 'traces' | 'metrics', payload: unknown): Promise<string> => {
    const headers: Record<string, string> = { ...cfg.headers, 'content-type': 'application/json', 'user-agent': `sluice/${opts.version}` };
    if (cfg.secretHeader) {
      let v: string | null;
      try {
        v = await opts.secretHeaderValue();
      } catch (err) {
        throw new ExportFailure(`cannot read the collector credential from the keychain: ${(err as Error).message}`, true);
      }
      if (!v) throw new ExportFailure(`no collector credential in the keychain (account observe:otlp) for header ${cfg.secretHeader}`, true);
      headers[cfg.secretHeader.toLowerCase()] = v;
    }
    let res;
    try {
      res = await request(signalUrl(cfg.endpoint, signal), {
        method: 'POST', headers, body: JSON.stringify(payload),
        signal: AbortSignal.any([AbortSignal.timeout(cfg.timeoutMs), abort.signal]),
        headersTimeout: cfg.timeoutMs, bodyTimeout: cfg.timeoutMs,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
    } catch (err) {
      const e = err as { code?: string; name?: string; message: string };
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${cfg.timeoutMs} ms` : (e.code ?? e.message);
      throw new ExportFailure(`${signal}: ${why}`, true);
    }
    const text = (await res.body.text().catch(() => '')).slice(0, 2000);
    if (res.statusCode >= 200 && res.statusCode < 300) return text;
    // OTLP/HTTP: 429, 502, 503, 504 are retryable; other errors mean the data will never be accepted.
    const retryable = [408, 429, 502, 503, 504].includes(res.statusCode);
    throw new ExportFailure(`${signal}: HTTP ${res.statusCode}${text ? ` ${text.slice(0, 200)}` : ''}`, retryable);
  };

  /** Rows -> metric points and spans. Synchronous and cheap; runs on every tick, even mid-export. */
  const absorb = (cfg: OtlpSettings) => {
    if (incoming.length === 0) return;
    const rows = incoming;
    incoming = [];
    for (const row of rows) {
      const provider = opts.providerNameOf(row);
      if (cfg.metrics) metrics.record(row, provider);
      if (cfg.traces) spans.push(spanFromRow(row, newIds(), provider));
    }
    // The batch in flight counts against the limit: at most maxQueue spans are held in all.
    spans = bound(spans, Math.max(0, cfg.maxQueue - inFlight.length));
  };

  const exportOnce = async (cfg: OtlpSettings): Promise<void> => {
    while (spans.length > 0 && !abort.signal.aborted) {
      // Out of the queue while in flight, so ticks meanwhile cannot evict or resend it.
      inFlight = spans.slice(0, cfg.maxBatch);
      spans = spans.slice(inFlight.length);
      const batch = inFlight;
      try {
        const body = await post(cfg, 'traces', traceRequest(resource, scope, batch));
        inFlight = [];
        const rejected = rejectedOf(body, 'rejectedSpans');
        st.exportedSpans += batch.length - rejected;
        st.droppedSpans += rejected;
        succeed();
      } catch (err) {
        inFlight = [];
        fail(err);
        // A retryable failure puts the batch back in front (still bounded); a refusal drops it.
        if (err instanceof ExportFailure && err.retryable) spans = bound(batch.concat(spans), cfg.maxQueue);
        else st.droppedSpans += batch.length;
        return;
      }
      if (spans.length < cfg.maxBatch) break;
    }
    if (cfg.metrics && metrics.version() !== exportedVersion && !abort.signal.aborted) {
      // Cumulative sums: a failed export loses nothing, the next one carries the totals.
      const v = metrics.version();
      try {
        const body = await post(cfg, 'metrics', metrics.toRequest(resource, scope, now()));
        exportedVersion = v;
        st.metricExports++;
        if (rejectedOf(body, 'rejectedDataPoints') > 0) st.lastError = `metrics: the collector rejected ${rejectedOf(body, 'rejectedDataPoints')} data point(s)`;
        succeed();
      } catch (err) {
        fail(err);
        // A refusal would be refused again: wait for new data before sending the totals again.
        if (!(err instanceof ExportFailure && err.retryable)) exportedVersion = v;
      }
    }
  };

  const tick = (): Promise<void> => {
    soon = false;
    const cfg = opts.config();
    if (!cfg.enabled) {
      incoming = [];
      spans = [];
      return exporting ?? Promise.resolve();
    }
    absorb(cfg);
    if (exporting) return exporting;
    if (spans.length === 0 && metrics.version() === exportedVersion) return Promise.resolve();
    exporting = exportOnce(cfg).finally(() => { exporting = null; });
    return exporting;
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, opts.config().intervalMs);
    // The exporter never keeps a process alive; shutdown calls close().
    timer.unref();
  };
  schedule();

  return {
    enqueue(row) {
      if (closed) return;
      const cfg = opts.config();
      if (!cfg.enabled) return;
      incoming.push(row);
      if (incoming.length > cfg.maxQueue) {
        incoming.shift();
        st.droppedSpans++;
      }
      // A full batch goes out without waiting for the interval, but never from this callback.
      if (incoming.length >= cfg.maxBatch && !soon) {
        soon = true;
        setImmediate(() => { void tick(); });
      }
    },
    flush: async () => {
      await tick();
      // An export that was already running when flush was called did not see the newest rows.
      if (spans.length > 0 || metrics.version() !== exportedVersion) await tick();
    },
    status() {
      const cfg = opts.config();
      return {
        enabled: cfg.enabled, endpoint: cfg.endpoint, queued: incoming.length + spans.length + inFlight.length, queueLimit: cfg.maxQueue,
        exporting: exporting !== null, ...st,
      };
    },
    async close(o = {}) {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      const deadline = new Promise<void>((r) => setTimeout(r, o.timeoutMs ?? 2000).unref());
      await Promise.race([tick().then(() => tick()), deadline]);
      abort.abort();
      await exporting?.catch(() => {});
    },
  };
}

/** partialSuccess.rejectedSpans / rejectedDataPoints of an OTLP JSON response (0 when absent). */
function rejectedOf(body: string, field: 'rejectedSpans' | 'rejectedDataPoints'): number {
  if (!body) return 0;
  try {
    const v = (JSON.parse(body) as { partialSuccess?: Record<string, unknown> }).partialSuccess?.[field];
    const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : 0;
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
