// Insights as a gateway extension: one stage that keeps a reference to the forwarded body and,
// once the request is finished (its bytes long since forwarded), fingerprints its prompt prefixes
// in a later macrotask (setImmediate), off the request path. Only hashes, sizes, counts and names
// are kept, in memory; nothing is written to disk. GET /admin/api/insights adds the ledger
// analyses; POST /admin/api/insights/cache/:tool turns on Sluice's cache injection for a tool.
// Uses GatewayInternals only (never gateway.ts code).
import type { IncomingMessage } from 'node:http';
import type { Express, Response } from 'express';
import type { GatewayExtension, GatewayInternals, Stage } from '../gateway.js';
import { sessionIdFrom } from '../meter/attribution.js';
import { systemTzOffset, type TzOffset } from '../ledger/dates.js';
import { createPriceBook, loadBundledPrices, parsePriceOverrides, type PriceBook } from '../pricing/index.js';
import { adminGuard } from '../control/admin-guard.js';
import { InvalidRequestError } from '../errors.js';
import { TokenPolicySchema } from '../control/schema.js';
import { createCacheCandidates, type PrefixPrices } from './cache-candidates.js';
import type { InsightsReport } from './types.js';
import { ledgerInsights, type LedgerInsights } from './ledger-insights.js';
import { createPrefixHasher } from './prefixes.js';
import { createToolCalls, toolActivity } from './tool-calls.js';
import type { RequestRecord } from '../ledger/index.js';

export type { InsightsReport } from './types.js';

export interface InsightsExtensionOptions {
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  now?: () => number;
  tz?: TzOffset;
}

export interface InsightsExtension extends GatewayExtension {
  report(): Promise<InsightsReport>;
  /** Resolves when every deferred fingerprint has been taken (tests). */
  idle(): Promise<void>;
}

const DAY = 86_400_000;

/** The ledger analyses over the last `days` days (paged reads of metadata rows). */
export function readLedgerInsights(ledger: { requestsInRange(q: { since: number; until: number; limit: number; afterId?: string }): { requests: RequestRecord[]; nextAfterId: string | null } }, now: number, tz: TzOffset, days = 30): LedgerInsights {
  const rows: RequestRecord[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = ledger.requestsInRange({ since: now - days * DAY, until: now + 1, limit: 10_000, ...(afterId ? { afterId } : {}) });
    rows.push(...page.requests);
    if (!page.nextAfterId) break;
    afterId = page.nextAfterId;
  }
  return ledgerInsights(rows, tz);
}

export function pricesFrom(book: PriceBook): PrefixPrices {
  return (model, tokens) => {
    if (!model) return null;
    const c = (usage: Parameters<PriceBook['cost']>[1]) => book.cost(model, usage).costUsd;
    const input = c({ input_tokens: tokens, output_tokens: 0 });
    const read = c({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: tokens });
    const write5m = c({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: tokens, cache_creation: { ephemeral_5m_input_tokens: tokens, ephemeral_1h_input_tokens: 0 } });
    return input === null || read === null || write5m === null ? null : { input, read, write5m };
  };
}

export function insightsExtension(opts: InsightsExtensionOptions = {}): (internals: GatewayInternals) => InsightsExtension {
  return (internals) => {
    const now = opts.now ?? Date.now;
    const tz = opts.tz ?? systemTzOffset;
    const candidates = createCacheCandidates(now);
    const toolCalls = createToolCalls(now);
    // Per tool and session: consecutive turns resend the same prefix, hashed once.
    const hasher = createPrefixHasher();
    let pending = 0;
    let drained: (() => void)[] = [];
    const done = () => { if (--pending === 0) { const d = drained; drained = []; for (const f of d) f(); } };

    const stage: Stage = {
      name: 'insights:prefixes',
      onRequest(req) {
        // Per request: a few comparisons and one closure. The hashing runs after the finish.
        if (req.method !== 'POST' || req.pathname !== '/v1/messages' || !req.body || req.headers['content-encoding']) return;
        const body = req.body;
        const tool = req.caller.kind === 'token' ? req.caller.token.name : 'passthrough';
        const headers = req.headers;
        const userId = req.info.metadataUserId ?? undefined;
        const model = req.info.model;
        return (row) => {
          if (!row || !row.billed) return;
          pending++;
          setImmediate(() => {
            try {
              const session = sessionIdFrom(headers, userId).sessionId;
              candidates.observe({
                ts: row.tsStart, tool, session, model: row.servedModel ?? model,
                points: hasher.points(body, `${tool}\u0000${session ?? ''}`), cacheRead: row.cacheReadTokens > 0,
              });
              const calls = toolActivity(body);
              if (calls) toolCalls.observe(tool, session, calls);
            } catch (err) {
              internals.logger.warn(`insights: ${(err as Error).message}`);
            } finally {
              done();
            }
          });
        };
      },
    };

    let book: PriceBook | null = null;
    let bookFor: unknown = Symbol('none');
    const tableP = loadBundledPrices();
    const prices = async () => {
      const overrides = internals.settings.get().pricing.overrides;
      if (!book || bookFor !== overrides) {
        const t = await tableP;
        try { book = createPriceBook(t, parsePriceOverrides(overrides)); } catch { book = createPriceBook(t); }
        bookFor = overrides;
      }
      return book;
    };

    const report = async (): Promise<InsightsReport> => {
      const t = now();
      const policies = (internals.settings.get() as { control?: { tokens?: Record<string, { injectCache?: boolean }> } }).control?.tokens ?? {};
      const cache = candidates.list(pricesFrom(await prices())).map((c) => ({ ...c, covered: policies[c.tool]?.injectCache === true }));
      internals.ledger?.flush();
      const fromLedger = internals.ledger ? readLedgerInsights(internals.ledger, t, tz) : ledgerInsights([], tz);
      return { generatedAt: t, days: 30, cache, toolCalls: toolCalls.report(), ...fromLedger };
    };

    const guard = adminGuard(opts.authorize ?? (() => false));
    const send = (res: Response, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    };

    return {
      name: 'insights',
      stages: [stage],
      report,
      idle: () => (pending === 0 ? Promise.resolve() : new Promise((r) => drained.push(r))),
      routes(app: Express) {
        app.get('/admin/api/insights', guard(async (_req, res) => send(res, await report())));
        // One click: Sluice's own breakpoint injection for that tool's token (a control policy field).
        app.post('/admin/api/insights/cache/:tool', guard(async (req, res) => {
          const tool = String(req.params.tool);
          if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tool) || tool === 'passthrough') throw new InvalidRequestError('Cache injection is set per tool token; requests with the client\'s own key have none.');
          await internals.settings.update((s) => {
            const c = (s as unknown as { control: { tokens: Record<string, unknown> } }).control;
            c.tokens[tool] = { ...TokenPolicySchema.parse(c.tokens[tool] ?? {}), injectCache: true };
          });
          send(res, { tool, injectCache: true });
        }));
      },
    };
  };
}
