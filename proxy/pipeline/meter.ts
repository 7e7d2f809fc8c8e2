// The meter stage: taps each response as it streams past (never delaying a byte), prices the
// usage when the response ends, and queues one ledger row per request. Metadata only.
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './auth.js';
import type { ForwardHooks, UpstreamEnd } from './forward.js';
import type { Logger } from '../log.js';
import { createUsageTap, type UsageReport, type UsageTap } from '../meter/usage-tap.js';
import { agentIdFrom, clientFamilyFrom, sessionIdFrom, type AgentAttribution, type ClientInfo, type SessionAttribution } from '../meter/attribution.js';
import { rowFromReport, type GatewayRequestContext } from '../ledger/costing.js';
import type { Ledger, LedgerRow } from '../ledger/index.js';
import { createPriceBook, parsePriceOverrides, type PriceBook, type PriceTable } from '../pricing/index.js';

export interface MeterStart {
  id: string;
  tsStart: number;
  method: string;
  /** Path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  caller: Caller;
  info: { model: string | null; stream: boolean; metadataUserId: string | null };
  bytesIn: number;
  provider: string;
  keyId: string | null;
}

/** What the upstream stage decided, for the ledger row. */
export interface MeterAnnotation {
  provider?: string;
  keyId?: string | null;
  routing?: Record<string, unknown>;
}

export interface RequestMeter extends Required<Pick<ForwardHooks, 'onStart' | 'onChunk'>> {
  /** Which target and key served the request, and its attempts. */
  annotate(a: MeterAnnotation): void;
  /** The response ended (whole, cut by upstream, or the client left). */
  onEnd(end: UpstreamEnd): void;
  /** No response: the gateway failed the request (`code`) or the client left first (null). */
  onFailure(code: string | null, totalMs: number): void;
  /**
   * Sluice refused the request before any upstream attempt (a guardrail, budget, policy or rate
   * limit): the row keeps the refusal's status and code, 0 attempts, nothing billed, so every
   * request counts in the totals and the session page can say why it was refused.
   */
  onRefused(status: number, code: string, totalMs: number): void;
}

export interface Metering {
  /** A meter for one request, or null when metering is off. `onRow` gets its row once queued. */
  begin(start: MeterStart, onRow?: (row: LedgerRow) => void): RequestMeter | null;
  /** Resolves once every ended response's row is queued (before closing the ledger). */
  settled(): Promise<void>;
}

// Placeholders until the row is built (rowOf below); never stored.
const UNATTRIBUTED_CLIENT: ClientInfo = Object.freeze({ family: 'other', version: null });
const UNATTRIBUTED_SESSION: SessionAttribution = Object.freeze({ sessionId: null, source: null });
const UNATTRIBUTED_AGENT: AgentAttribution = Object.freeze({ agentId: null, parentAgentId: null });

export function createMetering(opts: {
  ledger: Ledger | null;
  enabled: () => boolean;
  /** Current user price overrides (settings.pricing.overrides). */
  priceBook: () => unknown;
  prices: PriceTable;
  logger: Logger;
  /** Every row as it is queued (live events). Must not throw. */
  onRow?: (row: LedgerRow) => void;
}): Metering {
  // Rebuilt only when the overrides object changes (settings reloads replace it).
  let bookFor: unknown = Symbol('none');
  let book: PriceBook | null = null;
  const currentBook = (): PriceBook => {
    const overrides = opts.priceBook();
    if (overrides !== bookFor || book === null) {
      try {
        book = createPriceBook(opts.prices, parsePriceOverrides(overrides));
      } catch (err) {
        opts.logger.warn(`ignoring invalid price overrides: ${(err as Error).message}`);
        book = createPriceBook(opts.prices);
      }
      bookFor = overrides;
    }
    return book;
  };

  const pending = new Set<Promise<void>>();
  return {
    settled: async () => { await Promise.all(pending); },
    begin(start, onRowOfRequest) {
      const ledger = opts.ledger;
      if (!ledger || !opts.enabled()) return null;
      // Attribution (client, session, agent) is read from the headers when the row is built,
      // after the response: nothing the meter does stands between the request and upstream.
      const headers = start.headers;
      const metadataUserId = start.info.metadataUserId ?? undefined;
      const ctx: GatewayRequestContext = {
        id: start.id,
        tsStart: start.tsStart,
        tsEnd: start.tsStart,
        method: start.method,
        path: start.path,
        caller: start.caller.kind === 'token' ? { kind: 'token', tokenName: start.caller.token.name } : { kind: 'passthrough' },
        client: UNATTRIBUTED_CLIENT,
        session: UNATTRIBUTED_SESSION,
        agent: UNATTRIBUTED_AGENT,
        requestedModel: start.info.model,
        stream: start.info.stream,
        bytesIn: start.bytesIn,
        provider: start.provider,
        keyId: start.keyId,
        ttfbMs: null,
        totalMs: null,
        upstreamRequestId: null,
        status: null,
        // The caller token's billing tags travel on its rows (copied by rowFromReport).
        ...(start.caller.kind === 'token' && Object.keys(start.caller.token.tags ?? {}).length > 0 ? { tags: start.caller.token.tags } : {}),
      };
      let tap: UsageTap | null = null;
      const rowOf = (report: UsageReport | null): LedgerRow => {
        ctx.client = clientFamilyFrom(headers['user-agent'], headers);
        ctx.session = sessionIdFrom(headers, metadataUserId);
        ctx.agent = agentIdFrom(headers);
        return rowFromReport(ctx, report, currentBook());
      };
      const record = (row: LedgerRow) => {
        ledger.record(row);
        onRowOfRequest?.(row);
        opts.onRow?.(row);
      };
      return {
        annotate(a) {
          if (a.provider !== undefined) ctx.provider = a.provider;
          if (a.keyId !== undefined) ctx.keyId = a.keyId;
          if (a.routing) Object.assign(ctx, a.routing);
        },
        onStart(status, headers, ttfbMs) {
          ctx.status = status;
          ctx.ttfbMs = ttfbMs;
          const rid = headers['request-id'];
          ctx.upstreamRequestId = typeof rid === 'string' ? rid : null;
          const ct = headers['content-type'];
          const ce = headers['content-encoding'];
          tap = createUsageTap({ status, contentType: typeof ct === 'string' ? ct : undefined, contentEncoding: typeof ce === 'string' ? ce : undefined });
        },
        onChunk(chunk) {
          tap?.write(chunk);
        },
        onEnd(end) {
          ctx.totalMs = end.totalMs;
          ctx.tsEnd = Date.now();
          const t = tap;
          if (!t) {
            record(rowOf(null));
            return;
          }
          // The client leaving mid-stream and the upstream cutting it both leave the output an
          // estimate; which one happened is the row's mark (rowFromReport).
          ctx.clientLeft = end.aborted;
          // The tap never rejects; the row is queued once the decoder has drained.
          const p = t.end({ aborted: end.aborted || end.error !== null }).then((report) => {
            record(rowOf(report));
          });
          pending.add(p);
          void p.finally(() => pending.delete(p));
        },
        onFailure(code, totalMs) {
          ctx.totalMs = totalMs;
          ctx.tsEnd = Date.now();
          ctx.gatewayErrorCode = code ?? 'CLIENT_ABORTED';
          record(rowOf(null));
        },
        onRefused(status, code, totalMs) {
          ctx.status = status;
          ctx.refused = true;
          ctx.gatewayErrorCode = code;
          ctx.totalMs = totalMs;
          ctx.tsEnd = Date.now();
          ctx.attempts = [];
          ctx.attemptsMade = 0;
          record(rowOf(null));
        },
      };
    },
  };
}
