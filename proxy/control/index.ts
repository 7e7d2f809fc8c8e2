// The control plane as a gateway extension: tool-token policies, rate limits, budgets with
// alerts, guardrails, prompt-cache injection and body capture as request stages, plus the
// /admin/api/control routes. Uses only GatewayInternals (never the HTTP server or gateway.ts code).
import type { IncomingMessage } from 'node:http';
import type { GatewayExtension, GatewayInternals, ProxyRequest, Stage } from '../gateway.js';
import type { LedgerRow } from '../ledger/index.js';
import { localDay, localDayStart, nextDay, systemTzOffset, type TzOffset } from '../ledger/dates.js';
import { sessionIdFrom } from '../meter/attribution.js';
import { maxTokensOf } from '../json-scan.js';
import { createPriceBook, loadBundledPrices, parsePriceOverrides, type ModelPrice, type PriceBook, type PriceTable } from '../pricing/index.js';
import { createBudgetEngine, formatUsd, type BudgetLimit, type BudgetStatus } from './budgets.js';
import { injectCacheBreakpoints } from './cache-inject.js';
import { createCaptureStore, type CaptureStatus, type ResponseTap } from './capture.js';
import { settingsControlConfig } from './config.js';
import { GuardrailBlockedError, PolicyDeniedError, RateLimitedError } from './errors.js';
import { estimateCost, estimateInputTokens, worstCasePrice } from './estimate.js';
import { compileGuard, describeDetector, globMatch, policyFor, scanMessagesBody } from './guardrails.js';
import { createRateLimiter, type BucketLimits, type RateLimitState } from './rate-limit.js';
import { mountControlRoutes } from './routes.js';
import { accountKey, budgetUnifiedHeaders, createUsageLimitsStore, UNIFIED_PREFIX, parseUnifiedHeaders, presentedCredential, type UsageLimitsStore } from './unified-limits.js';
import type { ControlSettings, TokenPolicy } from './schema.js';
import { controlDbPath, openControlStore, type AlertRecord, type ControlStore } from './store.js';

export { ControlSettingsSchema, parseControlSettings, defaultControlSettings, type ControlSettings, type TokenPolicy } from './schema.js';
export { runControlCli, isControlCommand, CONTROL_HELP } from './cli.js';
export { settingsControlConfig, type ControlConfig } from './config.js';
export * from './errors.js';

/**
 * PROPOSED addition to the gateway's Stage (not in gateway.ts yet): called when upstream response
 * headers arrive, before they are written, with a mutable header object (a stage may add one,
 * e.g. `x-sluice-capture: on`); the returned tap gets every body chunk as sent and `end()`.
 */
export interface ResponseHookStage extends Stage {
  onResponse?(req: ProxyRequest, status: number, headers: Record<string, string | string[]>): ResponseTap | void;
}

export interface ControlExtensionOptions {
  /** The control section; default `settings.control` read through ControlSettingsSchema. */
  config?: () => ControlSettings;
  /** Persists an edited section (admin routes); default writes `settings.control`. */
  saveConfig?: (next: ControlSettings) => Promise<void>;
  /** The admin API's check; without one every control route answers 401. */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  now?: () => number;
  /** Zone for the local-midnight and month-start rollovers; default the machine's. */
  tz?: TzOffset;
  prices?: PriceTable;
  /** control.sqlite location; default `<dataDir>/control.sqlite`. */
  storePath?: string;
}

/** One tool token's rate-limit buckets, refilled to the moment of the status call. */
export interface RateLimitStatus extends RateLimitState {
  token: string;
}

export interface ControlStatus {
  capture: CaptureStatus;
  rateLimits: RateLimitStatus[];
  budgets: (BudgetStatus & { settledUsd: number; reservedUsd: number })[];
  alerts: AlertRecord[];
}

export interface ControlExtension extends GatewayExtension {
  stages: ResponseHookStage[];
  status(): Promise<ControlStatus>;
  store: ControlStore;
  /** Subscription window state read from Anthropic's unified rate-limit headers (OAuth traffic). */
  usageLimits: UsageLimitsStore;
}

const MESSAGES = '/v1/messages';
const GUARDED = new Set(['/v1/messages', '/v1/messages/count_tokens']);

const usdToPico = (usd: number | null | undefined) => (usd === null || usd === undefined ? 0 : Math.round(usd * 1e12));

function callerName(req: ProxyRequest): string {
  return req.caller.kind === 'token' ? req.caller.token.name : 'passthrough';
}

/** End of a policy's validity: a date is valid through that local day; a date-time is exact. */
export function expiryInstant(expires: string, tz: TzOffset): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? localDayStart(nextDay(expires), tz) : Date.parse(expires);
}

function monthStart(month: string, tz: TzOffset): number {
  return localDayStart(`${month}-01`, tz);
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

function tokensOf(row: LedgerRow): number {
  return row.inputTokens + row.outputTokens + row.cacheWrite5mTokens + row.cacheWrite1hTokens + row.cacheReadTokens;
}

/**
 * The control plane. Pass it to createGateway's `extensions`.
 *
 * @example
 * createGateway({ dataDir, extensions: [controlExtension({ authorize: adminAuth })] });
 */
export function controlExtension(opts: ControlExtensionOptions = {}): (internals: GatewayInternals) => ControlExtension {
  return (internals) => {
    const now = opts.now ?? Date.now;
    const tz = opts.tz ?? systemTzOffset;
    const fromSettings = settingsControlConfig(internals.settings);
    const config = opts.config ?? (() => fromSettings.get());
    const saveConfig = opts.saveConfig ?? (async (next: ControlSettings) => { await fromSettings.save(next); });
    const store = openControlStore(opts.storePath ?? controlDbPath(internals.dataDir));
    const ledger = internals.ledger;

    const emitAlert = (a: Omit<AlertRecord, 'id'>): boolean => {
      let fresh = true;
      try { fresh = store.recordAlert(a); } catch (err) { internals.logger.warn(`control: could not record an alert: ${(err as Error).message}`); }
      if (fresh) internals.events.emit('alert', { kind: a.kind, level: a.level, message: a.message, ts: a.ts, ...(a.data ? { data: a.data } : {}) });
      return fresh;
    };

    // Prices: bundled table (read once) + the user's overrides, rebuilt when those change.
    let table: PriceTable | null = opts.prices ?? null;
    const tableReady = table ? Promise.resolve(table) : loadBundledPrices().then((t) => { table = t; return t; });
    let bookFor: unknown = Symbol('none');
    let book: PriceBook | null = null;
    let fallback: ModelPrice | null = null;
    const prices = async (): Promise<{ book: PriceBook; fallback: ModelPrice }> => {
      const t = table ?? (await tableReady);
      const overrides = internals.settings.get().pricing.overrides;
      if (book === null || overrides !== bookFor) {
        try { book = createPriceBook(t, parsePriceOverrides(overrides)); } catch { book = createPriceBook(t); }
        bookFor = overrides;
        fallback = worstCasePrice(t);
      }
      return { book, fallback: fallback! };
    };

    const engine = createBudgetEngine({
      onThreshold: ({ limit, threshold, settledPico }) => {
        const pct = Math.round(threshold * 100);
        emitAlert({
          ts: now(), kind: 'budget', level: threshold >= 1 ? 'critical' : threshold >= 0.8 ? 'warning' : 'info',
          message: `${limit.label[0]!.toUpperCase()}${limit.label.slice(1)} is at ${pct}%: ${formatUsd(settledPico)} of ${formatUsd(limit.limitPico)} (${limit.period}).${threshold >= 1 ? ` Requests are refused until the period ends; to raise it: ${limit.howToRaise}.` : ''}`,
          onceKey: `${limit.id}@${limit.period}#${threshold}`,
          data: { budget: limit.id, period: limit.period, threshold, spentUsd: settledPico / 1e12, limitUsd: limit.limitPico / 1e12 },
        });
      },
    });

    const settledFromLedger = (load: () => number | null | undefined) => () => {
      if (!ledger) return 0;
      ledger.flush();
      return usdToPico(load());
    };

    // The current local day and month and their bounds, recomputed only when the day turns over.
    // (Reset labels too: building them per request parsed and printed two dates each time.)
    type Periods = {
      day: string; month: string; dayRange: { since: number; until: number }; monthRange: { since: number; until: number };
      daily: { resetsAt: number; resetsLabel: string }; monthly: { resetsAt: number; resetsLabel: string };
    };
    let periods: Periods | null = null;
    const periodsAt = (t: number): Periods => {
      if (periods && t >= periods.dayRange.since && t < periods.dayRange.until) return periods;
      const day = localDay(t, tz);
      const month = day.slice(0, 7);
      const dayRange = { since: localDayStart(day, tz), until: localDayStart(nextDay(day), tz) };
      const monthRange = { since: monthStart(month, tz), until: monthStart(nextMonth(month), tz) };
      periods = {
        day, month, dayRange, monthRange,
        daily: { resetsAt: dayRange.until, resetsLabel: `${nextDay(day)} 00:00` },
        monthly: { resetsAt: monthRange.until, resetsLabel: `${nextMonth(month)}-01 00:00` },
      };
      return periods;
    };

    const limitsFor = (req: ProxyRequest, cfg: ControlSettings, policy: TokenPolicy | undefined): BudgetLimit[] => {
      const { day, month, dayRange, monthRange, daily, monthly } = periodsAt(now());
      const b = cfg.budgets;
      const out: BudgetLimit[] = [];
      if (b.dailyUsd !== null) {
        out.push({ id: 'daily', label: 'the daily budget (all tools)', period: day, limitPico: usdToPico(b.dailyUsd), howToRaise: '`sluice budget set daily <usd>`', load: settledFromLedger(() => ledger?.totals(dayRange).costUsd), ...daily });
      }
      if (b.monthlyUsd !== null) {
        out.push({ id: 'monthly', label: 'the monthly budget (all tools)', period: month, limitPico: usdToPico(b.monthlyUsd), howToRaise: '`sluice budget set monthly <usd>`', load: settledFromLedger(() => ledger?.totals(monthRange).costUsd), ...monthly });
      }
      const session = b.sessionUsd === null ? null : sessionIdFrom(req.headers, req.info.metadataUserId ?? undefined).sessionId;
      if (b.sessionUsd !== null && session !== null) {
        out.push({ id: `session:${session}`, label: `the per-session budget (session ${session})`, period: 'lifetime', limitPico: usdToPico(b.sessionUsd), howToRaise: '`sluice budget set session <usd>` (or start a new session)', load: settledFromLedger(() => ledger?.getSession(session, { limit: 1 })?.session.costUsd) });
      }
      if (policy && req.caller.kind === 'token') {
        const name = req.caller.token.name;
        const ofTool = (range: { since: number; until: number }) => () => ledger?.report({ by: 'tool', ...range }).find((r) => r.key === name)?.costUsd;
        if (policy.dailyUsd !== null) out.push({ id: `token:${name}:daily`, label: `the daily budget of token "${name}"`, period: day, limitPico: usdToPico(policy.dailyUsd), howToRaise: `\`sluice budget set daily <usd> --token ${name}\``, load: settledFromLedger(ofTool(dayRange)), ...daily });
        if (policy.monthlyUsd !== null) out.push({ id: `token:${name}:monthly`, label: `the monthly budget of token "${name}"`, period: month, limitPico: usdToPico(policy.monthlyUsd), howToRaise: `\`sluice budget set monthly <usd> --token ${name}\``, load: settledFromLedger(ofTool(monthRange)), ...monthly });
      }
      return out;
    };

    /** Reserves a request's estimated cost against the budgets that apply to it (control:budget). */
    const reserveBudgets = async (req: ProxyRequest & { body: Buffer }, cfg: ControlSettings, limits: BudgetLimit[]): Promise<(row: LedgerRow | null) => void> => {
      const { book, fallback } = await prices();
      const est = estimateCost(book, fallback, req.info.model, req.body, maxTokensOf(req.body));
      const thresholds = cfg.budgets.alertAt;
      // On the user's API key Sluice's budgets are the caps: announce the fullest one to
      // Claude Code in its unified-headers shape, and refuse in its billing_error shape with
      // them. Never on subscription (OAuth) traffic: its windows are Anthropic's.
      const ownKey = req.caller.kind === 'token' || req.caller.credential === 'api-key';
      const reservation = engine.reserve(limits, est.pico, thresholds, { now: now(), unified: ownKey });
      req.notes.budgetReservation = { estimateUsd: est.pico / 1e12, pricedAs: est.pricedAs, budgets: limits.map((l) => l.id) };
      if (ownKey) {
        const fullest = fullestBudget(limits);
        if (fullest !== null) req.notes.budgetHeaders = budgetUnifiedHeaders(fullest);
      }
      return (row) => {
        // Unpriced but billed: the real cost is unknown, so the estimate stays spent.
        const actual = row === null || !row.billed ? 0 : row.costPico ?? est.pico;
        engine.settle(reservation, actual, config().budgets.alertAt);
      };
    };

    /** The budget with the most of it spent that has a reset (a session budget has none), for Claude Code. */
    const fullestBudget = (limits: BudgetLimit[]): { utilization: number; resetsAt: number } | null => {
      const { dayRange, monthRange } = periodsAt(now());
      const spent = new Map(engine.status().map((e) => [`${e.id}@${e.period}`, e.settledPico]));
      let best: { utilization: number; resetsAt: number } | null = null;
      for (const l of limits) {
        if (l.period === 'lifetime' || l.limitPico <= 0) continue;
        const resetsAt = l.period.length === 7 ? monthRange.until : dayRange.until;
        const utilization = (spent.get(`${l.id}@${l.period}`) ?? 0) / l.limitPico;
        if (best === null || utilization > best.utilization) best = { utilization, resetsAt };
      }
      return best;
    };

    const limiter = createRateLimiter(now);
    const bucketLimits = (p: TokenPolicy): BucketLimits => ({ rpm: p.requestsPerMinute, tpm: p.tokensPerMinute, burstRequests: p.burstRequests, burstTokens: p.burstTokens });
    const capture = createCaptureStore({ dataDir: internals.dataDir, now, settings: () => config().capture, onError: (err) => internals.logger.warn(`control: capture failed: ${err.message}`) });

    // Capture must be impossible to miss: a warning line and an alert whenever it is (or turns) on.
    let captureWasOn = false;
    const noticeCapture = () => {
      const c = config().capture;
      if (c.enabled === captureWasOn) return;
      captureWasOn = c.enabled;
      const message = c.enabled
        ? `Body capture is ON: request bodies${c.tokens.length ? ` of ${c.tokens.join(', ')}` : ''} are written (redacted) to ${capture.dir}, kept ${c.retentionHours} h, up to ${c.maxTotalMb} MB. Turn it off with \`sluice capture off\`.`
        : 'Body capture is off.';
      if (c.enabled) internals.logger.warn(message);
      emitAlert({ ts: now(), kind: 'capture', level: c.enabled ? 'warning' : 'info', message, onceKey: null, data: { enabled: c.enabled } });
    };
    noticeCapture();
    const sweepTimer = setInterval(() => { void capture.sweep().catch(() => {}); }, 10 * 60_000);
    sweepTimer.unref();
    void capture.sweep().catch(() => {});

    const policyOf = (req: ProxyRequest, cfg: ControlSettings) => (req.caller.kind === 'token' ? cfg.tokens[req.caller.token.name] : undefined);

    const usageLimits = createUsageLimitsStore(internals.dataDir, { onError: (err) => internals.logger.warn(`control: could not save usage limits: ${err.message}`) });

    const stages: ResponseHookStage[] = [
      {
        // Reads only: Anthropic's window state on subscription (OAuth) traffic reaches the client unchanged.
        name: 'control:usage-limits',
        onRequest() {},
        onResponse(req, _status, headers) {
          if (req.caller.kind !== 'passthrough' || req.caller.credential !== 'oauth') return;
          const obs = parseUnifiedHeaders(headers, now());
          if (obs === null) return;
          const account = accountKey(req.info.metadataUserId, presentedCredential(req.headers as Record<string, string | string[] | undefined>));
          if (account !== null) usageLimits.record(account, obs);
        },
      },
      {
        name: 'control:policy',
        onRequest(req) {
          const policy = policyOf(req, config());
          if (!policy || req.caller.kind !== 'token') return;
          const name = req.caller.token.name;
          if (policy.expires !== null && now() >= expiryInstant(policy.expires, tz)) {
            throw new PolicyDeniedError('expires', `Sluice token "${name}" expired on ${policy.expires} (policy rule "expires"). Extend it with \`sluice token policy ${name} --expires <YYYY-MM-DD>\`.`);
          }
          if (policy.models.length > 0 && req.pathname.startsWith(MESSAGES) && req.info.model !== null && !policy.models.some((g) => globMatch(g, req.info.model!))) {
            throw new PolicyDeniedError('models', `Sluice token "${name}" may not use model "${req.info.model.slice(0, 100)}" (policy rule "models" allows ${policy.models.join(', ')}). Change it with \`sluice token policy ${name} --models <globs>\`.`);
          }
        },
      },
      {
        name: 'control:guardrails',
        onRequest(req) {
          if (req.method !== 'POST' || !GUARDED.has(req.pathname) || !req.body || req.headers['content-encoding']) return;
          const policy = policyFor(config().guardrails.policies, callerName(req));
          const guard = policy && compileGuard(policy);
          // Zero cost when no guard applies: nothing below runs.
          if (!guard) return;
          const verdict = scanMessagesBody(req.body, guard);
          if (verdict.hits.length === 0) return;
          const data = { requestId: req.id, tool: callerName(req), policy: guard.policy, hits: verdict.hits, redacted: verdict.redacted };
          if (verdict.blocked.length) {
            const first = verdict.blocked[0]!;
            const names = [...new Set(verdict.blocked.map((h) => h.detector))];
            emitAlert({ ts: now(), kind: 'guardrail', level: 'warning', message: `Blocked a request of ${callerName(req)}: ${names.join(', ')}.`, onceKey: null, data });
            throw new GuardrailBlockedError(names, `Sluice blocked this request before it left the machine: it contains ${describeDetector(first.detector)} (guardrail "${first.detector}", policy "${guard.policy}") in ${first.location}${verdict.blocked.length > 1 ? ` and ${verdict.blocked.length - 1} more place(s)` : ''}. The value is not shown. Remove it, or change the guardrail's action in Sluice's control settings.`);
          }
          req.notes.guardrails = data;
          if (verdict.changed) {
            req.notes.guardrailBytes = { before: req.body.length, after: verdict.body.length };
            req.body = verdict.body;
          }
          emitAlert({ ts: now(), kind: 'guardrail', level: verdict.changed ? 'warning' : 'info', message: `${verdict.changed ? 'Redacted' : 'Flagged'} ${[...new Set(verdict.hits.map((h) => h.detector))].join(', ')} in a request of ${callerName(req)}.`, onceKey: null, data });
        },
      },
      {
        name: 'control:rate-limit',
        onRequest(req) {
          const policy = policyOf(req, config());
          if (!policy || req.caller.kind !== 'token' || (policy.requestsPerMinute === null && policy.tokensPerMinute === null)) return;
          const name = req.caller.token.name;
          const billed = req.method === 'POST' && req.pathname === MESSAGES && req.body !== null;
          const estimate = billed ? estimateInputTokens(req.body!.length) + (maxTokensOf(req.body!) ?? 0) : 0;
          const r = limiter.take(name, bucketLimits(policy), estimate);
          if (!r.ok) {
            const burst = r.limit === 'requests_per_minute' ? policy.burstRequests : policy.burstTokens;
            const what = (r.limit === 'requests_per_minute' ? `${policy.requestsPerMinute} requests per minute` : `${policy.tokensPerMinute} tokens per minute`) + (burst !== null ? ` after a burst of ${burst}` : '');
            throw new RateLimitedError(r.limit!, r.retryAfterSeconds, `Sluice token "${name}" is over its rate limit of ${what} (policy rule "${r.limit}"); retry in ${r.retryAfterSeconds} s. Change it with \`sluice token policy ${name} --${r.limit === 'requests_per_minute' ? 'rpm' : 'tpm'} <n>\`.`);
          }
          if (estimate === 0) return;
          // The bucket was charged the estimate; the real count replaces it.
          return (row) => { limiter.adjustTokens(name, estimate - (row && row.billed ? tokensOf(row) : 0)); };
        },
      },
      {
        name: 'control:budget',
        // Synchronous when no budget applies: an async stage would put every request through
        // a promise (the guard runs stages without one when none returns one).
        onRequest(req) {
          if (req.method !== 'POST' || req.pathname !== MESSAGES || !req.body) return;
          const cfg = config();
          const limits = limitsFor(req, cfg, policyOf(req, cfg));
          if (limits.length === 0) return;
          return reserveBudgets(req as ProxyRequest & { body: Buffer }, cfg, limits);
        },
        onResponse(req, _status, headers) {
          const announce = req.notes.budgetHeaders as Record<string, string> | undefined;
          // The upstream's own window state, if it sent any, is never touched.
          if (announce === undefined || Object.keys(headers).some((k) => k.toLowerCase().startsWith(UNIFIED_PREFIX))) return;
          Object.assign(headers, announce);
        },
      },
      {
        name: 'control:cache',
        onRequest(req) {
          const policy = policyOf(req, config());
          if (!policy?.injectCache || req.method !== 'POST' || req.pathname !== MESSAGES || !req.body || req.headers['content-encoding']) return;
          const before = req.body.length;
          const r = injectCacheBreakpoints(req.body);
          req.notes.cacheInjection = r.skipped ? { skipped: r.skipped } : { added: r.added, bytesBefore: before, bytesAfter: r.body.length };
          if (r.added.length) req.body = r.body;
        },
      },
      {
        name: 'control:capture',
        // Synchronous while capture is off (an async stage puts every request through a promise).
        onRequest(req) {
          noticeCapture();
          const c = config().capture;
          if (!c.enabled || (c.tokens.length > 0 && !c.tokens.some((g) => globMatch(g, callerName(req))))) return;
          const meta = { id: req.id, ts: now(), tool: callerName(req), method: req.method, path: req.pathname };
          req.notes.capture = meta;
          // Awaited: a captured request is on disk before it is forwarded (debug mode; costs one fsync).
          return capture.writeRequest(meta, req.body).then(() => {}, (err: Error) => internals.logger.warn(`control: capture failed: ${err.message}`));
        },
        onResponse(req, status, headers) {
          const meta = req.notes.capture as Parameters<typeof capture.tapResponse>[0] | undefined;
          if (!meta) return;
          headers['x-sluice-capture'] = 'on';
          return capture.tapResponse(meta, status, headers);
        },
      },
    ];

    const status = async (): Promise<ControlStatus> => ({
      capture: await capture.status(),
      rateLimits: Object.entries(config().tokens)
        .filter(([, p]) => p.requestsPerMinute !== null || p.tokensPerMinute !== null)
        .map(([token, p]) => ({ token, ...limiter.state(token, bucketLimits(p)) })),
      budgets: engine.status().map((b) => ({ ...b, settledUsd: b.settledPico / 1e12, reservedUsd: b.reservedPico / 1e12 })),
      alerts: store.listAlerts({ limit: 50 }),
    });

    return {
      name: 'control',
      stages,
      store,
      status,
      usageLimits,
      routes: (app) => mountControlRoutes(app, {
        usageLimits: () => usageLimits.doc(),
        authorize: opts.authorize ?? (() => false),
        config, saveConfig, store, status, now,
        ledger, prices: async () => (await prices()).book,
        sweepCapture: () => capture.sweep(),
      }),
      async close() {
        clearInterval(sweepTimer);
        await capture.idle();
        await usageLimits.close();
        store.close();
      },
    };
  };
}
