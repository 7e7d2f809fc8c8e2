// Turns what the gateway knows about one request (its context and the usage tap's report) into
// a ledger row, priced with the price book. Pure; imports meter and pricing types, never the
// pipeline, express or SQLite.
import type { AgentAttribution, ClientInfo, SessionAttribution } from '../meter/attribution.js';
import type { Usage, UsageReport } from '../meter/usage-tap.js';
import { splitCacheWrites, type PriceBook } from '../pricing/cost.js';
import type { AttemptRecord, Endpoint, EstimateReason, LedgerRow } from './types.js';

/** Who called, as the auth stage decided. */
export type CallerInfo = { kind: 'token'; tokenName: string } | { kind: 'passthrough' };

export interface GatewayRequestContext {
  /** The gateway's `sluice_...` request id. */
  id: string;
  tsStart: number;
  tsEnd: number;
  method: string;
  /** Path as received; the query string is dropped. */
  path: string;
  caller: CallerInfo;
  client: ClientInfo;
  session: SessionAttribution;
  agent: AgentAttribution;
  /** `model` from the request body, when it had one. */
  requestedModel: string | null;
  /** `stream: true` in the request body. */
  stream: boolean;
  bytesIn: number;
  provider: string;
  /** The name of the provider key used (`anthropic`, `anthropic:2`), never the key. */
  keyId: string | null;
  ttfbMs: number | null;
  totalMs: number | null;
  /** Upstream `request-id` header. */
  upstreamRequestId: string | null;
  /** Upstream HTTP status; null when no response arrived (then `gatewayErrorCode` says why). */
  status: number | null;
  /** The GatewayError code when Sluice itself failed the request (`GATEWAY_UPSTREAM_TIMEOUT`). */
  gatewayErrorCode?: string | null;
  /** Sluice refused the request before sending it (status is Sluice's own, code its reason). */
  refused?: boolean;
  /** The Message Batches API prices every token at half. */
  batch?: boolean;

  // Routing, as the route/forward stages decided; copied to the row as is (LedgerRow documents
  // the defaults the ledger stores when one is absent).
  /** The upstream target that served the request. */
  target?: string | null;
  attemptsMade?: number;
  /** Served by a fallback target or model rather than the first choice. */
  fallback?: boolean;
  route?: string | null;
  arm?: string | null;
  tags?: Record<string, string> | null;
  tier?: string | null;
  features?: Record<string, unknown> | null;
  /** A guardrail redaction changed the forwarded bytes. */
  redacted?: boolean;
  /** Every upstream attempt, the delivered one included. Only the delivered response is billed. */
  attempts?: AttemptRecord[];
  /** The client left before the response ended (the meter sets it from the forward stage's end). */
  clientLeft?: boolean;
}

/**
 * The routing fields present in `ctx`, copied so a context reused or mutated after the row is
 * queued cannot change it. Absent fields stay absent, so rows of a gateway without routing are
 * exactly what they were before.
 */
function routingOf(ctx: GatewayRequestContext): Partial<LedgerRow> {
  const out: Partial<LedgerRow> = {};
  if (ctx.target !== undefined) out.target = ctx.target;
  if (ctx.attemptsMade !== undefined) out.attemptsMade = ctx.attemptsMade;
  if (ctx.fallback !== undefined) out.fallback = ctx.fallback;
  if (ctx.route !== undefined) out.route = ctx.route;
  if (ctx.arm !== undefined) out.arm = ctx.arm;
  if (ctx.tags !== undefined) out.tags = ctx.tags === null ? null : { ...ctx.tags };
  if (ctx.tier !== undefined) out.tier = ctx.tier;
  if (ctx.features !== undefined) out.features = ctx.features === null ? null : { ...ctx.features };
  if (ctx.redacted !== undefined) out.redacted = ctx.redacted;
  if (ctx.attempts !== undefined) out.attempts = ctx.attempts.map((a) => ({ ...a }));
  return out;
}

/**
 * The route family of a path. OpenAI-style chat completions are translated to Messages
 * upstream, so they bill as `messages`.
 */
export function endpointOf(path: string): Endpoint {
  const p = path.split('?', 1)[0]!.replace(/\/+$/, '');
  if (p === '/v1/messages' || p === '/v1/chat/completions' || p === '/chat/completions') return 'messages';
  if (p === '/v1/messages/count_tokens') return 'count_tokens';
  if (p === '/v1/models' || p.startsWith('/v1/models/')) return 'models';
  if (p === '/v1/messages/batches' || p.startsWith('/v1/messages/batches/')) return 'batches';
  return 'other';
}

export interface TokenSplit {
  inputTokens: number;
  outputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
  webSearchRequests: number;
}

function count(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/**
 * Token counts per price class; the cache-write split is pricing's own rule (splitCacheWrites),
 * so the ledger's columns and the cost always agree.
 */
export function splitUsage(usage: Usage | null): TokenSplit {
  if (usage === null) {
    return { inputTokens: 0, outputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheReadTokens: 0, webSearchRequests: 0 };
  }
  const { write5m: w5, write1h: w1 } = splitCacheWrites(count(usage.cache_creation_input_tokens), usage.cache_creation
    ? { p5: count(usage.cache_creation.ephemeral_5m_input_tokens), p1: count(usage.cache_creation.ephemeral_1h_input_tokens) }
    : null);
  return {
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheWrite5mTokens: w5,
    cacheWrite1hTokens: w1,
    cacheReadTokens: count(usage.cache_read_input_tokens),
    webSearchRequests: count(usage.server_tool_use?.web_search_requests),
  };
}

/**
 * Integer pico-dollars for a billed response, or null when it cannot be priced (unknown model,
 * unpriced web search, or usage the price book rejects). Never throws.
 */
export function costPicoOf(priceBook: PriceBook, model: string | null, usage: Usage, batch = false): number | null {
  if (model === null || model === '') return null;
  try {
    return priceBook.cost(model, usage, { batch }).costPicoUsd;
  } catch {
    // Counts the price book refuses (negative, fractional, over $9,007 for one request) are
    // not a bill we can state; the row stays, unpriced.
    return null;
  }
}

/**
 * The output-token count of a stream that ended before `message_stop`, never below what was
 * delivered. Two figures are at hand:
 * - the usage the stream had reported: `message_start` carries a placeholder (typically
 *   `output_tokens: 1`), and `message_delta`, which holds the real cumulative count, comes only
 *   after the last content block, so a stream cut mid-answer has just the placeholder;
 * - the content deltas that passed to the client: every non-empty text_delta, thinking_delta and
 *   input_json_delta is produced from at least one output token (the API emits a delta per
 *   decoding step or group of steps, never a token spread over two deltas), so their count is a
 *   floor on the output delivered.
 * The larger wins. It is a floor, not a guess: a late cancel is billed at least what the client
 * received (the upstream may have generated a few tokens more that never left it).
 */
export function deliveredOutputFloor(reportedOutput: number, contentDeltas: number): number {
  return Math.max(reportedOutput, contentDeltas);
}

/** Why a Messages response's output is an estimate, or null when the stream ran to its end. */
export function estimateReasonOf(report: UsageReport | null, clientLeft: boolean): EstimateReason | null {
  if (report === null || report.kind !== 'message' || report.complete) return null;
  return clientLeft ? 'client_cancelled' : 'upstream_cut';
}

/**
 * One ledger row for one gateway request. `report` is null when no upstream response arrived.
 *
 * Billed means the upstream charged for it: a 2xx Messages response that reported usage. A
 * stream cut short (client gone, error event after message_start) still bills the tokens the
 * stream reported, which is what Anthropic charges for. count_tokens, models, failed attempts
 * (non-2xx, no response) are not billed and cost 0. With retries or fallbacks, `report` is the
 * delivered response and is the only thing billed; the earlier attempts travel in
 * `ctx.attempts` as metadata.
 */
export function rowFromReport(ctx: GatewayRequestContext, report: UsageReport | null, priceBook: PriceBook): LedgerRow {
  const endpoint = endpointOf(ctx.path);
  const status = report?.status ?? ctx.status;
  let usage = report?.usage ?? null;
  const ok = status !== null && status >= 200 && status < 300;
  const estimated = estimateReasonOf(report, ctx.clientLeft === true);
  if (estimated !== null && usage !== null && report !== null) {
    // Cut short: bill the output the client received, not message_start's placeholder.
    const floor = deliveredOutputFloor(usage.output_tokens, report.contentDeltas ?? 0);
    if (floor !== usage.output_tokens) usage = { ...usage, output_tokens: floor };
  }
  const billed = ok && endpoint === 'messages' && usage !== null;
  const servedModel = report?.servedModel ?? null;
  const tokens = splitUsage(billed ? usage : null);
  const costPico = billed && usage !== null ? costPicoOf(priceBook, servedModel ?? ctx.requestedModel, usage, ctx.batch === true) : 0;
  let errorType = report?.error?.type ?? null;
  // Sluice's own refusal (a guardrail, budget, policy or rate limit) carries its status and code.
  if (errorType === null && ctx.refused === true) errorType = ctx.gatewayErrorCode ?? null;
  if (errorType === null && status === null) errorType = ctx.gatewayErrorCode ?? 'no_response';
  if (errorType === null && status !== null && status >= 400) errorType = `http_${status}`;
  const q = ctx.path.indexOf('?');
  return {
    id: ctx.id,
    tsStart: ctx.tsStart,
    tsEnd: ctx.tsEnd,
    sessionId: ctx.session.sessionId,
    sessionSource: ctx.session.source,
    agentId: ctx.agent.agentId,
    parentAgentId: ctx.agent.parentAgentId,
    tool: ctx.caller.kind === 'token' ? ctx.caller.tokenName : ctx.client.family,
    callerKind: ctx.caller.kind,
    clientFamily: ctx.client.family,
    clientVersion: ctx.client.version,
    method: ctx.method,
    path: q === -1 ? ctx.path : ctx.path.slice(0, q),
    endpoint,
    requestedModel: ctx.requestedModel,
    servedModel,
    stream: ctx.stream,
    status,
    stopReason: report?.stopReason ?? null,
    errorType,
    ttfbMs: ctx.ttfbMs,
    totalMs: ctx.totalMs,
    upstreamRequestId: ctx.upstreamRequestId,
    messageId: report?.messageId ?? null,
    bytesIn: ctx.bytesIn,
    bytesOut: report?.bytes ?? 0,
    provider: ctx.provider,
    keyId: ctx.keyId,
    ...tokens,
    costPico,
    billed,
    complete: report?.complete ?? false,
    source: 'gateway',
    project: null,
    ...routingOf(ctx),
    ...(estimated !== null && billed ? { estimated } : {}),
  };
}
