// createGateway(): opens the stores, builds the pipeline and listens on 127.0.0.1. Owns the
// HTTP server's lifecycle (drain on close). Never imports electron, app/ or renderer/.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import { createEventBus, type EventBus } from './events.js';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { createHandler, readBody, type ProxyContext } from './server.js';
import {
  GatewayError, InvalidRequestError, ProviderKeyMissingError, ShuttingDownError, toErrorBody,
} from './errors.js';
import { authenticate, type Caller } from './pipeline/auth.js';
import { ClientAbortError, type ResponseSink } from './pipeline/forward.js';
import { abortableSleep, attemptsOf, sendResilient, type Attempt, type Target } from './pipeline/upstream.js';
import { createResilience, type Resilience } from './pipeline/resilience/index.js';
import { selfAuthorities } from './pipeline/request-target.js';
import { JsonScanError, readField, scanTopLevel } from './pipeline/json-scan.js';
import { openSettings, type SettingsStore } from './store/settings.js';
import { secureDataDir } from './store/file-modes.js';
import { withRequestRevision } from './store/settings-revision.js';
import { createTokenStore, type TokenStore } from './store/tokens.js';
import { createKeychainStore, createProviderKeys, type ProviderKeys, type SecretStore } from './store/secrets.js';
import { createLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { join } from 'node:path';
import { openLedger, type Ledger, type LedgerRow } from './ledger/index.js';
import { loadBundledPrices } from './pricing/index.js';
import { createMetering } from './pipeline/meter.js';
import { createProviderRegistry, type ProviderRegistry } from './providers/registry.js';
import { createModelCatalog } from './providers/models.js';
import { cascadeStepName, createRouter, type RouteDecision, type Router } from './routing/index.js';

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

/** A request as the stages see it, after auth and body read, before forwarding. */
export interface ProxyRequest {
  id: string;
  tsStart: number;
  method: string;
  /** Path and query as received. */
  url: string;
  pathname: string;
  headers: IncomingHttpHeaders;
  caller: Caller;
  /** The bytes to forward. A stage that changes them (redaction, cache breakpoints) records why in `notes`. */
  body: Buffer | null;
  info: MessagesInfo;
  /** Stage annotations (verdicts, reservations), kept in memory for the request's lifetime. */
  notes: Record<string, unknown>;
}

export interface Stage {
  name: string;
  /**
   * Runs in order after auth; throw a GatewayError to refuse the request. May return a
   * callback run once the request is finished, with its ledger row (null when not metered).
   */
  onRequest(req: ProxyRequest): void | ((row: LedgerRow | null) => void) | Promise<void | ((row: LedgerRow | null) => void)>;
  /**
   * Called when the delivered response's headers are about to be written (never for a retried
   * attempt), with a mutable header object; the returned tap sees every body chunk as sent.
   */
  onResponse?(req: ProxyRequest, status: number, headers: Record<string, string | string[]>): ResponseTap | void;
}

export interface ResponseTap {
  chunk(b: Buffer): void;
  end(): void;
}

/** Wraps the client sink so stages with onResponse see the delivered response. */
function tapSink(sink: ResponseSink, preq: ProxyRequest, stages: readonly Stage[], warn: (m: string) => void): ResponseSink {
  const hooked = stages.filter((s) => s.onResponse);
  if (hooked.length === 0) return sink;
  let taps: ResponseTap[] = [];
  const safe = (f: () => void) => { try { f(); } catch (err) { warn(`a response hook failed: ${(err as Error).message}`); } };
  return {
    ...sink,
    start(status, headers) {
      const h = { ...headers };
      taps = [];
      for (const s of hooked) safe(() => { const t = s.onResponse!(preq, status, h); if (t) taps.push(t); });
      sink.start(status, h);
    },
    write(chunk) {
      const more = sink.write(chunk);
      for (const t of taps) safe(() => t.chunk(chunk));
      return more;
    },
    end() {
      sink.end();
      for (const t of taps) safe(() => t.end());
    },
    fail(err) {
      sink.fail(err);
      for (const t of taps) safe(() => t.end());
    },
  };
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

const MESSAGES_PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);
/** The OpenAI-compatible surface: chat clients (OpenAI SDKs, Cline, Continue) post here. */
const CHAT_PATH = '/v1/chat/completions';

/** What the gateway reads from a Messages body; the body itself is forwarded untouched. */
export interface MessagesInfo {
  model: string | null;
  stream: boolean;
  metadataUserId: string | null;
}

export function readMessagesInfo(body: Buffer): MessagesInfo {
  let fields;
  try {
    fields = scanTopLevel(body);
  } catch (err) {
    if (err instanceof JsonScanError) throw new InvalidRequestError(`Request body is not a valid JSON object: ${err.message}.`);
    throw err;
  }
  try {
    const model = readField(body, fields, 'model');
    const stream = readField(body, fields, 'stream');
    const metadata = readField(body, fields, 'metadata') as { user_id?: unknown } | undefined;
    return {
      model: typeof model === 'string' ? model : null,
      stream: stream === true,
      metadataUserId: metadata && typeof metadata === 'object' && typeof metadata.user_id === 'string' ? metadata.user_id : null,
    };
  } catch (err) {
    if (err instanceof JsonScanError) throw new InvalidRequestError(`Request body has ${err.message}.`);
    throw err;
  }
}

function httpSink(res: ServerResponse, requestId: string): ResponseSink {
  let sse = false;
  let encoded = false;
  return {
    start(status, headers) {
      const ct = headers['content-type'];
      sse = typeof ct === 'string' && ct.startsWith('text/event-stream');
      const ce = headers['content-encoding'];
      encoded = ce !== undefined && ce !== 'identity';
      res.writeHead(status, headers);
      // Stream headers go out now, not with the first event: time to first byte matters.
      if (sse) res.flushHeaders();
    },
    write: (chunk) => res.write(chunk),
    onDrain: (resume) => { res.once('drain', resume); },
    end: () => { res.end(); },
    fail(err: GatewayError) {
      if (res.destroyed) return;
      // A plain SSE stream can carry the failure as an error event, as Anthropic does; a
      // compressed or non-SSE body cannot, so the connection is cut and the client sees it.
      if (sse && !encoded) res.end(`event: error\ndata: ${toErrorBody(err, requestId)}\n\n`);
      else res.destroy(err);
    },
  };
}

/**
 * The tier a target serves under a smart route: the classified tier (whichever target of its
 * chain serves), `step-N` for a cascade step, null for a cascade rule's plain fallback.
 */
export function tierOf(route: RouteDecision, t: Target): string | null {
  const smart = route.smart;
  if (!smart) return null;
  if (smart.kind === 'tiers') return smart.tier;
  const i = smart.cascade.tiers.findIndex((s) => s.provider === t.name && s.model === t.model);
  return i === -1 ? null : cascadeStepName(i);
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
  // The dashboard reloads its figures when rows are committed, not when a request ends (the row
  // may still be in the ledger's 100 ms batch then).
  const ledger = opts.ledger === undefined
    ? openLedger(join(opts.dataDir, 'ledger.sqlite'), { onFlush: (f) => events.emit('ledger:flush', { rows: f.rows, inserted: f.inserted }) })
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
  const registry = createProviderRegistry({
    providers: () => settings.get().providers,
    baseUrlOf: (name, cfg) => (name === 'anthropic' ? anthropicBaseUrl(settings, env) : parseBaseUrl(cfg.baseUrl)),
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
  let lastUpstream: LastUpstream | null = null;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const authenticateCaller = async (ctx: ProxyContext): Promise<Caller> => {
    const policy = () => ({
      allowPassthrough: settings.get().security.allowPassthrough,
      verify: (v: string) => tokens.verify(v),
    });
    try {
      return authenticate(ctx.req.headers, policy());
    } catch (err) {
      // A token created in another process in the instant before the file watch saw it.
      if (await settings.reloadIfChanged().catch(() => false)) return authenticate(ctx.req.headers, policy());
      throw err;
    }
  };

  const proxy = async (ctx: ProxyContext): Promise<void> => {
    if (draining) throw new ShuttingDownError();
    inFlight++;
    try {
      await proxyOne(ctx);
    } finally {
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  };

  const proxyOne = async (ctx: ProxyContext): Promise<void> => {
    const { req, res, requestId } = ctx;
    const tsStart = Date.now();
    const caller = await authenticateCaller(ctx);
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? null : await readBody(req);
    const pathname = ctx.url.split('?', 1)[0]!;
    let info: MessagesInfo = { model: null, stream: false, metadataUserId: null };
    const chat = pathname === CHAT_PATH;
    if (chat && (method !== 'POST' || !body || req.headers['content-encoding'])) {
      throw new InvalidRequestError(`${CHAT_PATH} takes a POST with an uncompressed JSON chat completion request.`);
    }
    if (body && method === 'POST' && (MESSAGES_PATHS.has(pathname) || chat) && !req.headers['content-encoding']) {
      info = readMessagesInfo(body);
    }
    if (chat && info.model === null) throw new InvalidRequestError('model: a string is required.');
    const preq: ProxyRequest = { id: requestId, tsStart, method, url: ctx.url, pathname, headers: req.headers, caller, body, info, notes: {} };
    const finishers: ((row: LedgerRow | null) => void)[] = [];
    let finished = false;
    const finish = (row: LedgerRow | null) => {
      if (finished) return;
      finished = true;
      for (const f of finishers) {
        try { f(row); } catch (err) { logger.warn(`a stage's finish hook failed: ${(err as Error).message}`); }
      }
    };
    try {
      for (const stage of stages) {
        const done = await stage.onRequest(preq);
        if (typeof done === 'function') finishers.push(done);
      }
    } catch (err) {
      finish(null);
      throw err;
    }
    const route = router.decide({ pathname, model: info.model, caller, headers: req.headers, body: preq.body, metadataUserId: info.metadataUserId, requestId });
    const models = method === 'GET' && (pathname === '/v1/models' || pathname.startsWith('/v1/models/'))
      ? await router.modelsPlan({ pathname, url: ctx.url, headers: req.headers, rawHeaders: req.rawHeaders })
      : null;
    let targets: Target[] = [];
    let local = models?.kind === 'local' ? models : null;
    if (!local) {
      try {
        targets = await resilience.targetsFor(info.model, caller, route?.chain);
      } catch (err) {
        // Without an Anthropic key the merged list still answers with Sluice's own ids.
        if (models?.kind === 'merge' && err instanceof ProviderKeyMissingError) local = { kind: 'local', status: 200, body: models.fallback };
        else {
          finish(null);
          throw err;
        }
      }
    }
    if (local) {
      // Sluice's own model ids (aliases, `<provider>/<model>`) are answered here, unmetered.
      res.writeHead(local.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(local.body), 'request-id': requestId });
      res.end(local.body);
      finish(null);
      return;
    }
    const forTarget = models?.kind === 'merge' ? models.forTarget : route || chat
      ? router.planner({ format: chat ? 'openai-chat' : 'anthropic', url: ctx.url, pathname, rawHeaders: req.rawHeaders, body: preq.body!, requestedModel: info.model ?? '', requestId, userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : '' })
      : undefined;
    const routeHeader = route ? (route.arm ? `${route.rule}; arm=${route.arm}` : route.rule) : null;
    const smart = route?.smart;
    const smartNotes = smart?.kind === 'tiers' ? { tier: smart.tier, features: smart.features as Record<string, unknown> | null } : {};
    resilience.budget.onRequest();
    const tm = settings.get().timeouts;
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    const sink = tapSink(httpSink(res, requestId), preq, stages, (m) => logger.warn(m));
    const meter = metering.begin({
      id: requestId, tsStart, method, path: pathname, headers: req.headers, caller, info,
      bytesIn: preq.body?.length ?? 0, provider: 'anthropic', keyId: null,
    }, finish);
    if (!meter) res.once('close', () => finish(null));
    events.emit('request:start', {
      id: requestId, ts: tsStart, method, path: pathname, tool: caller.kind === 'token' ? caller.token.name : 'passthrough',
      model: info.model, sessionId: typeof req.headers['x-claude-code-session-id'] === 'string' ? req.headers['x-claude-code-session-id'] : null, stream: info.stream,
    });
    const t0 = performance.now();
    let attempts: Attempt[] = [];
    try {
      const r = await sendResilient({
        dispatcher,
        retry: settings.get().resilience.retry,
        budget: resilience.budget,
        now: () => performance.now(),
        random: Math.random,
        sleep: abortableSleep,
        hooks: meter ?? {},
        servedHeaders: (t, n) => ({
          'x-sluice-served-by': t.model ? `${t.name}; model=${t.model}` : t.name,
          ...(n > 1 ? { 'x-sluice-attempts': String(n) } : {}),
          ...(t.fallback ? { 'x-sluice-fallback': '1' } : {}),
          ...(routeHeader ? { 'x-sluice-route': routeHeader } : {}),
          ...(smart && tierOf(route!, t) !== null ? { 'x-sluice-tier': tierOf(route!, t)! } : {}),
        }),
      }, targets, {
        method, url: ctx.url, rawHeaders: req.rawHeaders, body: preq.body,
        headersTimeoutMs: tm.firstByteMs, bodyTimeoutMs: tm.idleMs, model: info.model,
        ...(info.stream ? { firstAttemptHeadersTimeoutMs: tm.streamFirstByteMs } : {}),
        ...(forTarget ? { forTarget } : {}),
        ...(smart?.kind === 'cascade' ? { cascade: smart.cascade } : {}),
      }, sink, abort.signal);
      attempts = r.attempts;
      const d = r.delivered;
      meter?.annotate({
        provider: r.target.name, keyId: r.keyId,
        routing: {
          target: r.target.name, fallback: r.target.fallback, attempts, ...(route ? { route: route.rule, arm: route.arm } : {}),
          ...smartNotes, ...(smart?.kind === 'cascade' ? { tier: tierOf(route!, r.target) } : {}),
        },
      });
      lastUpstream = { at: new Date().toISOString(), status: d.status, ok: d.status < 500, latencyMs: Math.round(d.ttfbMs), error: null };
      // A cascade's later step is its design, not a failure worth an alert.
      if (r.target.fallback && smart?.kind !== 'cascade') {
        events.emit('alert', { kind: 'fallback', level: 'info', ts: Date.now(), message: `Served by fallback ${r.target.name}${r.target.model ? ` (${r.target.model})` : ''} after ${attempts.length - 1} failed attempt(s)`, data: { requestId, target: r.target.name, model: r.target.model } });
      }
      const end = d.kind === 'started' ? await d.done : { bytes: d.body.length, totalMs: d.totalMs, error: null, aborted: false };
      meter?.onEnd(end);
      if (end.error) logger.warn(`${method} ${pathname} upstream failed mid-response: ${end.error.message}`);
      logger.debug(`${method} ${pathname} ${d.status} ${Math.round(end.totalMs)}ms attempts=${attempts.length} ${caller.kind === 'token' ? `tool=${caller.token.name}` : `passthrough=${caller.credential}`}`);
    } catch (err) {
      // No answer reached the client: the row still keeps every attempt that was made.
      // A request refused before any attempt stores 0 attempts, as the upstream saw none.
      const tried = attemptsOf(err);
      const last = tried[tried.length - 1];
      const target = last?.target ?? targets[0]?.name ?? 'anthropic';
      meter?.annotate({ provider: target, keyId: last?.keyId ?? null, routing: { target, attempts: tried, attemptsMade: tried.length, ...smartNotes } });
      if (err instanceof ClientAbortError) {
        meter?.onFailure(null, performance.now() - t0);
        return;
      }
      const gerr = err instanceof GatewayError ? err : null;
      meter?.onFailure(gerr?.code ?? 'GATEWAY_INTERNAL', performance.now() - t0);
      if (gerr?.retryable) {
        lastUpstream = { at: new Date().toISOString(), status: null, ok: false, latencyMs: Math.round(performance.now() - t0), error: gerr.code };
      }
      throw err;
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
  // The ledger and the extensions' stores have created their SQLite files (-wal, -shm) by now.
  await secureDataDir(opts.dataDir);
  let self: readonly string[] = [];
  // The gateway owns the settings at run time: a hand edit of settings.json applies at once;
  // an invalid one is logged with its paths and ignored (the last good settings stay).
  const stopWatch = opts.watchSettings === false ? () => {} : settings.watch({
    onApplied: () => logger.info(`settings: applied a change to ${settings.path}`),
    onInvalid: (err) => logger.warn(`settings: ignored an invalid edit of ${settings.path}; the previous settings stay in force:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`),
  });
  const selfOrigins = () => (selfUrl ? [selfUrl, selfUrl.replace('127.0.0.1', 'localhost')] : []);

  const handler = createHandler({
    // The gateway's own pages (the dashboard) are same-origin; any other origin must be listed.
    allowedOrigins: () => [...settings.get().security.allowedOrigins, ...selfOrigins()],
    routes: (a) => {
      // Admin writes carry the revision they were based on (If-Match); stale ones get 409.
      a.use('/admin/api', (req, res, next) => withRequestRevision(settings, req, res, next));
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
    lastUpstream,
    resilience: resilience.snapshot(),
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

