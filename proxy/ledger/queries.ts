// Read side of the ledger: session lists, one session's requests, reports, totals, the
// gateway-vs-transcript reconciliation, upstream attempts and export paging, all aggregated in
// SQL. Imports pricing's picoToUsd and the error taxonomy only.
//
// Integers are read as BigInt (setReadBigInts) because summed pico-dollars pass 2^53 at about
// $9,007; they become a float USD once, here at the edge (`picoToUsd`).
import { InvalidRequestError } from '../errors.js';
import { picoToUsd } from '../pricing/pico.js';
import { localDay, toRange, type TimeRange, type TzOffset } from './dates.js';
import type { Db, Param, Statement } from './sqlite.js';
import { ERROR_SQL, NO_SESSION_PREFIX, type DbRequestRow } from './writer.js';
import {
  SESSION_SORTS,
  type AttemptRecord,
  type AttemptStatsRow,
  type CallerKind,
  type Endpoint,
  type ListSessionsQuery,
  type RangeQuery,
  type ReconcileReasonKind,
  type ReconcileRow,
  type ReportQuery,
  type ReportRow,
  type RequestRecord,
  type RequestsInRangeQuery,
  type RequestsPage,
  type RowSource,
  type SessionDetail,
  type SessionPage,
  type SessionSort,
  type SessionSummary,
  type UsageSums,
} from './types.js';

type Raw = Record<string, unknown>;

const SUM_COLUMNS = ['requests', 'errors', 'billed_requests', 'input_tokens', 'output_tokens', 'cache_write_5m_tokens',
  'cache_write_1h_tokens', 'cache_read_tokens', 'web_search_requests', 'cost_pico', 'unpriced_requests', 'estimated_requests'] as const;

/** Sums over a rollup table (`sessions` or `daily`). */
const ROLLUP_SUMS = SUM_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ');

const billedOnly = (col: string) => `sum(CASE WHEN billed = 1 THEN ${col} ELSE 0 END) AS ${col}`;
/** The sums a v1/v2 file's rollups hold, computed from `requests` (test fixtures build old files with it). */
const REQUEST_SUMS_LIST_V1 = [
  'count(*) AS requests',
  `sum(${ERROR_SQL}) AS errors`,
  'sum(billed) AS billed_requests',
  ...['input_tokens', 'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens', 'web_search_requests'].map(billedOnly),
  'sum(CASE WHEN billed = 1 THEN coalesce(cost_pico, 0) ELSE 0 END) AS cost_pico',
  'sum(CASE WHEN billed = 1 AND cost_pico IS NULL THEN 1 ELSE 0 END) AS unpriced_requests',
];
export const REQUEST_SUMS_V1 = REQUEST_SUMS_LIST_V1.join(', ');
/** The same sums computed from `requests` (caller adds `counted = 1`); must mirror writer.ts. */
export const REQUEST_SUMS = [
  ...REQUEST_SUMS_LIST_V1,
  'sum(CASE WHEN billed = 1 AND estimated IS NOT NULL THEN 1 ELSE 0 END) AS estimated_requests',
].join(', ');

const SORT_SQL: Record<SessionSort, string> = {
  lastSeen: 's.last_ts',
  firstSeen: 's.first_ts',
  cost: 's.cost_pico',
  requests: 's.requests',
  errors: 's.errors',
  tokens: '(s.input_tokens + s.output_tokens + s.cache_write_5m_tokens + s.cache_write_1h_tokens + s.cache_read_tokens)',
  tool: 's.tool',
  sessionId: 's.session_id',
};

const MODELS_SQL = `coalesce(s.models_json, (SELECT json_group_array(model) FROM (SELECT model FROM session_models m WHERE m.session_id = s.session_id ORDER BY model))) AS models_json`;

/**
 * Requests without a session id are not lost from the per-session views: the writer rolls them
 * up per tool token and UTC hour into `sessions` rows whose ids are `nosession:<tool>:<hour
 * start ms>` (schema V3), so they list, sort and page like sessions, from the same index.
 */
export { NO_SESSION_PREFIX };
const HOUR_MS = 3_600_000;
const SESSION_COLS = ['session_id', 'first_ts', 'last_ts', 'tool', 'project', ...SUM_COLUMNS, 'via_gateway', 'imported'];
const ALL_SESSIONS = '(SELECT *, NULL AS models_json FROM sessions)';

/** The tool and hour of a "No session" id, or null for a real session id. */
export function parseNoSessionId(id: string): { tool: string; hourStart: number } | null {
  if (!id.startsWith(NO_SESSION_PREFIX)) return null;
  const rest = id.slice(NO_SESSION_PREFIX.length);
  const at = rest.lastIndexOf(':');
  const hourStart = Number(rest.slice(at + 1));
  if (at < 1 || !Number.isSafeInteger(hourStart) || hourStart % HOUR_MS !== 0) return null;
  return { tool: rest.slice(0, at), hourStart };
}

function n(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function nOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : n(v);
}

function sOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function sumsOf(r: Raw): UsageSums {
  const billed = n(r.billed_requests);
  const unpriced = n(r.unpriced_requests);
  const cost = r.cost_pico === null || r.cost_pico === undefined ? 0n : BigInt(r.cost_pico as bigint | number);
  const w5 = n(r.cache_write_5m_tokens);
  const w1 = n(r.cache_write_1h_tokens);
  return {
    requests: n(r.requests),
    errors: n(r.errors),
    billedRequests: billed,
    inputTokens: n(r.input_tokens),
    outputTokens: n(r.output_tokens),
    cacheWriteTokens: w5 + w1,
    cacheWrite5mTokens: w5,
    cacheWrite1hTokens: w1,
    cacheReadTokens: n(r.cache_read_tokens),
    webSearchRequests: n(r.web_search_requests),
    // Nothing priced at all is "unknown", not $0; partly priced shows the priced part plus the count.
    costUsd: billed > 0 && unpriced === billed ? null : picoToUsd(cost),
    unpricedRequests: unpriced,
    estimatedRequests: n(r.estimated_requests),
  };
}

function sessionOf(r: Raw): SessionSummary {
  return {
    sessionId: r.session_id as string,
    firstSeen: n(r.first_ts),
    lastSeen: n(r.last_ts),
    tool: r.tool as string,
    project: sOrNull(r.project),
    models: typeof r.models_json === 'string' ? (JSON.parse(r.models_json) as string[]) : [],
    imported: n(r.imported) === 1,
    viaGateway: n(r.via_gateway) === 1,
    ...sumsOf(r),
  };
}

function jsonObjectOrNull<T>(v: unknown): T | null {
  return typeof v === 'string' ? (JSON.parse(v) as T) : null;
}

function attemptOf(r: Raw): AttemptRecord {
  return {
    n: n(r.n),
    ts: n(r.ts),
    target: r.target as string,
    keyId: sOrNull(r.key_id),
    model: sOrNull(r.model),
    status: nOrNull(r.status),
    error: sOrNull(r.error),
    durationMs: nOrNull(r.duration_ms),
    waitMs: nOrNull(r.wait_ms),
  };
}

function requestOf(raw: Raw, attempts: AttemptRecord[]): RequestRecord {
  const r = raw as unknown as DbRequestRow;
  const cost = raw.cost_pico as bigint | null;
  return {
    id: r.id,
    tsStart: n(r.ts_start),
    tsEnd: n(r.ts_end),
    sessionId: r.session_id,
    sessionSource: r.session_source,
    agentId: r.agent_id,
    parentAgentId: r.parent_agent_id,
    tool: r.tool,
    callerKind: r.caller_kind as CallerKind,
    clientFamily: r.client_family,
    clientVersion: r.client_version,
    method: r.method,
    path: r.path,
    endpoint: r.endpoint as Endpoint,
    requestedModel: r.requested_model,
    servedModel: r.served_model,
    stream: n(r.stream) === 1,
    status: nOrNull(r.status),
    stopReason: r.stop_reason,
    errorType: r.error_type,
    ttfbMs: nOrNull(r.ttfb_ms),
    totalMs: nOrNull(r.total_ms),
    upstreamRequestId: r.upstream_request_id,
    messageId: r.message_id,
    bytesIn: n(r.bytes_in),
    bytesOut: n(r.bytes_out),
    provider: r.provider,
    keyId: r.key_id,
    inputTokens: n(r.input_tokens),
    outputTokens: n(r.output_tokens),
    cacheWrite5mTokens: n(r.cache_write_5m_tokens),
    cacheWrite1hTokens: n(r.cache_write_1h_tokens),
    cacheReadTokens: n(r.cache_read_tokens),
    webSearchRequests: n(r.web_search_requests),
    costPico: cost === null ? null : Number(cost),
    costUsd: cost === null ? null : picoToUsd(cost),
    billed: n(r.billed) === 1,
    complete: n(r.complete) === 1,
    source: r.source as RowSource,
    project: r.project,
    counted: n(r.counted) === 1,
    target: r.target,
    attemptsMade: n(r.attempts),
    fallback: n(r.fallback) === 1,
    route: r.route,
    arm: r.arm,
    tags: jsonObjectOrNull<Record<string, string>>(r.tags),
    tier: r.tier,
    features: jsonObjectOrNull<Record<string, unknown>>(r.features),
    redacted: n(r.redacted) === 1,
    estimated: (r.estimated ?? null) as RequestRecord['estimated'],
    attempts,
  };
}

function intIn(v: number | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidRequestError(`${name} must be an integer from ${min} to ${max}.`);
  return v;
}

function orderOf(order: string | undefined, def: 'asc' | 'desc'): 'ASC' | 'DESC' {
  if (order === undefined) return def === 'asc' ? 'ASC' : 'DESC';
  if (order === 'asc' || order === 'desc') return order === 'asc' ? 'ASC' : 'DESC';
  throw new InvalidRequestError(`order must be "asc" or "desc".`);
}

function isSort(v: string): v is SessionSort {
  return (SESSION_SORTS as readonly string[]).includes(v);
}

/** LIKE pattern matching `text` literally anywhere (escape character: backslash). */
function likeAnywhere(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The JSON path of one tag in `requests.tags`. Quoted, so keys with dots, dashes or spaces work;
 * SQLite's quoted path labels have no escapes, so a key with a quote or backslash cannot be named.
 */
function tagPath(tagKey: unknown): string {
  if (typeof tagKey !== 'string' || tagKey === '' || tagKey.length > 200) {
    throw new InvalidRequestError('Reports by tag need tagKey: the tag to group by (1 to 200 characters).');
  }
  if (/["\\\u0000-\u001f]/.test(tagKey)) throw new InvalidRequestError('tagKey cannot contain quotes, backslashes or control characters.');
  return `$."${tagKey}"`;
}

const MAX_IDS = 100_000;

/** Grouping of `usage()`: an hour (UTC start ms), a local day, ISO week (its Monday), month, or session. */
export type UsageBucket = 'hour' | 'day' | 'week' | 'month' | 'session';

/** `usage()`: counted rows in a range, optionally filtered, grouped by a bucket (and model). */
export interface UsageQuery {
  bucket: UsageBucket;
  since?: string | number;
  until?: string | number;
  tool?: string;
  /** Substring of the served (else requested) model. */
  model?: string;
  /** Substring of the project path (the row's, else its session's). */
  project?: string;
  /** One row per (bucket, model) instead of per bucket. */
  byModel?: boolean;
}

export interface UsageRow extends UsageSums {
  key: string;
  /** The model of a `byModel` row; null otherwise. */
  model: string | null;
  firstTs: number;
  lastTs: number;
  /** For session buckets: its tool and project (the session's, when the rows have none). */
  tool: string | null;
  project: string | null;
}

export interface Queries {
  listSessions(q?: ListSessionsQuery): SessionPage;
  getSession(id: string, page?: { limit?: number; offset?: number }): SessionDetail | null;
  report(q: ReportQuery): ReportRow[];
  totals(q?: { since?: string | number; until?: string | number }): UsageSums;
  reconcile(q?: { sessionId?: string }): ReconcileRow[];
  /** Attempts of each given request id, ordered by `n`; an id without attempts maps to []. */
  attemptsFor(requestIds: readonly string[]): Map<string, AttemptRecord[]>;
  /** Attempt outcomes per (target, key) for attempts sent in the range, ordered by target then key. */
  attemptStats(q?: RangeQuery): AttemptStatsRow[];
  /** One page of stored requests (counted or not) by (tsStart, id), for export. */
  requestsInRange(q?: RequestsInRangeQuery): RequestsPage;
  /** Usage grouped by hour/day/week/month/session with tool/model/project filters (reports). */
  usage(q: UsageQuery): UsageRow[];
}

export function createQueries(db: Db, tz: TzOffset): Queries {
  // Day keys for ranges that do not fall on local midnights, computed with the same zone
  // function the writer used for the `daily` rollup.
  db.function('sluice_local_day', { deterministic: true }, (ts: unknown) => localDay(n(ts), tz));

  const prep = (sql: string) => {
    const s = db.prepare(sql);
    s.setReadBigInts(true);
    return s;
  };
  const cache = new Map<string, Statement>();
  // Statements differ only by which optional filters are present; a handful of shapes in all.
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (s === undefined) {
      s = prep(sql);
      cache.set(sql, s);
    }
    return s;
  };

  const rangeWhere = (range: TimeRange, col: string, params: Param[]): string[] => {
    const where: string[] = [];
    if (range.startMs !== null) {
      where.push(`${col} >= ?`);
      params.push(range.startMs);
    }
    if (range.endMs !== null) {
      where.push(`${col} < ?`);
      params.push(range.endMs);
    }
    return where;
  };

  const dayWhere = (range: TimeRange, params: Param[]): string[] => {
    const where: string[] = [];
    if (range.startDay !== null && range.startMs !== null) {
      where.push('day >= ?');
      params.push(range.startDay);
    }
    if (range.endDay !== null && range.endMs !== null) {
      where.push('day < ?');
      params.push(range.endDay);
    }
    return where;
  };

  const whereSql = (parts: string[]) => (parts.length ? `WHERE ${parts.join(' AND ')}` : '');

  const listSessions = (q: ListSessionsQuery = {}): SessionPage => {
    const sort = q.sort ?? 'lastSeen';
    if (!isSort(sort)) throw new InvalidRequestError(`Unknown sort ${JSON.stringify(sort.slice(0, 40))}; use one of ${SESSION_SORTS.join(', ')}.`);
    const dir = orderOf(q.order, 'desc');
    const limit = intIn(q.limit, 'limit', 50, 1, 1000);
    const offset = intIn(q.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const range = toRange(q.since, q.until, tz);
    const params: Param[] = [];
    const where: string[] = [];
    // A session counts as in the window when it overlaps it.
    if (range.startMs !== null) {
      where.push('s.last_ts >= ?');
      params.push(range.startMs);
    }
    if (range.endMs !== null) {
      where.push('s.first_ts < ?');
      params.push(range.endMs);
    }
    if (q.tool !== undefined) {
      where.push('s.tool = ?');
      params.push(q.tool);
    }
    if (q.search !== undefined && q.search.trim() !== '') {
      const like = likeAnywhere(q.search.trim());
      where.push(`(s.session_id LIKE ? ESCAPE '\\' OR coalesce(s.project, '') LIKE ? ESCAPE '\\' OR s.tool LIKE ? ESCAPE '\\'
        OR coalesce(s.models_json, '') LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM session_models m WHERE m.session_id = s.session_id AND m.model LIKE ? ESCAPE '\\'))`);
      params.push(like, like, like, like, like);
    }
    const w = whereSql(where);
    const total = n((stmt(`SELECT count(*) AS c FROM ${ALL_SESSIONS} s ${w}`).get(...params) as Raw).c);
    // The session id breaks ties so pages never overlap or skip rows.
    const rows = stmt(`SELECT s.${SESSION_COLS.join(', s.')}, ${MODELS_SQL} FROM ${ALL_SESSIONS} s ${w} ORDER BY ${SORT_SQL[sort]} ${dir}, s.session_id ${dir} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as Raw[];
    return { total, sessions: withServedModels(rows.map(sessionOf)) };
  };

  // `session_models` holds every id a session's rows named, requested and served alike (so a
  // search finds either); what a person reads is each model that served it, once, with the ids
  // it was asked for by where those differ (an alias, a dated id, a routing rule). Read from the
  // `session_model_pairs` rollup (V5), for the sessions of one page only, sorted by id as
  // before. "No session" groups keep the plain list.
  const pairsSql = `SELECT session_id, served, nullif(requested, '') AS requested, first_ts AS first
    FROM session_model_pairs WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY 1, 4, 2, 3`;
  const withServedModels = (sessions: SessionSummary[]): SessionSummary[] => {
    const ids = sessions.filter((x) => parseNoSessionId(x.sessionId) === null).map((x) => x.sessionId);
    if (ids.length === 0) return sessions;
    const by = new Map<string, { models: string[]; aliases: Record<string, string[]> }>();
    for (const r of stmt(pairsSql).all(JSON.stringify(ids)) as Raw[]) {
      const sid = r.session_id as string;
      const served = r.served as string;
      const requested = sOrNull(r.requested);
      let e = by.get(sid);
      if (e === undefined) by.set(sid, (e = { models: [], aliases: {} }));
      if (!e.models.includes(served)) e.models.push(served);
      if (requested !== null && requested !== served) {
        const list = (e.aliases[served] ??= []);
        if (!list.includes(requested)) list.push(requested);
      }
    }
    for (const x of sessions) {
      const e = by.get(x.sessionId);
      if (e === undefined) continue;
      x.models = e.models.sort();
      if (Object.keys(e.aliases).length > 0) x.modelAliases = e.aliases;
    }
    return sessions;
  };

  const getSession = (id: string, page: { limit?: number; offset?: number } = {}): SessionDetail | null => {
    const limit = intIn(page.limit, 'limit', 5000, 1, 100_000);
    const offset = intIn(page.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const row = stmt(`SELECT s.*, ${MODELS_SQL} FROM ${ALL_SESSIONS} s WHERE s.session_id = ?`).get(id) as Raw | undefined;
    if (row === undefined) return null;
    const none = parseNoSessionId(id);
    if (none !== null) {
      // One "No session" group: that tool's requests without a session id in that hour.
      const requests = stmt('SELECT * FROM requests WHERE session_id IS NULL AND tool = ? AND ts_start >= ? AND ts_start < ? ORDER BY ts_start, id LIMIT ? OFFSET ?')
        .all(none.tool, none.hourStart, none.hourStart + HOUR_MS, limit, offset) as Raw[];
      return { session: sessionOf(row), requests: withAttempts(requests) };
    }
    const requests = stmt('SELECT * FROM requests WHERE session_id = ? ORDER BY ts_start, id LIMIT ? OFFSET ?').all(id, limit, offset) as Raw[];
    return { session: withServedModels([sessionOf(row)])[0]!, requests: withAttempts(requests) };
  };

  /** Attempts for many requests in one statement (ids passed as one JSON array, so one cached plan). */
  const attemptsByRequest = (ids: readonly string[]): Map<string, AttemptRecord[]> => {
    const out = new Map<string, AttemptRecord[]>();
    for (const id of ids) out.set(id, []);
    if (ids.length === 0) return out;
    const rows = stmt('SELECT * FROM attempts WHERE request_id IN (SELECT value FROM json_each(?)) ORDER BY request_id, n')
      .all(JSON.stringify(ids)) as Raw[];
    for (const r of rows) out.get(r.request_id as string)!.push(attemptOf(r));
    return out;
  };

  const withAttempts = (rows: Raw[]): RequestRecord[] => {
    const attempts = attemptsByRequest(rows.map((r) => r.id as string));
    return rows.map((r) => requestOf(r, attempts.get(r.id as string)!));
  };

  const attemptsFor = (requestIds: readonly string[]): Map<string, AttemptRecord[]> => {
    if (!Array.isArray(requestIds) || requestIds.some((id) => typeof id !== 'string')) {
      throw new InvalidRequestError('requestIds must be an array of request ids.');
    }
    if (requestIds.length > MAX_IDS) throw new InvalidRequestError(`At most ${MAX_IDS} request ids at a time.`);
    return attemptsByRequest(requestIds);
  };

  const attemptStats = (q: RangeQuery = {}): AttemptStatsRow[] => {
    const params: Param[] = [];
    const where = rangeWhere(toRange(q.since, q.until, tz), 'ts', params);
    // sum() of a comparison counts the rows where it holds; NULL status (no response) is false in
    // every comparison, so it lands in network_errors only.
    const rows = stmt(`SELECT target, key_id, count(*) AS attempts,
        sum(status BETWEEN 200 AND 299) AS successes,
        sum(status = 429) AS rate_limited,
        sum(status = 529) AS overloaded,
        sum(status BETWEEN 500 AND 599 AND status <> 529) AS server_errors,
        sum(status BETWEEN 400 AND 499 AND status <> 429) AS client_errors,
        sum(status IS NULL) AS network_errors,
        avg(wait_ms) AS mean_wait_ms
      FROM attempts ${whereSql(where)} GROUP BY target, key_id ORDER BY target, key_id`).all(...params) as Raw[];
    return rows.map((r) => ({
      target: r.target as string,
      keyId: sOrNull(r.key_id),
      attempts: n(r.attempts),
      successes: n(r.successes),
      rateLimited: n(r.rate_limited),
      overloaded: n(r.overloaded),
      serverErrors: n(r.server_errors),
      clientErrors: n(r.client_errors),
      networkErrors: n(r.network_errors),
      meanWaitMs: nOrNull(r.mean_wait_ms),
    }));
  };

  const requestsInRange = (q: RequestsInRangeQuery = {}): RequestsPage => {
    const limit = intIn(q.limit, 'limit', 1000, 1, 100_000);
    const params: Param[] = [];
    const where = rangeWhere(toRange(q.since, q.until, tz), 'ts_start', params);
    if (q.afterId !== undefined) {
      const after = typeof q.afterId === 'string' ? stmt('SELECT ts_start FROM requests WHERE id = ?').get(q.afterId) as Raw | undefined : undefined;
      if (after === undefined) throw new InvalidRequestError('afterId must be the id of a stored request (the previous page\'s nextAfterId).');
      // Keyset paging: rows written meanwhile never shift a page the way OFFSET would.
      where.push('(ts_start, id) > (?, ?)');
      params.push(after.ts_start as Param, q.afterId);
    }
    // One row past the page says whether another page follows.
    const rows = stmt(`SELECT * FROM requests ${whereSql(where)} ORDER BY ts_start, id LIMIT ?`).all(...params, limit + 1) as Raw[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { requests: withAttempts(page), nextAfterId: more ? (page[page.length - 1]!.id as string) : null };
  };

  const fromRequests = (range: TimeRange, keySql: string | null, extraWhere: string[], order: string, limit: number | null, keyParams: Param[] = []): Raw[] => {
    // Parameters in SQL text order: the key expression's come first.
    const params: Param[] = [...keyParams];
    const where = ['counted = 1', ...extraWhere, ...rangeWhere(range, 'ts_start', params)];
    const key = keySql === null ? '' : `${keySql} AS key, `;
    const group = keySql === null ? '' : 'GROUP BY key';
    const tail = limit === null ? '' : 'LIMIT ?';
    if (limit !== null) params.push(limit);
    return stmt(`SELECT ${key}${REQUEST_SUMS} FROM requests ${whereSql(where)} ${group} ${order} ${tail}`).all(...params) as Raw[];
  };

  const report = (q: ReportQuery): ReportRow[] => {
    const limit = intIn(q.limit, 'limit', 1000, 1, 100_000);
    const range = toRange(q.since, q.until, tz);
    const unbounded = range.startMs === null && range.endMs === null;
    const byCost = 'ORDER BY cost_pico DESC, key ASC';
    let rows: Raw[];
    switch (q.by) {
      case 'session':
        // Session rollups hold whole sessions; a window needs the rows themselves.
        // Requests without a session id count too, in their "No session" groups.
        rows = unbounded
          ? stmt(`SELECT session_id AS key, ${ROLLUP_SUMS} FROM ${ALL_SESSIONS} s GROUP BY session_id ${byCost} LIMIT ?`).all(limit) as Raw[]
          : fromRequests(range, `coalesce(session_id, '${NO_SESSION_PREFIX}' || tool || ':' || (ts_start / ${HOUR_MS} * ${HOUR_MS}))`, [], byCost, limit);
        break;
      case 'day':
      case 'model':
      case 'tool': {
        const order = q.by === 'day' ? 'ORDER BY key ASC' : byCost;
        if (range.dayAligned) {
          const params: Param[] = [];
          const w = whereSql(dayWhere(range, params));
          rows = stmt(`SELECT ${q.by} AS key, ${ROLLUP_SUMS} FROM daily ${w} GROUP BY ${q.by} ${order} LIMIT ?`).all(...params, limit) as Raw[];
        } else {
          const keySql = q.by === 'day' ? 'sluice_local_day(ts_start)' : q.by === 'model' ? "coalesce(served_model, requested_model, '')" : 'tool';
          rows = fromRequests(range, keySql, [], order, limit);
        }
        break;
      }
      case 'hour':
        // Keys are the hour's start in ms since the epoch (UTC hours; the reader labels them locally).
        rows = fromRequests(range, `ts_start / ${HOUR_MS} * ${HOUR_MS}`, [], 'ORDER BY key ASC', limit);
        break;
      case 'target':
      case 'route':
      case 'arm':
        // No rollup holds these: answered from the rows in the range (ts index when bounded).
        rows = fromRequests(range, `coalesce(${q.by}, '')`, [], byCost, limit);
        break;
      case 'tag':
        rows = fromRequests(range, "coalesce(json_extract(tags, ?), '')", [], byCost, limit, [tagPath(q.tagKey)]);
        break;
      default:
        throw new InvalidRequestError(`Unknown report grouping ${JSON.stringify(String((q as { by: unknown }).by).slice(0, 40))}; use day, hour, model, tool, session, target, route, arm or tag.`);
    }
    return rows.map((r) => ({ key: String(r.key ?? ''), ...sumsOf(r) }));
  };

  const totals = (q: { since?: string | number; until?: string | number } = {}): UsageSums => {
    const range = toRange(q.since, q.until, tz);
    if (range.dayAligned) {
      const params: Param[] = [];
      const w = whereSql(dayWhere(range, params));
      return sumsOf(stmt(`SELECT ${ROLLUP_SUMS} FROM daily ${w}`).get(...params) as Raw);
    }
    return sumsOf(fromRequests(range, null, [], '', null)[0] ?? {});
  };

  const kinds = (p: string, cond: string) => ['input_tokens', 'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens']
    .map((c) => `sum(CASE WHEN ${cond} THEN ${c} ELSE 0 END) AS ${p}_${c}`).join(', ');
  // Transcripts only hold Messages responses, so the gateway side is its billed rows.
  const GATEWAY = "source = 'gateway' AND billed = 1";
  const IMPORT = "source = 'import'";
  const TOKENS_DIFFER = ['input_tokens', 'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens']
    .map((c) => `i.${c} <> g.${c}`).join(' OR ');
  // One imported row against the gateway row of the same upstream message, wherever each was attributed.
  const pairs = (cond: string) => `(SELECT count(DISTINCT i.id) FROM requests i JOIN requests g ON g.message_id = i.message_id AND g.source = 'gateway' AND g.billed = 1
      WHERE i.session_id = r.session_id AND i.source = 'import' AND (${cond}))`;
  const reconcileSql = (filter: string) => `
    SELECT r.session_id,
      ${kinds('g', GATEWAY)}, sum(CASE WHEN ${GATEWAY} THEN 1 ELSE 0 END) AS g_n,
      ${kinds('i', IMPORT)}, sum(CASE WHEN ${IMPORT} THEN 1 ELSE 0 END) AS i_n,
      sum(CASE WHEN billed = 1 AND cost_pico IS NULL AND (${GATEWAY} OR ${IMPORT}) THEN 1 ELSE 0 END) AS unpriced,
      (SELECT count(DISTINCT i.message_id) FROM requests i WHERE i.session_id = r.session_id AND i.source = 'import'
        AND EXISTS (SELECT 1 FROM requests g WHERE g.message_id = i.message_id AND g.source = 'gateway')) AS matched,
      (SELECT count(*) FROM requests i WHERE i.session_id = r.session_id AND i.source = 'import' AND (i.message_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM requests g WHERE g.message_id = i.message_id AND g.source = 'gateway'))) AS not_via_gateway,
      (SELECT count(*) FROM requests g WHERE g.session_id = r.session_id AND g.source = 'gateway' AND g.billed = 1 AND (g.message_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM requests i WHERE i.message_id = g.message_id AND i.source = 'import'))) AS gateway_unmatched,
      ${pairs('g.estimated IS NOT NULL')} AS estimated,
      ${pairs(`g.estimated IS NULL AND (${TOKENS_DIFFER} OR (i.cost_pico IS NOT NULL AND g.cost_pico IS NOT NULL AND i.cost_pico <> g.cost_pico))`)} AS mismatched
    FROM requests r WHERE r.session_id IN (SELECT session_id FROM sessions WHERE ${filter})
    GROUP BY r.session_id ORDER BY r.session_id`;

  const reconcile = (q: { sessionId?: string } = {}): ReconcileRow[] => {
    // Every session seen either way (the "No session" groups are not sessions a transcript can hold).
    const rows = q.sessionId !== undefined
      ? stmt(reconcileSql('session_id = ?')).all(q.sessionId) as Raw[]
      : stmt(reconcileSql(`(via_gateway = 1 OR imported = 1) AND session_id NOT LIKE '${NO_SESSION_PREFIX}%'`)).all() as Raw[];
    return rows.map((r) => {
      const side = (p: 'g' | 'i') => ({
        responses: n(r[`${p}_n`]),
        inputTokens: n(r[`${p}_input_tokens`]),
        outputTokens: n(r[`${p}_output_tokens`]),
        cacheWrite5mTokens: n(r[`${p}_cache_write_5m_tokens`]),
        cacheWrite1hTokens: n(r[`${p}_cache_write_1h_tokens`]),
        cacheReadTokens: n(r[`${p}_cache_read_tokens`]),
      });
      const gateway = side('g');
      const imported = side('i');
      const unmatched = n(r.gateway_unmatched);
      const counts: [ReconcileReasonKind, number][] = [
        ['not_via_gateway', n(r.not_via_gateway)],
        [imported.responses === 0 ? 'no_transcript' : 'not_in_transcripts', unmatched],
        ['estimated', n(r.estimated)],
        ['unpriced', n(r.unpriced)],
        ['mismatch', n(r.mismatched)],
      ];
      const reasons = counts.filter(([, c]) => c > 0).map(([kind, responses]) => ({ kind, responses }));
      return { sessionId: r.session_id as string, gateway, imported, matchedMessages: n(r.matched), differs: n(r.mismatched) > 0, reasons };
    });
  };

  const USAGE_KEYS: Record<UsageBucket, string> = {
    hour: `ts_start / ${HOUR_MS} * ${HOUR_MS}`,
    day: 'sluice_local_day(ts_start)',
    // Monday of the ISO week: the next Sunday (or this one), less six days.
    week: "date(sluice_local_day(ts_start), 'weekday 0', '-6 days')",
    month: 'substr(sluice_local_day(ts_start), 1, 7)',
    session: `coalesce(session_id, '${NO_SESSION_PREFIX}' || tool || ':' || (ts_start / ${HOUR_MS} * ${HOUR_MS}))`,
  };
  const PROJECT_SQL = 'coalesce(project, (SELECT s.project FROM sessions s WHERE s.session_id = requests.session_id))';

  const usage = (q: UsageQuery): UsageRow[] => {
    const keySql = USAGE_KEYS[q.bucket];
    if (keySql === undefined) throw new InvalidRequestError('bucket must be hour, day, week, month or session.');
    const params: Param[] = [];
    const where = ['counted = 1', ...rangeWhere(toRange(q.since, q.until, tz), 'ts_start', params)];
    if (q.tool !== undefined) { where.push('tool = ?'); params.push(q.tool); }
    if (q.model !== undefined) { where.push(`coalesce(served_model, requested_model, '') LIKE ? ESCAPE '\\'`); params.push(likeAnywhere(q.model)); }
    if (q.project !== undefined) { where.push(`coalesce(${PROJECT_SQL}, '') LIKE ? ESCAPE '\\'`); params.push(likeAnywhere(q.project)); }
    const model = q.byModel ? "coalesce(served_model, requested_model, '')" : 'NULL';
    const session = q.bucket === 'session' ? `, max(tool) AS tool, max(${PROJECT_SQL}) AS project` : ', NULL AS tool, NULL AS project';
    const rows = stmt(`SELECT ${keySql} AS key, ${model} AS model, min(ts_start) AS first_ts, max(ts_start) AS last_ts${session}, ${REQUEST_SUMS}
      FROM requests ${whereSql(where)} GROUP BY 1, 2 ORDER BY ${q.bucket === 'session' ? 'first_ts' : 'key'} ASC, model ASC`).all(...params) as Raw[];
    return rows.map((r) => ({
      key: String(r.key ?? ''), model: sOrNull(r.model), firstTs: n(r.first_ts), lastTs: n(r.last_ts),
      tool: sOrNull(r.tool), project: sOrNull(r.project), ...sumsOf(r),
    }));
  };

  return { listSessions, getSession, report, totals, reconcile, attemptsFor, attemptStats, requestsInRange, usage };
}
