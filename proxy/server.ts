// Express wiring only: routes to stages, one error handler that writes the envelope. The
// work is done in pipeline/; this file must not grow request logic of its own.
import express, { type Request, type Response, type NextFunction } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { asGatewayError, GatewayError, NotFoundError, toErrorBody } from './errors.js';
import { checkRequestOrigin } from './pipeline/guard.js';
import { allowOrigin, answerPreflight, isPreflight } from './pipeline/cors.js';
import { normalizeRequestTarget, reduceAbsoluteForm } from './pipeline/request-target.js';

export { MAX_BODY_BYTES, readBody } from './pipeline/body.js';

export interface ProxyContext {
  requestId: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** Origin-form path and query: dot-segments resolved, the query exactly as received. */
  url: string;
}

export interface ServerDeps {
  allowedOrigins(): readonly string[];
  health(): unknown;
  /** The authorities an absolute-form request-target may name (`selfAuthorities(port)`). */
  selfAuthorities(): readonly string[];
  proxy(ctx: ProxyContext): Promise<void>;
  /** Extra routes (admin API, dashboard), mounted after the guard and before /v1 and the 404. */
  routes?(app: express.Express): void;
  onError?(err: GatewayError, ctx: { method: string; url: string }): void;
}

// A random per-process prefix and a counter: unique across restarts, and no syscall per request.
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;

export function newRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `sluice_${ID_PREFIX}${idCounter.toString(36).padStart(6, '0')}`;
}

export function sendError(res: ServerResponse, err: GatewayError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = toErrorBody(err, requestId);
  res.writeHead(err.status, {
    ...err.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': requestId,
    'x-sluice-error-code': err.code,
  });
  res.end(body);
}

/**
 * The request handler: `/v1/*` (the hot path) goes straight to the proxy, past express's
 * router; everything else (probes, health, admin, dashboard) goes through express. Both apply
 * the same host/origin guard and error envelope.
 */
export function createHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const app = createApp(deps);
  return (req, res) => {
    let url = req.url ?? '/';
    let requestId = '';
    const fail = (err: unknown) => {
      const gerr = asGatewayError(err);
      deps.onError?.(gerr, { method: req.method ?? 'GET', url });
      sendError(res, gerr, requestId || newRequestId());
    };
    // Absolute-form (RFC 9112 §3.2.2) is routed as its origin-form path, or refused: every
    // route below, express's included, sees only a target naming this gateway.
    if (url.charCodeAt(0) !== 47) {
      try {
        url = reduceAbsoluteForm(url, deps.selfAuthorities());
      } catch (err) {
        fail(err);
        return;
      }
      req.url = url;
    }
    if (!url.startsWith('/v1/')) {
      app(req, res);
      return;
    }
    requestId = newRequestId();
    const origin = req.headers.origin;
    try {
      checkRequestOrigin(req.headers as Record<string, string>, { allowedOrigins: deps.allowedOrigins() });
      // CORS only for a browser origin that passed the guard; without Origin, nothing extra.
      if (origin !== undefined) allowOrigin(res, origin);
      url = normalizeRequestTarget(url, { self: deps.selfAuthorities(), scope: '/v1/' });
    } catch (err) {
      fail(err);
      return;
    }
    if (origin !== undefined && isPreflight(req)) {
      answerPreflight(req, res);
      return;
    }
    deps.proxy({ requestId, req, res, url }).catch(fail);
  };
}

export function createApp(deps: ServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  // Every route, probes included: a page on another site must learn nothing from us.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    checkRequestOrigin(req.headers as Record<string, string>, { allowedOrigins: deps.allowedOrigins() });
    next();
  });

  // Claude Code's start-up probes (HEAD / from Bun; docs name /api/hello): answer at once.
  const hello = (_req: Request, res: Response) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 7 });
    res.end(_req.method === 'HEAD' ? undefined : 'sluice\n');
  };
  app.all('/', hello);
  app.all('/api/hello', hello);

  app.get('/health', (_req: Request, res: Response) => {
    const body = JSON.stringify(deps.health());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  });

  deps.routes?.(app);

  app.all('/v1/{*rest}', async (req: Request, res: Response) => {
    const requestId = newRequestId();
    (req as Request & { sluiceRequestId?: string }).sluiceRequestId = requestId;
    // Express matches /v1 case-insensitively: the same normaliser decides what is forwarded.
    const origin = req.headers.origin;
    if (origin !== undefined) allowOrigin(res, origin);
    const url = normalizeRequestTarget(req.originalUrl, { self: deps.selfAuthorities(), scope: '/v1/' });
    if (origin !== undefined && isPreflight(req)) {
      answerPreflight(req, res);
      return;
    }
    await deps.proxy({ requestId, req, res, url });
  });

  app.use((req: Request) => {
    throw new NotFoundError(req.method, req.originalUrl);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const gerr = asGatewayError(err);
    const requestId = (req as Request & { sluiceRequestId?: string }).sluiceRequestId ?? newRequestId();
    deps.onError?.(gerr, { method: req.method, url: req.originalUrl });
    sendError(res, gerr, requestId);
  });
  return app;
}
