// The gateway's one error taxonomy: every error Sluice itself raises is a GatewayError with a
// stable `code`, an HTTP status and a `retryable` flag. Only `toErrorBody()` turns one into the
// Anthropic error envelope; stages throw, they never write error JSON. Imports nothing.

/**
 * Statuses are chosen for what the client does with them: the Anthropic SDKs and Claude Code
 * retry 408/409/429/5xx and give up on other 4xx. A gateway error is retryable only where a
 * retry can help (upstream unreachable, draining); configuration and input errors are 4xx so
 * Claude Code shows the message at once instead of retrying for minutes.
 */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  /** The `error.type` in the envelope; starts with `gateway_` except `billing_error` (a budget; clients act on it). */
  readonly type: string;
  readonly retryable: boolean;
  /**
   * Extra response headers: always `x-should-retry` (what the Anthropic SDKs read to decide
   * whether to retry), plus any given (e.g. a truthful retry-after).
   */
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    type: string,
    message: string,
    opts: { retryable?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.type = type;
    this.retryable = opts.retryable ?? false;
    this.headers = { 'x-should-retry': this.retryable ? 'true' : 'false', ...opts.headers };
  }
}

export class UnauthorizedError extends GatewayError {
  constructor(message = 'Missing or unknown Sluice token. Send a token from `sluice token create <name>` as `x-api-key` or `Authorization: Bearer`.') {
    super('GATEWAY_UNAUTHORIZED', 401, 'gateway_authentication_error', message);
  }
}

export class ForbiddenHostError extends GatewayError {
  constructor(host: string) {
    super('GATEWAY_FORBIDDEN_HOST', 403, 'gateway_forbidden_host',
      `Host ${JSON.stringify(host.slice(0, 100))} is not a loopback name; Sluice only answers requests addressed to 127.0.0.1, localhost or [::1] (DNS rebinding protection).`);
  }
}

export class ForbiddenOriginError extends GatewayError {
  constructor(origin: string, why = 'Add it to security.allowedOrigins in Sluice\'s settings to let that page call the gateway.') {
    super('GATEWAY_FORBIDDEN_ORIGIN', 403, 'gateway_forbidden_origin',
      `Browser origin ${JSON.stringify(origin.slice(0, 200))} is not allowed. ${why}`);
  }
}

export class ProviderKeyMissingError extends GatewayError {
  constructor(provider: string) {
    super('GATEWAY_PROVIDER_KEY_MISSING', 403, 'gateway_provider_key_missing',
      `No API key is configured for provider "${provider}". Run \`sluice key set ${provider}\` (reads the key from stdin) or set SLUICE_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY.`);
  }
}

export class InvalidRequestError extends GatewayError {
  constructor(message: string) {
    super('GATEWAY_INVALID_REQUEST', 400, 'gateway_invalid_request_error', message);
  }
}

/**
 * A request-target Sluice will not forward with a provider key: absolute-form naming another
 * host, or a path that leaves /v1/ or hides a dot-segment (see pipeline/request-target.ts).
 */
export class RequestTargetRefusedError extends GatewayError {
  constructor(reason: string) {
    super('GATEWAY_REQUEST_TARGET_REFUSED', 400, 'gateway_request_target_refused',
      `The request-target was refused: ${reason}. Send the path in origin-form (e.g. POST /v1/messages) to Sluice's own address.`);
  }
}

export class BodyTooLargeError extends GatewayError {
  constructor(limit: number) {
    super('GATEWAY_BODY_TOO_LARGE', 413, 'gateway_request_too_large',
      `Request body exceeds ${Math.round(limit / (1024 * 1024))} MB, the Messages API limit.`);
  }
}

export class NotFoundError extends GatewayError {
  constructor(method: string, path: string) {
    super('GATEWAY_NOT_FOUND', 404, 'gateway_not_found_error',
      `${method} ${path.slice(0, 200)} is not a Sluice route. The Anthropic API is served under /v1/.`);
  }
}

/**
 * Upstream failures come in three kinds, each its own type so a client (and the ledger) can
 * tell them apart: the connection could not be made (or was closed before any answer), no
 * response headers came within the time-to-headers limit, or the upstream closed the
 * connection after it had started answering.
 */
export class UpstreamUnreachableError extends GatewayError {
  /** `connect`: no connection was made; `before_headers`: connected, then closed without an answer. */
  readonly phase: 'connect' | 'before_headers';
  constructor(target: string, reason: string, cause?: unknown, phase: 'connect' | 'before_headers' = 'connect') {
    super('GATEWAY_UPSTREAM_UNREACHABLE', 502, 'gateway_upstream_unreachable',
      phase === 'connect'
        ? `Could not connect to upstream ${target}: ${reason}`
        : `Upstream ${target} closed the connection before sending a response: ${reason}`,
      { retryable: true, cause });
    this.phase = phase;
  }
}

export class UpstreamTimeoutError extends GatewayError {
  constructor(target: string, phase: string) {
    super('GATEWAY_UPSTREAM_TIMEOUT', 504, 'gateway_upstream_timeout',
      `Upstream ${target} did not answer in time (${phase}).`, { retryable: true });
  }
}

export class UpstreamClosedError extends GatewayError {
  constructor(target: string, reason: string, bytes: number, cause?: unknown) {
    super('GATEWAY_UPSTREAM_CLOSED', 502, 'gateway_upstream_closed',
      `Upstream ${target} answered, then closed the connection mid-response after ${bytes} body bytes: ${reason}. The response is incomplete; Sluice never retries a response that has started.`,
      { retryable: true, cause });
  }
}

export class ShuttingDownError extends GatewayError {
  constructor() {
    super('GATEWAY_SHUTTING_DOWN', 503, 'gateway_unavailable',
      'Sluice is shutting down and takes no new requests.', { retryable: true, headers: { 'retry-after': '1' } });
  }
}

export class InternalError extends GatewayError {
  constructor(cause?: unknown) {
    super('GATEWAY_INTERNAL', 500, 'gateway_internal_error', 'Sluice hit an internal error; the request was not forwarded.', { cause });
  }
}

/** Wraps anything thrown into a GatewayError (unknown errors become GATEWAY_INTERNAL). */
export function asGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : new InternalError(err);
}

/** Anthropic's error envelope: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function toErrorBody(err: GatewayError, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type: err.type, message: err.message }, request_id: requestId });
}
