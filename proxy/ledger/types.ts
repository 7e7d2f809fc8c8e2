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
}

/** A stored row as `getSession` returns it. */
export interface RequestRecord extends LedgerRow {
  /** False when an imported row duplicates a gateway record of the same upstream message. */
  counted: boolean;
  costUsd: number | null;
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
}

export interface SessionSummary extends UsageSums {
  sessionId: string;
  firstSeen: number;
  lastSeen: number;
  tool: string;
  project: string | null;
  models: string[];
  imported: boolean;
  viaGateway: boolean;
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

export type ReportBy = 'day' | 'model' | 'tool' | 'session';

export interface ReportQuery {
  by: ReportBy;
  since?: DateBound;
  until?: DateBound;
  limit?: number;
}

export interface ReportRow extends UsageSums {
  /** The day ('YYYY-MM-DD'), model id ('' when unknown), tool or session id. */
  key: string;
}

export interface TokenKinds {
  inputTokens: number;
  outputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  cacheReadTokens: number;
}

export interface ReconcileRow {
  sessionId: string;
  gateway: TokenKinds & { responses: number };
  imported: TokenKinds & { responses: number };
  /** Upstream message ids present both in gateway rows and in imported rows. */
  matchedMessages: number;
  differs: boolean;
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
