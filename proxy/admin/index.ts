// The admin extension: mounts the admin JSON API (/admin/api/), its SSE event stream, the
// one-time login (/ui/login) and the built dashboard (/ui/) on the gateway. Talks to the gateway
// only through GatewayInternals; never imports electron, app/ or renderer/.
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Dispatcher } from 'undici';
import { InvalidRequestError } from '../errors.js';
import { anthropicBaseUrl, type GatewayExtension, type GatewayInternals } from '../gateway.js';
import { localDay, systemTzOffset, type TzOffset } from '../ledger/dates.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { withRequestRevision } from '../store/settings-revision.js';
import { AdminError } from './admin-error.js';
import { isJsonContentType } from '../control/admin-guard.js';
import type { LoginUrlResponse, StatusResponse } from './api-types.js';
import { createAdminAuth, LOGIN_CODE_TTL_MS } from './auth.js';
import type { AdminDeps } from './deps.js';
import { createEventStreams } from './events-stream.js';
import { listKeys, mountConfigRoutes } from './routes-config.js';
import { mountLedgerRoutes } from './routes-ledger.js';
import { mountProfileRoutes } from './routes-profiles.js';
import { mountProviderRoutes } from './routes-providers.js';
import { mountReportRoutes } from './routes-report.js';
import { mountRoutingRoutes } from './routes-routing.js';
import { mountToolRoutes } from './routes-tools.js';
import { defaultUiDir, resolveUiFile, securityHeaders, sendUiFile } from './static-ui.js';

export { AdminError, type AdminErrorCode } from './admin-error.js';
export { ADMIN_COOKIE, createAdminAuth, type AdminAuth } from './auth.js';
export { UI_CSP } from './static-ui.js';
export type * from './api-types.js';

export interface AdminOptions {
  /** The built renderer; default `<package root>/renderer/dist`. */
  uiDir?: string;
  /** A fixed admin token (e.g. the Electron main process's); default 32 random bytes. */
  adminToken?: string;
  now?: () => number;
  /** Zone for "today" and "this month"; must match the ledger's. Default the machine's. */
  tz?: TzOffset;
  /** Where tool adapters look (home, platform); default this machine. */
  machine?: AdminDeps['machine'];
  /** SSE heartbeat interval; default 15 s. */
  heartbeatMs?: number;
  dispatcher?: Dispatcher;
}

/** What the CLI banner, `sluice open` and the Electron preload use. */
export interface AdminHandle {
  readonly adminToken: string;
  /** A fresh one-time login URL (valid 5 minutes). Throws before the gateway listens. */
  createLoginUrl(): string;
  /**
   * Writes `{url, port, token, pid}` (mode 0600) for `sluice open` and every settings-changing
   * CLI command in another process; the file is removed when the gateway closes.
   */
  publish(file: string): Promise<void>;
  /** Whether a request carries the admin token or a live session (for other extensions' routes). */
  authorize(req: { headers: { authorization?: string | undefined; cookie?: string | undefined } }): boolean;
}

export type AdminExtension = GatewayExtension & AdminHandle;
export type AdminExtensionFactory = ((internals: GatewayInternals) => AdminExtension) & AdminHandle;

/**
 * @example
 * const admin = adminExtension();
 * const gw = await createGateway({ dataDir, extensions: [admin] });
 * console.log(admin.createLoginUrl());
 */
export function adminExtension(opts: AdminOptions = {}): AdminExtensionFactory {
  const now = opts.now ?? Date.now;
  const auth = createAdminAuth({ token: opts.adminToken, now });
  let internals: GatewayInternals | null = null;
  let published: string | null = null;

  const createLoginUrl = () => {
    const base = internals?.url();
    if (!base) throw new Error('the admin extension is not mounted on a listening gateway yet');
    return `${base}/ui/login?code=${auth.issueLoginCode()}`;
  };
  const publish = async (file: string) => {
    if (!internals?.url()) throw new Error('publish() needs a listening gateway');
    const port = Number(new URL(internals.url()).port);
    await writeFileAtomic(file, `${JSON.stringify({ url: internals.url(), port, token: auth.token, pid: process.pid })}\n`, { backup: false, mode: 0o600 });
    published = file;
  };

  const authorize = (req: { headers: { authorization?: string | undefined; cookie?: string | undefined } }) => {
    try {
      auth.check(req.headers);
      return true;
    } catch {
      return false;
    }
  };

  const make = (g: GatewayInternals): AdminExtension => {
    internals = g;
    g.logger.addSecret(auth.token);
    const deps: AdminDeps = {
      internals: g,
      now,
      tz: opts.tz ?? systemTzOffset,
      machine: opts.machine ?? { home: homedir(), platform: process.platform, cwd: process.cwd() },
      dispatcher: opts.dispatcher,
    };
    const streams = createEventStreams(g.events, { heartbeatMs: opts.heartbeatMs });
    const uiDir = opts.uiDir ?? defaultUiDir();

    const api = express.Router();
    api.use((req: Request, res: Response, next: NextFunction) => {
      res.setHeader('cache-control', 'no-store');
      auth.check(req.headers);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // CSRF defence in depth beside SameSite=Strict: a form post cannot send this type.
        if (!isJsonContentType(req.headers['content-type'])) {
          throw new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', 'State-changing admin requests must send Content-Type: application/json.');
        }
      }
      next();
    });
    const json = express.json({ limit: '1mb', strict: true });
    api.use((req: Request, res: Response, next: NextFunction) => {
      json(req, res, (err?: unknown) => {
        if (err) next(new InvalidRequestError(`Request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`));
        // The parser's callback runs outside the request's context: re-enter it for If-Match.
        else withRequestRevision(g.settings, req, res, next);
      });
    });

    api.get('/status', async (_req: Request, res: Response) => {
      const h = g.health() as Omit<StatusResponse, 'url' | 'upstream' | 'metering' | 'spend' | 'tokens' | 'keys' | 'keychain'>;
      const t = now();
      const day = localDay(t, deps.tz);
      const monthStart = `${day.slice(0, 8)}01`;
      const spend = g.ledger ? { today: g.ledger.totals({ since: day, until: day }), month: g.ledger.totals({ since: monthStart, until: day }), day, monthStart } : null;
      const keys = await listKeys(g.secrets, g.env);
      const body: StatusResponse = {
        status: h.status, version: h.version, url: g.url(), port: h.port, uptimeSeconds: h.uptimeSeconds, inFlight: h.inFlight,
        lastUpstream: h.lastUpstream, upstream: anthropicBaseUrl(g.settings, g.env).href.replace(/\/$/, ''),
        metering: g.settings.get().metering.enabled, spend,
        tokens: { active: g.tokens.list().filter((x) => !x.revokedAt).length },
        keys: keys.keys, keychain: keys.keychain,
        ledger: g.ledger ? g.ledger.storage() : null,
      };
      res.json(body);
    });

    api.post('/login-url', (_req: Request, res: Response) => {
      const body: LoginUrlResponse = { url: createLoginUrl(), expiresInSeconds: LOGIN_CODE_TTL_MS / 1000 };
      res.json(body);
    });

    api.get('/events', (_req: Request, res: Response) => { streams.attach(res); });

    mountLedgerRoutes(api, deps);
    mountReportRoutes(api, deps);
    mountConfigRoutes(api, deps);
    mountToolRoutes(api, deps);
    mountRoutingRoutes(api, deps);
    mountProviderRoutes(api, deps);
    mountProfileRoutes(api, deps);

    api.use((req: Request) => {
      throw new AdminError('ADMIN_NOT_FOUND', `${req.method} ${req.originalUrl.split('?', 1)[0]!.slice(0, 200)} is not an admin API route.`);
    });

    const ui = async (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      const pathname = new URL(req.originalUrl, 'http://ui.invalid').pathname;
      if (pathname === '/ui') {
        res.writeHead(308, { location: '/ui/', ...securityHeaders() });
        res.end();
        return;
      }
      if (pathname === '/ui/login') {
        const code = new URL(req.originalUrl, 'http://ui.invalid').searchParams.get('code') ?? '';
        let session: string;
        try {
          session = auth.redeemLoginCode(code);
        } catch (err) {
          // A browser gets the app, which explains the error and the fix; other clients the envelope.
          const code = (err as { code?: string }).code;
          if ((req.headers.accept ?? '').includes('text/html') && code) {
            res.writeHead(303, { location: `/ui/#/signed-out?error=${encodeURIComponent(code)}`, ...securityHeaders() });
            res.end();
            return;
          }
          throw err;
        }
        // 303 so a reload of the next page never re-sends the spent code.
        res.writeHead(303, { location: '/ui/', 'set-cookie': auth.cookieFor(session), 'cache-control': 'no-store', ...securityHeaders() });
        res.end();
        return;
      }
      let rel: string;
      try {
        rel = decodeURIComponent(pathname.slice('/ui/'.length));
      } catch {
        throw new InvalidRequestError('Malformed percent-encoding in the path.');
      }
      sendUiFile(res, await resolveUiFile(uiDir, rel), req.method);
    };

    return {
      name: 'admin',
      adminToken: auth.token,
      createLoginUrl,
      publish,
      authorize,
      routes(app) {
        app.use('/admin/api', api);
        app.use('/ui', ui);
      },
      async close() {
        streams.close();
        if (published) await rm(published, { force: true });
      },
    };
  };
  return Object.assign(make, { adminToken: auth.token, createLoginUrl, publish, authorize });
}
