// Fault modes for the mock upstream (test/mock-upstream.ts): Behavior factories that answer 429s
// per key, 529 bursts, connection resets, stalls, slow first bytes and mid-stream drops. Test
// code only; imports the mock and node built-ins, never proxy/ code.
import type { ServerResponse } from 'node:http';
import {
  anthropicBehavior, messageStreamEvents, send, sendJson, sleep, type Behavior, type RecordedRequest,
} from '../mock-upstream.js';

/** Anthropic's error envelope for a status, as the real API words it. */
const ERROR_TYPES: Record<number, string> = {
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function errorBody(status: number, message = `mock fault ${status}`): Record<string, unknown> {
  return { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message }, request_id: `req_fault_${status}` };
}

/** The credential the gateway sent upstream for this request. */
export function keyOf(req: RecordedRequest): string | null {
  const k = req.headers['x-api-key'];
  return typeof k === 'string' ? k : null;
}

/** An error response with Anthropic's envelope and the given headers (e.g. retry-after). */
export function statusError(status: number, headers: Record<string, string> = {}): Behavior {
  return (req, res) => sendJson(req, res, status, errorBody(status), headers);
}

/** Anthropic's rate-limit headers for one dimension; `resetInMs` from `now` as RFC 3339. */
export function rateLimitHeaders(kind: 'requests' | 'tokens' | 'input-tokens' | 'output-tokens', limit: number, remaining: number, resetInMs: number, now = Date.now()): Record<string, string> {
  return {
    [`anthropic-ratelimit-${kind}-limit`]: String(limit),
    [`anthropic-ratelimit-${kind}-remaining`]: String(remaining),
    [`anthropic-ratelimit-${kind}-reset`]: new Date(now + resetInMs).toISOString(),
  };
}

export interface RateLimitOptions {
  /** Keys (x-api-key values) that are rate limited; every key when omitted. */
  keys?: readonly string[];
  /** `retry-after` seconds; null sends none (some real 429s carry none). */
  retryAfterS?: number | null;
  /** Extra headers, computed per response (ratelimit resets are relative to now). */
  headers?: () => Record<string, string>;
  /** What requests with any other key get. */
  otherwise?: Behavior;
}

/** 429 for the limited keys, as Anthropic answers a key over its limit. */
export function rateLimited(o: RateLimitOptions = {}): Behavior {
  const otherwise = o.otherwise ?? anthropicBehavior;
  return (req, res, mock) => {
    const key = keyOf(req);
    if (o.keys && (key === null || !o.keys.includes(key))) return otherwise(req, res, mock);
    const headers: Record<string, string> = { ...(o.headers?.() ?? {}) };
    if (o.retryAfterS !== null && o.retryAfterS !== undefined) headers['retry-after'] = String(o.retryAfterS);
    sendJson(req, res, 429, errorBody(429, 'Number of request tokens has exceeded your per-minute rate limit'), headers);
  };
}

/** `fault` for the first `n` requests this behavior sees, then `otherwise`. */
export function firstN(n: number, fault: Behavior, otherwise: Behavior = anthropicBehavior): Behavior {
  let seen = 0;
  return (req, res, mock) => (seen++ < n ? fault(req, res, mock) : otherwise(req, res, mock));
}

/** `fault` with probability `ratio` (random injected so a run can be repeated). */
export function randomly(ratio: number, random: () => number, fault: Behavior, otherwise: Behavior = anthropicBehavior): Behavior {
  return (req, res, mock) => (random() < ratio ? fault(req, res, mock) : otherwise(req, res, mock));
}

/** The socket is destroyed before any response byte: the client sees a reset. */
export const connectionReset: Behavior = (_req: RecordedRequest, res: ServerResponse) => {
  res.socket?.destroy();
};

/**
 * No headers until `ms` passed or the client gave up (a first-byte timeout); if the client is
 * still there afterwards, `then` answers.
 */
export function stall(ms: number, then: Behavior = anthropicBehavior): Behavior {
  return async (req, res, mock) => {
    await Promise.race([req.closed, sleep(ms)]);
    if (req.closedEarly || res.destroyed) return;
    await then(req, res, mock);
  };
}

/** A normal answer whose headers come only after `ms` (slow, but within the timeout). */
export const slowFirstByte = (ms: number, then: Behavior = anthropicBehavior): Behavior => stall(ms, then);

/**
 * A 200 stream that sends `events` events (message_start first) and then loses its connection,
 * as when a connection dies mid-answer.
 */
export function dropMidStream(events = 3): Behavior {
  return async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_fault_drop' });
    res.flushHeaders();
    for (const e of messageStreamEvents().slice(0, events)) send(req, res, e);
    // Let the events leave before the reset, so the client has really started.
    await sleep(50);
    res.socket?.destroy();
  };
}
