// OTLP/JSON encoding of finished requests: one span per ledger row (GenAI semantic conventions)
// and cumulative metrics, shaped as ExportTraceServiceRequest / ExportMetricsServiceRequest.
// Pure data in, plain objects out; imports only ledger types. Never sees a prompt or completion.
import type { LedgerRow } from '../ledger/index.js';

// OTLP/JSON mapping (opentelemetry-proto, docs/specification.md "JSON Protobuf Encoding"):
// lowerCamelCase field names, trace and span ids as hex (not base64), enums as integers,
// 64-bit integers as decimal strings.
const SPAN_KIND_CLIENT = 3;
const STATUS_CODE_ERROR = 2;
const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;

export type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };
export interface KeyValue { key: string; value: AnyValue }

export type AttrValue = string | number | boolean | string[];

/** Integers become intValue (int64 as a string), other numbers doubleValue. Null/undefined are left out. */
export function toAttributes(attrs: Record<string, AttrValue | null | undefined>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    out.push({ key, value: anyValue(v) });
  }
  return out;
}

function anyValue(v: AttrValue): AnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: v.map((s) => ({ stringValue: s })) } };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

const msToNanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

export interface Resource { attributes: KeyValue[] }

export function resourceOf(serviceVersion: string): Resource {
  return { attributes: toAttributes({ 'service.name': 'sluice', 'service.version': serviceVersion }) };
}

/** The GenAI operation a ledger endpoint stands for; Messages (and translated chat completions) are `chat`. */
export function operationOf(row: Pick<LedgerRow, 'endpoint'>): string {
  return row.endpoint === 'messages' ? 'chat' : row.endpoint;
}

/** `gen_ai.usage.input_tokens` includes cached tokens, as the semantic conventions ask. */
export function totalInputTokens(row: Pick<LedgerRow, 'inputTokens' | 'cacheWrite5mTokens' | 'cacheWrite1hTokens' | 'cacheReadTokens'>): number {
  return row.inputTokens + row.cacheWrite5mTokens + row.cacheWrite1hTokens + row.cacheReadTokens;
}

/** USD as a double for telemetry; the exact decimal lives in the ledger and its export. */
export const picoToUsdNumber = (pico: number): number => pico / 1e12;

function isError(row: Pick<LedgerRow, 'status'>): boolean {
  return row.status === null || row.status >= 400;
}

export interface SpanIds { traceId: string; spanId: string }

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status: { code?: number; message?: string };
}

/**
 * One CLIENT span for one finished request. Only metadata the ledger row holds: ids, models,
 * token counts, cost, routing, tags; the row carries no prompt or completion text.
 */
export function spanFromRow(row: LedgerRow, ids: SpanIds, providerName: string): OtlpSpan {
  const op = operationOf(row);
  const model = row.requestedModel ?? row.servedModel;
  const billedUsage = row.billed;
  const attrs: Record<string, AttrValue | null | undefined> = {
    'gen_ai.operation.name': op,
    'gen_ai.provider.name': providerName,
    // Deprecated by gen_ai.provider.name; still read by many backends.
    'gen_ai.system': providerName,
    'gen_ai.request.model': row.requestedModel,
    'gen_ai.response.model': row.servedModel,
    'gen_ai.response.id': row.messageId,
    'gen_ai.response.finish_reasons': row.stopReason === null ? null : [row.stopReason],
    'gen_ai.usage.input_tokens': billedUsage ? totalInputTokens(row) : null,
    'gen_ai.usage.output_tokens': billedUsage ? row.outputTokens : null,
    'gen_ai.usage.cache_creation.input_tokens': billedUsage ? row.cacheWrite5mTokens + row.cacheWrite1hTokens : null,
    'gen_ai.usage.cache_read.input_tokens': billedUsage ? row.cacheReadTokens : null,
    'http.request.method': row.method,
    'http.response.status_code': row.status,
    'error.type': isError(row) ? (row.errorType ?? '_OTHER') : null,
    'sluice.request_id': row.id,
    'sluice.cost_usd': row.billed && row.costPico !== null ? picoToUsdNumber(row.costPico) : null,
    'sluice.unpriced': row.billed && row.costPico === null ? true : null,
    'sluice.session_id': row.sessionId,
    'sluice.tool': row.tool,
    'sluice.stream': row.stream,
    'sluice.attempts': row.attemptsMade ?? 1,
    'sluice.fallback': row.fallback ?? false,
    'sluice.target': row.target ?? row.provider,
    'sluice.ttfb_ms': row.ttfbMs === null ? null : Math.round(row.ttfbMs),
  };
  for (const [k, v] of Object.entries(row.tags ?? {})) attrs[`sluice.tag.${k}`] = v;
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    name: model ? `${op} ${model}` : op,
    kind: SPAN_KIND_CLIENT,
    startTimeUnixNano: msToNanos(row.tsStart),
    endTimeUnixNano: msToNanos(Math.max(row.tsEnd, row.tsStart)),
    attributes: toAttributes(attrs),
    status: isError(row) ? { code: STATUS_CODE_ERROR, message: row.errorType ?? `HTTP ${row.status}` } : {},
  };
}

export interface Scope { name: string; version: string }

export function traceRequest(resource: Resource, scope: Scope, spans: OtlpSpan[]): unknown {
  return { resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] };
}

// Bucket boundaries the GenAI metric conventions advise for these two histograms.
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

interface Histogram { attrs: KeyValue[]; count: number; sum: number; min: number; max: number; buckets: number[] }
interface IntSum { attrs: KeyValue[]; value: number }
interface PicoSum { attrs: KeyValue[]; pico: bigint }

/** Index of the bucket a value falls in: bucket i holds (bounds[i-1], bounds[i]]; the last is unbounded. */
export function bucketIndex(bounds: readonly number[], v: number): number {
  for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]!) return i;
  return bounds.length;
}

/** Attribute sets as map keys: the encoded list is already in a fixed order. */
const keyOf = (attrs: KeyValue[]) => JSON.stringify(attrs);

export interface MetricsAggregator {
  record(row: LedgerRow, providerName: string): void;
  /** Rows recorded so far: an exporter compares it with what it last exported. */
  version(): number;
  toRequest(resource: Resource, scope: Scope, nowMs: number): unknown;
  /** Distinct data points held (bounded by models x tools x status classes x tags). */
  size(): number;
}

/** Cumulative metrics since `startMs`: two GenAI histograms and two Sluice sums. */
export function createMetricsAggregator(startMs: number): MetricsAggregator {
  const tokenUsage = new Map<string, Histogram>();
  const duration = new Map<string, Histogram>();
  const requests = new Map<string, IntSum>();
  const cost = new Map<string, PicoSum>();
  let recorded = 0;

  const observe = (m: Map<string, Histogram>, bounds: readonly number[], attrs: KeyValue[], v: number) => {
    const k = keyOf(attrs);
    let h = m.get(k);
    if (!h) m.set(k, (h = { attrs, count: 0, sum: 0, min: v, max: v, buckets: new Array<number>(bounds.length + 1).fill(0) }));
    h.count++;
    h.sum += v;
    h.min = Math.min(h.min, v);
    h.max = Math.max(h.max, v);
    h.buckets[bucketIndex(bounds, v)]!++;
  };

  return {
    record(row, providerName) {
      recorded++;
      const op = operationOf(row);
      const base = {
        'gen_ai.operation.name': op,
        'gen_ai.provider.name': providerName,
        'gen_ai.request.model': row.requestedModel,
        'gen_ai.response.model': row.servedModel,
      };
      if (row.billed) {
        observe(tokenUsage, TOKEN_BUCKETS, toAttributes({ ...base, 'gen_ai.token.type': 'input' }), totalInputTokens(row));
        observe(tokenUsage, TOKEN_BUCKETS, toAttributes({ ...base, 'gen_ai.token.type': 'output' }), row.outputTokens);
      }
      if (row.totalMs !== null) {
        observe(duration, DURATION_BUCKETS, toAttributes({ ...base, 'error.type': isError(row) ? (row.errorType ?? '_OTHER') : null }), row.totalMs / 1000);
      }
      const tagAttrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(row.tags ?? {})) tagAttrs[`sluice.tag.${k}`] = v;
      const model = row.servedModel ?? row.requestedModel ?? '';
      const statusClass = row.status === null ? 'none' : `${Math.floor(row.status / 100)}xx`;
      const ra = toAttributes({ 'sluice.model': model, 'sluice.tool': row.tool, 'sluice.status_class': statusClass, ...tagAttrs });
      const rk = keyOf(ra);
      const r = requests.get(rk);
      if (r) r.value++;
      else requests.set(rk, { attrs: ra, value: 1 });
      if (row.billed && row.costPico !== null && row.costPico > 0) {
        const ca = toAttributes({ 'sluice.model': model, 'sluice.tool': row.tool, ...tagAttrs });
        const ck = keyOf(ca);
        const c = cost.get(ck);
        // Summed in integer pico-dollars: a long-running gateway adds millions of small costs.
        if (c) c.pico += BigInt(row.costPico);
        else cost.set(ck, { attrs: ca, pico: BigInt(row.costPico) });
      }
    },
    version: () => recorded,
    size: () => tokenUsage.size + duration.size + requests.size + cost.size,
    toRequest(resource, scope, nowMs) {
      const start = msToNanos(startMs);
      const time = msToNanos(nowMs);
      const hist = (m: Map<string, Histogram>, bounds: readonly number[]) => ({
        aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE,
        dataPoints: [...m.values()].map((h) => ({
          attributes: h.attrs, startTimeUnixNano: start, timeUnixNano: time,
          count: String(h.count), sum: h.sum, min: h.min, max: h.max,
          bucketCounts: h.buckets.map(String), explicitBounds: [...bounds],
        })),
      });
      const metrics: unknown[] = [];
      if (tokenUsage.size) metrics.push({ name: 'gen_ai.client.token.usage', description: 'Tokens used per request, by token type (input includes cached tokens).', unit: '{token}', histogram: hist(tokenUsage, TOKEN_BUCKETS) });
      if (duration.size) metrics.push({ name: 'gen_ai.client.operation.duration', description: 'Request duration as the gateway saw it.', unit: 's', histogram: hist(duration, DURATION_BUCKETS) });
      if (requests.size) {
        metrics.push({
          name: 'sluice.requests', description: 'Requests through the gateway by model, tool and status class.', unit: '{request}',
          sum: {
            aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic: true,
            dataPoints: [...requests.values()].map((r) => ({ attributes: r.attrs, startTimeUnixNano: start, timeUnixNano: time, asInt: String(r.value) })),
          },
        });
      }
      if (cost.size) {
        metrics.push({
          name: 'sluice.cost', description: 'Spend of priced requests in USD by model and tool.', unit: 'USD',
          sum: {
            aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic: true,
            dataPoints: [...cost.values()].map((c) => ({ attributes: c.attrs, startTimeUnixNano: start, timeUnixNano: time, asDouble: Number(c.pico) / 1e12 })),
          },
        });
      }
      return { resourceMetrics: [{ resource, scopeMetrics: [{ scope, metrics }] }] };
    },
  };
}
