// The ledger's data shapes: the row the gateway and the importer write, and what the queries
// return. Types only; imports nothing.

export type CallerKind = 'token' | 'passthrough' | 'import';
export type Endpoint = 'messages' | 'count_tokens' | 'models' | 'batches' | 'other';
export type RowSource = 'gateway' | 'import';

/**
 * One client request (or, for imports, one upstream response read from a transcript).
 * Metadata only: never a body, never key material (`keyId` names a key, e.g. `anthropic:2`).
 */
export interface LedgerRow {
  /** The gateway's `sluice_...` id, or `import:<requestId|message id>`. */
  id: string;
  /** ms epoch. */
  tsStart: number;
  tsEnd: number;
  sessionId: string | null;
  sessionSource: string | null;
  agentId: string | null;
  parentAgentId: string | null;
  /** Token name, or the client family for passthrough and imports. */
  tool: string;
  callerKind: CallerKind;
  clientFamily: string;
  clientVersion: string | null;
  method: string;
  /** Without the query string (the writer strips one if present). */
  path: string;
  endpoint: Endpoint;
  requestedModel: string | null;
  servedModel: string | null;
  stream: boolean;
  /** HTTP status from upstream; null when no response arrived. */
  status: number | null;
  stopReason: string | null;
  errorType: string | null;
  ttfbMs: number | null;
  totalMs: number | null;
  upstreamRequestId: string | null;
  messageId: string | null;
  bytesIn: number;
  bytesOut: number;
  provider: string;
  keyId: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
  webSearchRequests: number;
  /** Integer pico-dollars; null = unpriced (never a silent 0). */
  costPico: number | null;
  /** False for count_tokens and failed attempts: tokens and cost stay out of the sums. */
  billed: boolean;
  complete: boolean;
  source: RowSource;
  /** Imports: the transcript's cwd. */
  project: string | null;

  // Routing fields (schema v2). Optional so rows built before routing existed still type-check;
  // the writer stores the stated default when one is left out.
  /** The upstream target that served the request ('anthropic', 'anthropic-eu', 'openrouter'). Default null. */
  target?: string | null;
  /** Upstream attempts made. Default: `attempts.length` when attempts are given, else 1. */
  attemptsMade?: number;
  /** Served by a fallback target or fallback model rather than the first choice. Default false. */
  fallback?: boolean;
  /** Name of the routing rule that matched. Default null. */
  route?: string | null;
  /** A/B arm name. Default null. */
  arm?: string | null;
  /** Billing tags, e.g. { team: 'infra', costCentre: 'cc-42' }. Default null. */
  tags?: Record<string, string> | null;
  /** Smart-routing complexity tier. Default null. */
  tier?: string | null;
  /** The features the tier was decided from (JSON-serialisable). Default null. */
  features?: Record<string, unknown> | null;
  /** A guardrail redaction changed the forwarded bytes. Default false. */
  redacted?: boolean;
  /**
   * Every upstream attempt, the delivered one included. Stored in the same transaction as the
   * row; never billed and never counted as requests (only the row's own usage is). Default [].
   */
  attempts?: AttemptRecord[];

  // Schema v4.
  /**
   * Set when the response ended early and its output is the best figure available rather than
   * the upstream's final count: why it ended ('client_cancelled': the client left mid-stream;
   * 'upstream_cut': the stream stopped before message_stop). Default null (exact).
   */
  estimated?: EstimateReason | null;
}

export const ESTIMATE_REASONS = ['client_cancelled', 'upstream_cut'] as const;
export type EstimateReason = (typeof ESTIMATE_REASONS)[number];

/** One upstream attempt of a request. Metadata only. */
export interface AttemptRecord {
  /** 1-based, unique within the request. */
  n: number;
  /** ms epoch when the attempt was sent. */
  ts: number;
  target: string;
  /** A key name ('anthropic:2'), never key material. */
  keyId: string | null;
  model: string | null;
  /** Upstream HTTP status; null when no response arrived. */
  status: number | null;
  /** Error type or code ('overloaded_error', 'UND_ERR_SOCKET'); null on success. */
  error: string | null;
  durationMs: number | null;
  /** Backoff or cooldown waited before this attempt was sent. */
  waitMs: number | null;
}

/** A stored row as `getSession` and `requestsInRange` return it: every v2 field filled in. */
export interface RequestRecord extends LedgerRow {
  /** False when an imported row duplicates a gateway record of the same upstream message. */
  counted: boolean;
  costUsd: number | null;
  target: string | null;
  attemptsMade: number;
  fallback: boolean;
  route: string | null;
  arm: string | null;
  tags: Record<string, string> | null;
  tier: string | null;
  features: Record<string, unknown> | null;
  redacted: boolean;
  estimated: EstimateReason | null;
  /** Ordered by `n`; empty for rows written without attempts (v1 rows, imports). */
  attempts: AttemptRecord[];
}

/** Sums shared by every aggregate the ledger returns. */
export interface UsageSums {
  /** Counted rows (every endpoint, failed ones included). */
  requests: number;
  errors: number;
  billedRequests: number;
  inputTokens: number;
  outputTokens: number;
  /** 5m + 1h. */
  cacheWriteTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
  webSearchRequests: number;
  /** Sum of the priced billed requests; null when there were billed requests and none was priced. */
  costUsd: number | null;
  /** Billed requests whose model had no price; their cost is missing from `costUsd`. */
  unpricedRequests: number;
  /** Billed requests whose output is an estimate (a cancelled or cut stream): shown with "≈". */
  estimatedRequests: number;
}

export interface SessionSummary extends UsageSums {
  sessionId: string;
  firstSeen: number;
  lastSeen: number;
  tool: string;
  project: string | null;
  /**
   * Each model that served the session, once, sorted (a request no model served counts under
   * the model it asked for). "No session" groups list every id named.
   */
  models: string[];
  /**
   * Per served model, the other ids requests asked for and got it (an alias or undated id, or a
   * model a routing rule changed); absent when every request got the model it named.
   */
  modelAliases?: Record<string, string[]>;
  imported: boolean;
  viaGateway: boolean;
  /** When the session's first prompt was written, from Claude Code's transcript (admin API only; null when unknown). */
  firstPromptAt?: number | null;
}

export type DateBound = string | number;

export const SESSION_SORTS = ['lastSeen', 'firstSeen', 'cost', 'requests', 'errors', 'tokens', 'tool', 'sessionId'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export interface ListSessionsQuery {
  /** 'YYYY-MM-DD' (local) or ms epoch: sessions active at or after it. */
  since?: DateBound;
  /** 'YYYY-MM-DD' (local, that day included) or ms epoch (exclusive): sessions that began before it. */
  until?: DateBound;
  tool?: string;
  /** Substring of the session id, project, tool or a model id. */
  search?: string;
  sort?: string;
  order?: string;
  limit?: number;
  offset?: number;
}

export interface SessionPage {
  total: number;
  sessions: SessionSummary[];
}

export interface SessionDetail {
  session: SessionSummary;
  requests: RequestRecord[];
}

export type ReportBy = 'day' | 'hour' | 'model' | 'tool' | 'session' | 'target' | 'route' | 'arm' | 'tag';

export interface ReportQuery {
  by: ReportBy;
  /** With `by: 'tag'`: which tag groups the rows (e.g. 'team'). Ignored otherwise. */
  tagKey?: string;
  since?: DateBound;
  until?: DateBound;
  limit?: number;
}

export interface ReportRow extends UsageSums {
  /**
   * The day ('YYYY-MM-DD'), model id ('' when unknown), tool, session id, target, route, arm or
   * tag value ('' when the row has none).
   */
  key: string;
}

export interface RangeQuery {
  /** 'YYYY-MM-DD' (local) or ms epoch, inclusive. */
  since?: DateBound;
  /** 'YYYY-MM-DD' (local, that day included) or ms epoch (exclusive). */
  until?: DateBound;
}

export interface RequestsInRangeQuery extends RangeQuery {
  /** Page size, 1 to 100,000. Default 1000. */
  limit?: number;
  /** The last id of the previous page (its `nextAfterId`); the page continues after that row. */
  afterId?: string;
}

export interface RequestsPage {
  /** Ordered by (tsStart, id); every row, counted or not. */
  requests: RequestRecord[];
  /** Pass as `afterId` for the next page; null when this page was the last. */
  nextAfterId: string | null;
}

/**
 * Upstream attempts for one (target, key). The outcome counts are disjoint: a 529 is
 * `overloaded`, not also a server error; 1xx/3xx fall in none of them.
 */
export interface AttemptStatsRow {
  target: string;
  keyId: string | null;
  attempts: number;
  /** 2xx. */
  successes: number;
  /** 429. */
  rateLimited: number;
  /** 529. */
  overloaded: number;
  /** 5xx other than 529. */
  serverErrors: number;
  /** 4xx other than 429. */
  clientErrors: number;
  /** No response (status null): connection, TLS, timeout. */
  networkErrors: number;
  /** Mean of the recorded waits before an attempt; null when none was recorded. */
  meanWaitMs: number | null;
}

export interface TokenKinds {
  inputTokens: number;
  outputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
}

/**
 * Why a session's gateway and transcript numbers are not the same set of responses, or why the
 * same response differs. Only 'mismatch' is a real disagreement; the others explain gaps.
 * - not_via_gateway: in the transcripts, never through this gateway (a session run direct).
 * - not_in_transcripts: through the gateway, in no imported transcript (title and side calls,
 *   or a client that writes no transcript) while the session's transcript was imported.
 * - no_transcript: through the gateway; no transcript of this session was imported.
 * - estimated: the gateway's row is an estimate (a cancelled or cut stream), so its output may
 *   differ from the transcript's.
 * - unpriced: rows of a model the price sheet lacks (their cost is missing on that side).
 * - mismatch: the same response with different tokens (or different known costs) on each side.
 */
export type ReconcileReasonKind = 'not_via_gateway' | 'not_in_transcripts' | 'no_transcript' | 'estimated' | 'unpriced' | 'mismatch';

export interface ReconcileReason {
  kind: ReconcileReasonKind;
  /** Responses concerned. */
  responses: number;
}

export interface ReconcileRow {
  sessionId: string;
  gateway: TokenKinds & { responses: number };
  imported: TokenKinds & { responses: number };
  /** Upstream message ids present both in gateway rows and in imported rows. */
  matchedMessages: number;
  /** Some response was recorded differently by the gateway and the transcript (a 'mismatch'). */
  differs: boolean;
  /** Every cause of a gap or difference, in a fixed order; empty when both sides agree exactly. */
  reasons: ReconcileReason[];
}

export interface WriteResult {
  inserted: number;
  /** An imported row replaced by a later, more complete line of the same response. */
  replaced: number;
  /** Duplicate ids that changed nothing. */
  ignored: number;
  /** Rows taken out of (or kept out of) the rollups because the gateway recorded the same message. */
  shadowed: number;
}

export interface LedgerStats {
  queued: number;
  inserted: number;
  ignoredDuplicates: number;
  flushes: number;
  writeErrors: number;
  droppedRows: number;
  lastError: string | null;
  lastFlushAt: number | null;
}
