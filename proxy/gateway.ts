// createGateway(): opens the stores, builds the pipeline and listens on 127.0.0.1. Owns the
// HTTP server's lifecycle (drain on close). Never imports electron, app/ or renderer/.
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { createEventBus, type EventBus } from './events.js';
import { emitProfileSwitches } from './profiles/index.js';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { createHandler, type ProxyContext } from './server.js';
import { ForbiddenOriginError, ShuttingDownError } from './errors.js';
import { createAuth } from './pipeline/auth.js';
import { createGuard } from './pipeline/guard.js';
import { createRoute } from './pipeline/route.js';
import { createForward } from './pipeline/forward.js';
import { createPipeline, type PipelineObserver } from './pipeline/index.js';
import { createResilience, type Resilience } from './pipeline/resilience/index.js';
import { selfAuthorities } from './pipeline/request-target.js';
import { openSettings, type SettingsStore } from './store/settings.js';
import { secureDataDir } from './store/file-modes.js';
import { withRequestRevision } from './store/settings-revision.js';
import { createTokenStore, type TokenStore } from './store/tokens.js';
import { createKeychainStore, createProviderKeys, type ProviderKeys, type SecretStore } from './store/secrets.js';
import { createLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { dirname, join } from 'node:path';
import { openLedger, type Ledger } from './ledger/index.js';
import { loadBundledPrices } from './pricing/index.js';
import { createMetering } from './pipeline/meter.js';
import { createProviderRegistry, type ProviderRegistry } from './providers/registry.js';
import { createModelCatalog } from './providers/models.js';
import { createRouter, type Router } from './routing/index.js';
import type { Stage } from './pipeline/types.js';

export type { MessagesInfo, ProxyRequest, ResponseTap, Stage } from './pipeline/types.js';
export { readMessagesInfo, tierOf } from './pipeline/route.js';

export interface GatewayOptions {
  dataDir: string;
  /** Listening port; 0 picks a free one. Default: SLUICE_PORT, else settings.port. */
  port?: number;
  env?: Record<string, string | undefined>;
  /** The OS keychain by default; null for none (env keys only). */
  secrets?: SecretStore | null;
  /** undici dispatcher for upstream calls; default an Agent with the configured timeouts. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Apply hand edits of settings.json while running (default true). */
  watchSettings?: boolean;
  /** The usage ledger; default `<dataDir>/ledger.sqlite`, null for none. */
  ledger?: Ledger | null;
  /** Features built on the core (admin API and dashboard, control stages, exporters). */
  extensions?: ((internals: GatewayInternals) => GatewayExtension)[];
}

/** What an extension may use: the gateway's stores and event bus, never its HTTP server. */
export interface GatewayInternals {
  dataDir: string;
  env: Record<string, string | undefined>;
  settings: SettingsStore;
  tokens: TokenStore;
  keys: ProviderKeys;
  secrets: SecretStore | null;
  ledger: Ledger | null;
  events: EventBus;
  logger: Logger;
  /** Providers as data, route decisions, the merged model catalogue (abReportFromLedger is in routing/). */
  providers: ProviderRegistry;
  routing: Router;
  health(): Record<string, unknown>;
  /** The gateway's own URL; known once listening (empty before). */
  url(): string;
}

export interface GatewayExtension {
  name: string;
  routes?(app: Express): void;
  stages?: Stage[];
  close?(): void | Promise<void>;
}

export interface LastUpstream {
  at: string;
  status: number | null;
  ok: boolean;
  latencyMs: number;
  error: string | null;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly settings: SettingsStore;
  readonly tokens: TokenStore;
  readonly keys: ProviderKeys;
  readonly ledger: Ledger | null;
  readonly events: EventBus;
  readonly resilience: Resilience;
  readonly providers: ProviderRegistry;
  readonly routing: Router;
  /** Resolves once every finished response's usage row is written to the ledger. */
  flushUsage(): Promise<void>;
  health(): Record<string, unknown>;
  /** Stops accepting, lets in-flight requests (streams included) finish up to `drainMs`, then closes. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

const parsedBase = new Map<string, URL>();

/** A base URL parsed once per value (the same URL object while the value stays the same). */
function parseBaseUrl(raw: string): URL {
  let u = parsedBase.get(raw);
  if (!u) {
    u = new URL(raw);
    if (parsedBase.size > 64) parsedBase.clear();
    parsedBase.set(raw, u);
  }
  return u;
}

/** The one place the Anthropic upstream URL is decided: env override, else settings. Parsed once per value. */
export function anthropicBaseUrl(settings: SettingsStore, env: Record<string, string | undefined>): URL {
  return parseBaseUrl(env.SLUICE_ANTHROPIC_BASE_URL || settings.get().providers.anthropic.baseUrl);
}

export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger();
  // Owner-only data dir and files (POSIX); what an older version left readable is tightened.
  const tightened = await secureDataDir(opts.dataDir);
  if (tightened.changed.length) logger.info(`data dir: ${tightened.changed.length} existing file(s) and folder(s) in ${opts.dataDir} made readable by this user only`);
  const settings = await openSettings(opts.dataDir);
  const tokens = createTokenStore(settings);
  const secrets = opts.secrets === undefined ? createKeychainStore() : opts.secrets;
  let keychainWarned = false;
  const keys = createProviderKeys({
    secrets,
    env,
    onKeychainError: (err) => {
      if (!keychainWarned) logger.warn(err.message);
      keychainWarned = true;
    },
  });
  const events = createEventBus((err, type) => logger.warn(`a ${type} listener failed: ${(err as Error).message}`));
  // Every switch of the active profile, whoever made it, is an event (the window, the tray).
  emitProfileSwitches(settings, events);
  // The dashboard reloads its figures when rows are committed, not when a request ends (the row
  // may still be in the ledger's 100 ms batch then).
  const ledger = opts.ledger === undefined
    ? openLedger(join(opts.dataDir, 'ledger.sqlite'), {
      onFlush: (f) => events.emit('ledger:flush', { rows: f.rows, inserted: f.inserted }),
      // One line when the disk starts refusing usage rows, one when they are written again.
      onStorageState: (st) => {
        if (!st.ok) logger.error(`usage ledger: cannot write to ${st.path} (${st.error}). Requests are still served; their usage rows are held in memory `
          + `(${st.pending} now, the oldest dropped past the spool's bound) and retried every second. Free disk space or make ${dirname(st.path)} writable.`);
        else logger.info(`usage ledger: writing again; ${st.recovered ?? 0} held rows stored${st.dropped > 0 ? `, ${st.dropped} dropped while the disk refused writes` : ''}.`);
      },
    })
    : opts.ledger;
  const prices = await loadBundledPrices();
  const metering = createMetering({
    ledger,
    onRow: (row) => events.emit('request:end', row),
    enabled: () => settings.get().metering.enabled,
    priceBook: () => settings.get().pricing.overrides,
    prices,
    logger,
  });
  const anthropicOverride = env.SLUICE_ANTHROPIC_BASE_URL;
  const registry = createProviderRegistry({
    providers: () => settings.get().providers,
    // The env override is read once: process.env is a getter into the C environment (~1 % of
    // busy time at 2 KB when read per request).
    baseUrlOf: (name, cfg) => (name === 'anthropic' ? parseBaseUrl(anthropicOverride || cfg.baseUrl) : parseBaseUrl(cfg.baseUrl)),
  });
  const resilience = createResilience({
    settings,
    keys,
    onKeys: (list) => { for (const k of list) logger.addSecret(k.key); },
    baseUrlOf: (provider) => registry.get(provider)!.baseUrl,
    kindOf: (provider) => {
      const spec = registry.get(provider);
      return spec ? { wire: spec.wire, auth: spec.auth } : null;
    },
    onBreakerChange: (b, from) => {
      const level = b.state === 'open' ? 'warning' : 'info';
      logger.warn(`circuit breaker for ${b.target}: ${from} -> ${b.state}`);
      events.emit('alert', { kind: 'breaker', level, ts: Date.now(), message: `Upstream ${b.target}: circuit ${b.state.replace('_', '-')}`, data: { ...b, from } });
    },
  });
  const t = settings.get().timeouts;
  const dispatcher = opts.dispatcher ?? new Agent({
    connect: { timeout: t.connectMs },
    headersTimeout: t.firstByteMs,
    bodyTimeout: t.idleMs,
    keepAliveTimeout: 30_000,
    connections: 256,
  });
  const catalog = createModelCatalog({
    registry, keys, dispatcher,
    ttlMs: () => settings.get().routing.modelsCacheMs,
    cacheFile: join(opts.dataDir, 'models-cache.json'),
  });
  const router = createRouter({ providers: () => settings.get().providers, routing: () => settings.get().routing, registry, catalog });
  const startedAt = Date.now();
  /** The last upstream exchange; formatted only when health() is asked. */
  let lastUpstream: (Omit<LastUpstream, 'at'> & { atMs: number }) | null = null;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const proxy = async (ctx: ProxyContext): Promise<void> => {
    if (draining) throw new ShuttingDownError();
    inFlight++;
    try {
      await pipeline(ctx);
    } finally {
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  };

  let selfUrl = '';
  const internals: GatewayInternals = {
    dataDir: opts.dataDir, env, settings, tokens, keys, secrets, ledger, events, logger,
    providers: registry, routing: router,
    health: () => health(), url: () => selfUrl,
  };
  const extensions = (opts.extensions ?? []).map((make) => make(internals));
  const stages: Stage[] = extensions.flatMap((e) => e.stages ?? []);
  const debug = logger.enabled?.('debug') ?? true;
  const observer: PipelineObserver = {
    wantsStart: () => events.listenerCount('request:start') > 0,
    onStart: (p) => events.emit('request:start', {
      id: p.id, ts: p.tsStart, method: p.method, path: p.pathname, tool: p.caller.kind === 'token' ? p.caller.token.name : 'passthrough',
      model: p.info.model, sessionId: typeof p.headers['x-claude-code-session-id'] === 'string' ? p.headers['x-claude-code-session-id'] : null, stream: p.info.stream,
    }),
    onUpstream: (status, ttfbMs) => { lastUpstream = { atMs: Date.now(), status, ok: status < 500, latencyMs: ttfbMs, error: null }; },
    onUpstreamError: (code, ms) => { lastUpstream = { atMs: Date.now(), status: null, ok: false, latencyMs: ms, error: code }; },
    onFallback: (p, r) => events.emit('alert', {
      kind: 'fallback', level: 'info', ts: Date.now(),
      message: `Served by fallback ${r.target.name}${r.target.model ? ` (${r.target.model})` : ''} after ${r.attempts.length - 1} failed attempt(s)`,
      data: { requestId: p.id, target: r.target.name, model: r.target.model },
    }),
    onMidResponseError: (p, err) => logger.warn(`${p.method} ${p.pathname} upstream failed mid-response: ${err.message}`),
    onDone: (p, status, totalMs, attempts) => {
      if (debug) logger.debug(`${p.method} ${p.pathname} ${status} ${Math.round(totalMs)}ms attempts=${attempts} ${p.caller.kind === 'token' ? `tool=${p.caller.token.name}` : `passthrough=${p.caller.credential}`}`);
    },
  };
  const pipeline = createPipeline({
    auth: createAuth({
      allowPassthrough: () => settings.get().security.allowPassthrough,
      verify: (v) => tokens.verify(v),
      reloadIfChanged: () => settings.reloadIfChanged(),
    }),
    guard: createGuard({ stages, warn: (m) => logger.warn(m) }),
    route: createRoute({ router, targetsFor: (model, caller, chain) => resilience.targetsFor(model, caller, chain) }),
    forward: createForward({
      dispatcher,
      settings: () => { const s = settings.get(); return { retry: s.resilience.retry, timeouts: s.timeouts }; },
      budget: resilience.budget,
    }),
    metering,
    observer,
  });
  // The ledger and the extensions' stores have created their SQLite files (-wal, -shm) by now.
  await secureDataDir(opts.dataDir);
  let self: readonly string[] = [];
  // The gateway owns the settings at run time: a hand edit of settings.json applies at once;
  // an invalid one is logged with its paths and ignored (the last good settings stay).
  const stopWatch = opts.watchSettings === false ? () => {} : settings.watch({
    onApplied: () => logger.info(`settings: applied a change to ${settings.path}`),
    onInvalid: (err) => logger.warn(`settings: ignored an invalid edit of ${settings.path}; the previous settings stay in force:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`),
  });
  // Rebuilt only when settings or our URL change: the guard asks on every request.
  let originsFor: readonly string[] | null = null;
  let originsSelf = '';
  let origins: readonly string[] = [];
  const selfOrigins = () => (selfUrl ? [selfUrl, selfUrl.replace('127.0.0.1', 'localhost')] : []);

  const handler = createHandler({
    // The gateway's own pages (the dashboard) are same-origin; any other origin must be listed.
    allowedOrigins: () => {
      const listed = settings.get().security.allowedOrigins;
      if (listed !== originsFor || selfUrl !== originsSelf) {
        originsFor = listed;
        originsSelf = selfUrl;
        origins = [...listed, ...selfOrigins()];
      }
      return origins;
    },
    routes: (a) => {
      a.use('/admin/api', (req, res, next) => {
        // The admin API (every extension's routes too) answers the gateway's own pages only. A
        // listed origin may spend through /v1 with a token; it must not reach the admin with the
        // dashboard's cookie, which SameSite=Strict still sends from another localhost port.
        const origin = req.headers.origin;
        if (origin !== undefined && !selfOrigins().includes(origin)) {
          throw new ForbiddenOriginError(origin, 'The admin API answers only the dashboard Sluice serves; security.allowedOrigins opens /v1 alone.');
        }
        // Admin writes carry the revision they were based on (If-Match); stale ones get 409.
        withRequestRevision(settings, req, res, next);
      });
      for (const e of extensions) e.routes?.(a);
    },
    health: () => health(),
    selfAuthorities: () => self,
    proxy,
    onError: (err, r) => {
      if (err.status >= 500) logger.warn(`${r.method} ${r.url.split('?', 1)[0]} -> ${err.status} ${err.code}: ${err.message}`);
      else logger.debug(`${r.method} ${r.url.split('?', 1)[0]} -> ${err.status} ${err.code}`);
    },
  });

  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, handler);
  const port = opts.port ?? (env.SLUICE_PORT ? Number(env.SLUICE_PORT) : settings.get().port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });
  const actualPort = (server.address() as AddressInfo).port;
  self = selfAuthorities(actualPort);
  const url = `http://127.0.0.1:${actualPort}`;
  selfUrl = url;

  const health = () => ({
    status: draining ? 'draining' : 'ok',
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    port: actualPort,
    inFlight,
    lastUpstream: lastUpstream && {
      at: new Date(lastUpstream.atMs).toISOString(), status: lastUpstream.status, ok: lastUpstream.ok,
      latencyMs: Math.round(lastUpstream.latencyMs), error: lastUpstream.error,
    },
    resilience: resilience.snapshot(),
    ...(ledger ? { ledger: ledger.storage() } : {}),
  });

  let closing: Promise<void> | null = null;
  const close = (o: { drainMs?: number } = {}) => {
    closing ??= (async () => {
      draining = true;
      stopWatch();
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((r) => { idle = r; }),
          new Promise<void>((r) => setTimeout(r, o.drainMs ?? 30_000).unref()),
        ]);
      }
      server.closeAllConnections();
      await stopped;
      if (!opts.dispatcher) await (dispatcher as Agent).close().catch(() => {});
      // Streams have ended: queue their rows, then write them before the process exits.
      await metering.settled();
      for (const e of extensions) await Promise.resolve(e.close?.()).catch((err: unknown) => logger.warn(`extension ${e.name} failed to close: ${(err as Error).message}`));
      ledger?.close();
    })();
    return closing;
  };

  const flushUsage = async () => {
    await metering.settled();
    ledger?.flush();
  };
  return { url, port: actualPort, settings, tokens, keys, ledger, events, resilience, providers: registry, routing: router, flushUsage, health, close };
}

