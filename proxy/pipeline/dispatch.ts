// One upstream attempt: sends a request with undici's dispatch API and streams the response into
// a sink chunk by chunk, with backpressure both ways. Takes plain data, never express objects.
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { assertForwardablePath } from './request-target.js';
import { GatewayError, InvalidRequestError, UpstreamClosedError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.js';

/** RFC 9110 §7.6.1 connection-specific fields, plus what undici sets itself. */
const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'http2-settings', 'host', 'content-length', 'expect',
]);
const RESPONSE_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  // Sluice alone decides which browser origins may read its answers (pipeline/cors.ts).
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers',
  'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age',
]);

/**
 * The upstream header list from the client's raw headers (order, case and repeats kept), minus
 * hop-by-hop fields and any named in `Connection`. With `credential`, the client's local token
 * (x-api-key / authorization) is replaced by the provider's header.
 */
export function buildUpstreamHeaders(rawHeaders: readonly string[], credential?: { name: string; value: string }): string[] {
  const drop = new Set(REQUEST_DROP);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const t of rawHeaders[i + 1]!.split(',')) drop.add(t.trim().toLowerCase());
    }
  }
  if (credential) {
    drop.add('x-api-key');
    drop.add('authorization');
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (!drop.has(name.toLowerCase())) out.push(name, rawHeaders[i + 1]!);
  }
  if (credential) out.push(credential.name, credential.value);
  return out;
}

export function responseHeadersForClient(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = new Set<string>();
  const conn = headers.connection;
  if (typeof conn === 'string') for (const t of conn.split(',')) connectionTokens.add(t.trim().toLowerCase());
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || RESPONSE_DROP.has(k) || connectionTokens.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Where the response goes: the client's HTTP response, or a translating transform. */
export interface ResponseSink {
  start(status: number, headers: Record<string, string | string[]>): void;
  /** false: the sink is full; the upstream is paused until `onDrain` fires. */
  write(chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
  end(): void;
  /** The upstream failed after `start`: close the response the least surprising way. */
  fail(err: GatewayError): void;
}

export interface UpstreamRequest {
  origin: string;
  /** Path and query, exactly as the client sent them. */
  path: string;
  method: string;
  headers: string[];
  body: Buffer | null;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface UpstreamEnd {
  bytes: number;
  totalMs: number;
  /** Set when the upstream failed mid-body, or the client went away (`aborted`). */
  error: GatewayError | null;
  aborted: boolean;
}

export interface UpstreamStarted {
  kind: 'started';
  status: number;
  headers: IncomingHttpHeaders;
  /** Time from dispatch to response headers. */
  ttfbMs: number;
  done: Promise<UpstreamEnd>;
}

/** A response kept back from the client (a retry may replace it); see ForwardHooks.hold. */
export interface UpstreamHeld {
  kind: 'held';
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ttfbMs: number;
  totalMs: number;
}

/** The most a held response may buffer before it is streamed to the client after all. */
export const HOLD_LIMIT_BYTES = 1024 * 1024;

export interface ForwardHooks {
  /**
   * Decides at response headers whether to keep this response back (a retryable status the
   * caller may retry). A held body is buffered up to HOLD_LIMIT_BYTES; past that it streams to
   * the client after all and the result is `started`.
   */
  hold?(status: number, headers: IncomingHttpHeaders): boolean;
  /** Response headers arrived (called before any body chunk). Must not throw. */
  onStart?(status: number, headers: IncomingHttpHeaders, ttfbMs: number): void;
  /** Every body chunk, after it was handed to the sink (metering). Must not throw. */
  onChunk?(chunk: Buffer): void;
}

/** Delivers a held response to the client as the upstream sent it. */
export function replayHeld(held: UpstreamHeld, sink: ResponseSink, hooks: ForwardHooks = {}): void {
  sink.start(held.status, responseHeadersForClient(held.headers));
  hooks.onStart?.(held.status, held.headers, held.ttfbMs);
  if (held.body.length) {
    sink.write(held.body);
    hooks.onChunk?.(held.body);
  }
  sink.end();
}

export class ClientAbortError extends Error {
  readonly code = 'CLIENT_ABORTED';
  constructor() {
    super('client closed the connection');
  }
}

/** Socket errors that mean no connection was made (the host is down or unknown). */
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Maps undici / socket errors to the taxonomy; `origin` names the target in messages. With
 * `midResponse` (response headers had arrived), a closed connection is GATEWAY_UPSTREAM_CLOSED,
 * never "could not reach": the upstream was reached and had started answering.
 */
export function upstreamError(err: unknown, origin: string, midResponse?: { bytes: number }): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string };
  const reason = e?.code ? `${e.code}${e.message ? ` (${e.message})` : ''}` : String(e?.message ?? err);
  switch (e?.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UpstreamTimeoutError(origin, 'no response headers within the first-byte (time-to-headers) limit');
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamTimeoutError(origin, 'no data within the idle timeout');
    case 'UND_ERR_INVALID_ARG':
      return new InvalidRequestError(`The request cannot be forwarded: ${e.message}`);
    default:
      if (midResponse) return new UpstreamClosedError(origin, reason, midResponse.bytes, err);
      return new UpstreamUnreachableError(origin, e?.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : reason, err,
        e?.code !== undefined && CONNECT_CODES.has(e.code) ? 'connect' : 'before_headers');
  }
}

/**
 * Dispatches the request. Resolves once response headers arrived and were handed to the sink;
 * rejects with a GatewayError when the upstream failed before that (the caller may retry then,
 * since no byte reached the client). A client abort (`signal`) aborts the upstream at once.
 */
export function forward(
  dispatcher: Dispatcher,
  req: UpstreamRequest,
  sink: ResponseSink,
  signal: AbortSignal,
  hooks: ForwardHooks = {},
  now: () => number = performance.now.bind(performance),
): Promise<UpstreamStarted | UpstreamHeld> {
  // The last check before a key leaves: whatever stage built the path, it stays under the base URL's prefix.
  try {
    assertForwardablePath(req.path);
  } catch (err) {
    return Promise.reject(err);
  }
  const t0 = now();
  return new Promise<UpstreamStarted | UpstreamHeld>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let started = false;
    let settled = false;
    let bytes = 0;
    let holding: { status: number; headers: IncomingHttpHeaders; ttfbMs: number; chunks: Buffer[]; size: number } | null = null;
    let finish!: (end: UpstreamEnd) => void;
    const done = new Promise<UpstreamEnd>((r) => { finish = r; });
    const onAbort = () => controller?.abort(new ClientAbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (end: UpstreamEnd) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      finish(end);
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(new ClientAbortError());
      },
      onResponseStart(c, status, headers) {
        if (status < 200) return; // 1xx informational: not the response
        const ttfbMs = now() - t0;
        if (hooks.hold?.(status, headers)) {
          holding = { status, headers, ttfbMs, chunks: [], size: 0 };
          return;
        }
        started = true;
        sink.start(status, responseHeadersForClient(headers));
        hooks.onStart?.(status, headers, ttfbMs);
        resolve({ kind: 'started', status, headers, ttfbMs, done });
      },
      onResponseData(c, chunk) {
        bytes += chunk.length;
        if (holding) {
          holding.chunks.push(chunk);
          holding.size += chunk.length;
          if (holding.size <= HOLD_LIMIT_BYTES) return;
          // Too big to be an error body worth retrying: it goes to the client after all.
          const h = holding;
          holding = null;
          started = true;
          sink.start(h.status, responseHeadersForClient(h.headers));
          hooks.onStart?.(h.status, h.headers, h.ttfbMs);
          resolve({ kind: 'started', status: h.status, headers: h.headers, ttfbMs: h.ttfbMs, done });
          chunk = Buffer.concat(h.chunks, h.size);
        }
        const more = sink.write(chunk);
        hooks.onChunk?.(chunk);
        if (!more && !c.paused) {
          c.pause();
          sink.onDrain(() => c.resume());
        }
      },
      onResponseEnd() {
        if (holding) {
          const h = holding;
          holding = null;
          signal.removeEventListener('abort', onAbort);
          settled = true;
          resolve({ kind: 'held', status: h.status, headers: h.headers, body: Buffer.concat(h.chunks, h.size), ttfbMs: h.ttfbMs, totalMs: now() - t0 });
          return;
        }
        sink.end();
        settle({ bytes, totalMs: now() - t0, error: null, aborted: false });
      },
      onResponseError(_c, err) {
        const aborted = err instanceof ClientAbortError || signal.aborted;
        if (!started) {
          signal.removeEventListener('abort', onAbort);
          settled = true;
          reject(aborted ? new ClientAbortError() : upstreamError(err, req.origin));
          return;
        }
        const gerr = aborted ? null : upstreamError(err, req.origin, { bytes });
        if (gerr) sink.fail(gerr);
        settle({ bytes, totalMs: now() - t0, error: gerr, aborted });
      },
    };

    try {
      dispatcher.dispatch({
        origin: req.origin,
        path: req.path,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body,
        headersTimeout: req.headersTimeoutMs,
        bodyTimeout: req.bodyTimeoutMs,
      }, handler);
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      reject(upstreamError(err, req.origin));
    }
  });
}
