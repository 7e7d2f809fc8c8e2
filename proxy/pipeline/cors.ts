// CORS for the proxy surface (/v1 only): a page from an origin listed in security.allowedOrigins
// may call the gateway from a browser. Runs after the guard's checkRequestOrigin passed, so the
// origin here is already an exact, allowed one. The admin API and the dashboard never call this:
// no CORS header there, whatever the settings (a page must not spend money through the admin).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request headers Anthropic's Messages API and its browser SDK send. */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'anthropic-version', 'anthropic-beta', 'x-api-key', 'authorization', 'content-type',
  'anthropic-dangerous-direct-browser-access',
];

export const CORS_ALLOW_METHODS = 'GET, POST, OPTIONS';

/** What a page may read of a response: its id, rate limits (upstream's and ours) and what served it. */
export const CORS_EXPOSE_HEADERS = [
  'request-id', 'retry-after', 'x-should-retry',
  ...['requests', 'tokens', 'input-tokens', 'output-tokens'].flatMap((k) => ['limit', 'remaining', 'reset'].map((f) => `anthropic-ratelimit-${k}-${f}`)),
  'x-sluice-served-by', 'x-sluice-attempts', 'x-sluice-fallback', 'x-sluice-route', 'x-sluice-tier', 'x-sluice-error-code',
].join(', ');

const ALLOW_HEADERS_TEXT = CORS_ALLOW_HEADERS.join(', ');
const ALLOWED = new Set(CORS_ALLOW_HEADERS);
/** An HTTP field name (RFC 9110 token), lower-cased by the browser in the preflight. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,100}$/;

/**
 * Marks a response to an allowed browser origin as readable by it: the exact origin (never `*`,
 * never credentials), `Vary: Origin`, and the headers a page may read. Set before anything is
 * written, so the streamed answer, an error envelope and a local answer all carry them.
 */
export function allowOrigin(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
  res.setHeader('vary', 'Origin');
}

/** A CORS preflight: OPTIONS from a browser, naming the method it means to use. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

/**
 * The names a preflight may be allowed: the fixed list, plus the other field names the page asked
 * for (the Anthropic SDK adds its x-stainless-* headers). The origin is the trust decision; which
 * headers an allowed page sends is not.
 */
export function allowedRequestHeaders(requested: string | undefined): string {
  if (!requested) return ALLOW_HEADERS_TEXT;
  let extra = '';
  for (const raw of requested.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '' || ALLOWED.has(name) || !FIELD_NAME.test(name)) continue;
    extra += `, ${name}`;
  }
  return ALLOW_HEADERS_TEXT + extra;
}

/**
 * Answers a preflight from an allowed origin (after `allowOrigin`): 204, no body, nothing
 * forwarded. A public page calling loopback is asked about by Chromium's Private Network Access
 * (`Access-Control-Request-Private-Network`); the listed origin is allowed that too.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const h = req.headers;
  const requestHeaders = h['access-control-request-headers'];
  const headers: Record<string, string> = {
    'access-control-allow-methods': CORS_ALLOW_METHODS,
    'access-control-allow-headers': allowedRequestHeaders(typeof requestHeaders === 'string' ? requestHeaders : undefined),
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    'content-length': '0',
  };
  if (h['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
  res.writeHead(204, headers);
  res.end();
}
