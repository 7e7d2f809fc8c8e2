// Writes ledger rows and keeps the rollups (`sessions`, `session_models`, `daily`) in step, all
// inside the caller's one transaction. Imports the SQLite adapter and dates only.
//
// Upstream attempts (schema v2) go into `attempts` in the same transaction as their request row
// and follow its fate: inserted with it, ignored with a duplicate id, replaced with a replaced
// import. They never touch the rollups: only the delivered response is billed or counted.
//
// Duplicate rules (one upstream response is counted once):
// - Same id again: ignored, except an imported row whose new copy reports more output tokens
//   (a transcript read while the response was still being written, read again later): the
//   stored row is replaced and its rollup contribution swapped.
// - An imported row whose message_id the ledger already holds from the gateway (or from a
//   counted import under another id) is stored with counted = 0: kept for `reconcile`, out of
//   the sums.
// - A gateway row whose message_id matches counted imported rows takes over: those imported
//   rows get counted = 0 and their contribution is subtracted in the same transaction. The
//   gateway record wins because it carries the tool, key, status and timings.
import { localDay, type TzOffset } from './dates.js';
import { prepareNamed, transaction, type Db } from './sqlite.js';
import { ESTIMATE_REASONS, type AttemptRecord, type LedgerRow, type WriteResult } from './types.js';

/** A stored `requests` row, column names as in SQL. */
export interface DbRequestRow {
  id: string;
  ts_start: number;
  ts_end: number;
  session_id: string | null;
  session_source: string | null;
  agent_id: string | null;
  parent_agent_id: string | null;
  tool: string;
  caller_kind: string;
  client_family: string;
  client_version: string | null;
  method: string;
  path: string;
  endpoint: string;
  requested_model: string | null;
  served_model: string | null;
  stream: number;
  status: number | null;
  stop_reason: string | null;
  error_type: string | null;
  ttfb_ms: number | null;
  total_ms: number | null;
  upstream_request_id: string | null;
  message_id: string | null;
  bytes_in: number;
  bytes_out: number;
  provider: string;
  key_id: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cache_read_tokens: number;
  web_search_requests: number;
  cost_pico: number | null;
  billed: number;
  complete: number;
  source: string;
  project: string | null;
  counted: number;
  target: string | null;
  /** Upstream attempts made (LedgerRow.attemptsMade). */
  attempts: number;
  fallback: number;
  route: string | null;
  arm: string | null;
  /** JSON object text. */
  tags: string | null;
  tier: string | null;
  /** JSON object text. */
  features: string | null;
  redacted: number;
  /** Schema v4: why the output is an estimate, or null. */
  estimated: string | null;
}

/** A stored `attempts` row, column names as in SQL. */
export interface DbAttemptRow {
  request_id: string;
  n: number;
  ts: number;
  target: string;
  key_id: string | null;
  model: string | null;
  status: number | null;
  error: string | null;
  duration_ms: number | null;
  wait_ms: number | null;
}

const COLUMNS = [
  'id', 'ts_start', 'ts_end', 'session_id', 'session_source', 'agent_id', 'parent_agent_id', 'tool',
  'caller_kind', 'client_family', 'client_version', 'method', 'path', 'endpoint', 'requested_model',
  'served_model', 'stream', 'status', 'stop_reason', 'error_type', 'ttfb_ms', 'total_ms',
  'upstream_request_id', 'message_id', 'bytes_in', 'bytes_out', 'provider', 'key_id', 'input_tokens',
  'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens',
  'web_search_requests', 'cost_pico', 'billed', 'complete', 'source', 'project', 'counted',
  'target', 'attempts', 'fallback', 'route', 'arm', 'tags', 'tier', 'features', 'redacted', 'estimated',
] as const;

const ATTEMPT_COLUMNS = ['request_id', 'n', 'ts', 'target', 'key_id', 'model', 'status', 'error', 'duration_ms', 'wait_ms'] as const;

/**
 * The one definition of "error" for rows and rollups; the SQL twin is ERROR_SQL, and the two
 * must agree or recomputed sums would drift from the rollups.
 */
export function isErrorRow(status: number | null, errorType: string | null): boolean {
  return errorType !== null || (status ?? 0) >= 400;
}
export const ERROR_SQL = '(error_type IS NOT NULL OR coalesce(status, 0) >= 400)';

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function optStr(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

function optNum(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isTags(v: unknown): boolean {
  return v === undefined || v === null || (isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string'));
}

function isFeatures(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (!isPlainObject(v)) return false;
  try {
    // BigInts and cycles cannot be stored as JSON; reject the row rather than fail mid-batch.
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
}

/** Checks `attempts` and returns how many are listed. */
function checkAttempts(attempts: unknown, bad: string[]): number {
  if (attempts === undefined) return 0;
  if (!Array.isArray(attempts)) {
    bad.push('attempts');
    return 0;
  }
  const seen = new Set<unknown>();
  attempts.forEach((a: AttemptRecord, i) => {
    const at = (k: string) => bad.push(`attempts[${i}].${k}`);
    if (typeof a !== 'object' || a === null) {
      bad.push(`attempts[${i}]`);
      return;
    }
    if (!Number.isSafeInteger(a.n) || a.n < 1 || seen.has(a.n)) at('n');
    seen.add(a.n);
    if (!Number.isFinite(a.ts)) at('ts');
    if (typeof a.target !== 'string' || a.target === '') at('target');
    for (const k of ['keyId', 'model', 'error'] as const) if (!optStr(a[k])) at(k);
    for (const k of ['status', 'durationMs', 'waitMs'] as const) if (!optNum(a[k])) at(k);
  });
  return attempts.length;
}

/** Rejects a malformed row before it reaches SQL (the caller drops just that row). */
export function checkRow(row: LedgerRow): void {
  const bad: string[] = [];
  if (typeof row !== 'object' || row === null) throw new TypeError('ledger row must be an object');
  if (typeof row.id !== 'string' || row.id === '') bad.push('id');
  if (!Number.isFinite(row.tsStart)) bad.push('tsStart');
  if (!Number.isFinite(row.tsEnd)) bad.push('tsEnd');
  if (typeof row.tool !== 'string' || row.tool === '') bad.push('tool');
  for (const k of ['sessionId', 'sessionSource', 'agentId', 'parentAgentId', 'clientVersion', 'requestedModel', 'servedModel',
    'stopReason', 'errorType', 'upstreamRequestId', 'messageId', 'keyId', 'project'] as const) {
    if (!optStr(row[k])) bad.push(k);
  }
  for (const k of ['clientFamily', 'method', 'path', 'provider'] as const) if (typeof row[k] !== 'string') bad.push(k);
  for (const k of ['bytesIn', 'bytesOut', 'inputTokens', 'outputTokens', 'cacheWrite5mTokens', 'cacheWrite1hTokens',
    'cacheReadTokens', 'webSearchRequests'] as const) {
    if (!isCount(row[k])) bad.push(k);
  }
  for (const k of ['status', 'ttfbMs', 'totalMs'] as const) if (!optNum(row[k])) bad.push(k);
  if (row.costPico !== null && !Number.isSafeInteger(row.costPico)) bad.push('costPico');
  for (const k of ['stream', 'billed', 'complete'] as const) if (typeof row[k] !== 'boolean') bad.push(k);
  for (const k of ['target', 'route', 'arm', 'tier'] as const) if (row[k] !== undefined && !optStr(row[k])) bad.push(k);
  for (const k of ['fallback', 'redacted'] as const) if (row[k] !== undefined && typeof row[k] !== 'boolean') bad.push(k);
  if (!isTags(row.tags)) bad.push('tags');
  if (!isFeatures(row.features)) bad.push('features');
  if (row.estimated !== undefined && row.estimated !== null && !(ESTIMATE_REASONS as readonly string[]).includes(row.estimated)) bad.push('estimated');
  const listed = checkAttempts(row.attempts, bad);
  // Fewer attempts made than attempts listed cannot be true; more can (a caller may list only some).
  if (row.attemptsMade !== undefined && (!isCount(row.attemptsMade) || row.attemptsMade < listed)) bad.push('attemptsMade');
  if (bad.length) throw new TypeError(`ledger row ${String(row.id).slice(0, 80)} has invalid ${bad.join(', ')}`);
}

/** The stored form of a checked row (exported for the v1-file fixture of the migration tests). */
export function toDb(row: LedgerRow, counted: boolean): DbRequestRow {
  const q = row.path.indexOf('?');
  return {
    id: row.id,
    ts_start: Math.round(row.tsStart),
    ts_end: Math.round(row.tsEnd),
    session_id: row.sessionId,
    session_source: row.sessionSource,
    agent_id: row.agentId,
    parent_agent_id: row.parentAgentId,
    tool: row.tool,
    caller_kind: row.callerKind,
    client_family: row.clientFamily,
    client_version: row.clientVersion,
    method: row.method,
    // Query strings can carry anything a client put there; the ledger keeps the route only.
    path: q === -1 ? row.path : row.path.slice(0, q),
    endpoint: row.endpoint,
    requested_model: row.requestedModel,
    served_model: row.servedModel,
    stream: row.stream ? 1 : 0,
    status: row.status,
    stop_reason: row.stopReason,
    error_type: row.errorType,
    ttfb_ms: row.ttfbMs,
    total_ms: row.totalMs,
    upstream_request_id: row.upstreamRequestId,
    message_id: row.messageId,
    bytes_in: row.bytesIn,
    bytes_out: row.bytesOut,
    provider: row.provider,
    key_id: row.keyId,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_write_5m_tokens: row.cacheWrite5mTokens,
    cache_write_1h_tokens: row.cacheWrite1hTokens,
    cache_read_tokens: row.cacheReadTokens,
    web_search_requests: row.webSearchRequests,
    cost_pico: row.costPico,
    billed: row.billed ? 1 : 0,
    complete: row.complete ? 1 : 0,
    source: row.source,
    project: row.project,
    counted: counted ? 1 : 0,
    target: row.target ?? null,
    attempts: row.attemptsMade ?? (row.attempts !== undefined && row.attempts.length > 0 ? row.attempts.length : 1),
    fallback: row.fallback === true ? 1 : 0,
    route: row.route ?? null,
    arm: row.arm ?? null,
    tags: row.tags === undefined || row.tags === null ? null : JSON.stringify(row.tags),
    tier: row.tier ?? null,
    features: row.features === undefined || row.features === null ? null : JSON.stringify(row.features),
    redacted: row.redacted === true ? 1 : 0,
    estimated: row.estimated ?? null,
  };
}

function attemptToDb(requestId: string, a: AttemptRecord): DbAttemptRow {
  return {
    request_id: requestId,
    n: a.n,
    ts: Math.round(a.ts),
    target: a.target,
    key_id: a.keyId,
    model: a.model,
    status: a.status,
    error: a.error,
    duration_ms: a.durationMs,
    wait_ms: a.waitMs,
  };
}

/** What one row adds to (or, negated, takes from) the rollups. */
interface Contribution {
  requests: number;
  errors: number;
  billed_requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cache_read_tokens: number;
  web_search_requests: number;
  /** BigInt: a batch of rows can sum past 2^53 pico-dollars (about $9,007). */
  cost_pico: bigint;
  unpriced_requests: number;
  estimated_requests: number;
}

function contributionOf(r: DbRequestRow, sign: 1 | -1): Contribution {
  const counted = r.counted === 1;
  const billed = counted && r.billed === 1;
  const t = (n: number) => (billed ? sign * n : 0);
  return {
    requests: counted ? sign : 0,
    errors: counted && isErrorRow(r.status, r.error_type) ? sign : 0,
    billed_requests: billed ? sign : 0,
    input_tokens: t(r.input_tokens),
    output_tokens: t(r.output_tokens),
    cache_write_5m_tokens: t(r.cache_write_5m_tokens),
    cache_write_1h_tokens: t(r.cache_write_1h_tokens),
    cache_read_tokens: t(r.cache_read_tokens),
    web_search_requests: t(r.web_search_requests),
    cost_pico: billed && r.cost_pico !== null ? BigInt(sign) * BigInt(r.cost_pico) : 0n,
    unpriced_requests: billed && r.cost_pico === null ? sign : 0,
    estimated_requests: billed && r.estimated !== null ? sign : 0,
  };
}

/** Requests without a session id roll up per tool token and UTC hour under this prefix (schema V3). */
export const NO_SESSION_PREFIX = 'nosession:';
const HOUR_MS = 3_600_000;

/**
 * The `sessions` rollup key of a row: its session id, or for a request that carried none,
 * `nosession:<tool>:<hour start ms>`, so such requests count in every per-session view. Must
 * match the V3 backfill in schema.ts.
 */
export function rollupSessionId(sessionId: string | null, tool: string, tsStart: number): string {
  return sessionId ?? `${NO_SESSION_PREFIX}${tool}:${Math.floor(tsStart / HOUR_MS) * HOUR_MS}`;
}

/** The daily rollup's model key: what served the request, else what was asked for. */
export function dailyModelOf(servedModel: string | null, requestedModel: string | null): string {
  return servedModel ?? requestedModel ?? '';
}

const SUMS = ['requests', 'errors', 'billed_requests', 'input_tokens', 'output_tokens', 'cache_write_5m_tokens',
  'cache_write_1h_tokens', 'cache_read_tokens', 'web_search_requests', 'cost_pico', 'unpriced_requests', 'estimated_requests'] as const;

export interface Writer {
  /** Writes rows in one IMMEDIATE transaction; throws (rolling back all of them) on failure. */
  write(rows: readonly LedgerRow[]): WriteResult;
  /**
   * Names a session's project if it has none (Claude Code's statusline tells the gateway its
   * workspace.project_dir before any transcript import). A session not stored yet takes it when
   * its first row is written (remembered for a bounded number of sessions). True when stored now.
   */
  setSessionProject(sessionId: string, project: string): boolean;
}

const MAX_PENDING_PROJECTS = 1000;

interface SessionAcc extends Contribution {
  first: number;
  last: number;
  tool: string;
  project: string | null;
  via_gateway: number;
  imported: number;
}

interface DailyAcc extends Contribution {
  day: string;
  model: string;
  tool: string;
}

const COUNT_SUMS = SUMS.filter((k): k is Exclude<(typeof SUMS)[number], 'cost_pico'> => k !== 'cost_pico');

function addInto(acc: Contribution, c: Contribution): void {
  for (const k of COUNT_SUMS) acc[k] += c[k];
  acc.cost_pico += c.cost_pico;
}

export function createWriter(db: Db, tz: TzOffset): Writer {
  // Named SQL bound by position (prepareNamed): node:sqlite's own named binding is ~15x slower.
  const insert = prepareNamed(db, `INSERT INTO requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const update = prepareNamed(db, `UPDATE requests SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`);
  const byId = db.prepare('SELECT * FROM requests WHERE id = ?');
  const otherCounted = db.prepare(`SELECT 1 FROM requests WHERE message_id = ? AND id <> ? AND (source = 'gateway' OR counted = 1) LIMIT 1`);
  const countedImports = db.prepare(`SELECT * FROM requests WHERE message_id = ? AND source = 'import' AND counted = 1`);
  const uncount = db.prepare('UPDATE requests SET counted = 0 WHERE id = ?');
  const attemptInsert = prepareNamed(db, `INSERT INTO attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const attemptsDelete = db.prepare('DELETE FROM attempts WHERE request_id = ?');
  const insertAttempts = (row: LedgerRow): void => {
    for (const a of row.attempts ?? []) attemptInsert.run(attemptToDb(row.id, a));
  };

  const sessionUpsert = prepareNamed(db, `
    INSERT INTO sessions (session_id, first_ts, last_ts, tool, project, ${SUMS.join(', ')}, via_gateway, imported)
    VALUES (@session_id, @first, @last, @tool, @project, ${SUMS.map((c) => `@${c}`).join(', ')}, @via_gateway, @imported)
    ON CONFLICT (session_id) DO UPDATE SET
      first_ts = min(first_ts, excluded.first_ts),
      last_ts = max(last_ts, excluded.last_ts),
      tool = CASE WHEN sessions.via_gateway = 0 AND excluded.via_gateway = 1 THEN excluded.tool ELSE sessions.tool END,
      project = coalesce(sessions.project, excluded.project),
      ${SUMS.map((c) => `${c} = ${c} + excluded.${c}`).join(',\n      ')},
      via_gateway = max(via_gateway, excluded.via_gateway),
      imported = max(imported, excluded.imported)`);
  const modelAdd = db.prepare('INSERT OR IGNORE INTO session_models (session_id, model) VALUES (?, ?)');
  const pairUpsert = db.prepare(`INSERT INTO session_model_pairs (session_id, served, requested, first_ts) VALUES (?, ?, ?, ?)
    ON CONFLICT (session_id, served, requested) DO UPDATE SET first_ts = min(first_ts, excluded.first_ts)`);
  const setProject = db.prepare('UPDATE sessions SET project = ? WHERE session_id = ? AND project IS NULL');
  const pendingProjects = new Map<string, string>();
  const named = new Set<string>();
  const dailyUpsert = prepareNamed(db, `
    INSERT INTO daily (day, model, tool, ${SUMS.join(', ')})
    VALUES (@day, @model, @tool, ${SUMS.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (day, model, tool) DO UPDATE SET ${SUMS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`);
  // Every counted row adds 1 to `requests`, so 0 means the key no longer has any row.
  const dailyPrune = db.prepare('DELETE FROM daily WHERE day = ? AND model = ? AND tool = ? AND requests = 0');

  /**
   * Rollup changes of one transaction, merged per key in memory and applied once at its end:
   * a batch of 500 rows touches a few dozen sessions and a handful of daily keys, so this turns
   * ~4 statements per row into a few per key. Negative contributions (a row taken back out) go
   * through the same sums, so their order against additions in the batch does not matter.
   */
  const createBatch = () => {
    const sessions = new Map<string, SessionAcc>();
    const daily = new Map<string, DailyAcc>();
    const models = new Set<string>();
    /** `session\0served\0requested` -> first ts: which model served under which asked-for id (V5). */
    const pairs = new Map<string, number>();
    const touchedNegative = new Set<string>();

    const apply = (r: DbRequestRow, sign: 1 | -1): void => {
      const c = contributionOf(r, sign);
      const sid = rollupSessionId(r.session_id, r.tool, r.ts_start);
      {
        let s = sessions.get(sid);
        if (s === undefined) {
          s = { ...c, first: r.ts_start, last: r.ts_start, tool: r.tool, project: r.project ?? pendingProjects.get(sid) ?? null, via_gateway: 0, imported: 0 };
          sessions.set(sid, s);
        } else {
          addInto(s, c);
        }
        if (sign === 1) {
          // First/last seen, tool, project, flags and models describe every row ever stored in the
          // session; taking a row's sums back out leaves them.
          s.first = Math.min(s.first, r.ts_start);
          s.last = Math.max(s.last, r.ts_start);
          if (r.source === 'gateway' && s.via_gateway === 0) s.tool = r.tool;
          s.project ??= r.project;
          if (r.source === 'gateway') s.via_gateway = 1;
          else s.imported = 1;
          if (r.requested_model !== null) models.add(`${sid}\u0000${r.requested_model}`);
          if (r.served_model !== null) models.add(`${sid}\u0000${r.served_model}`);
          const served = r.served_model ?? r.requested_model;
          if (served !== null) {
            const pk = `${sid}\u0000${served}\u0000${r.requested_model ?? ''}`;
            const seen = pairs.get(pk);
            if (seen === undefined || r.ts_start < seen) pairs.set(pk, r.ts_start);
          }
        }
      }
      if (c.requests === 0) return;
      const day = localDay(r.ts_start, tz);
      const model = dailyModelOf(r.served_model, r.requested_model);
      const key = `${day}\u0000${model}\u0000${r.tool}`;
      const d = daily.get(key);
      if (d === undefined) daily.set(key, { ...c, day, model, tool: r.tool });
      else addInto(d, c);
      if (sign === -1) touchedNegative.add(key);
    };

    const commit = (): void => {
      for (const [sessionId, s] of sessions) {
        const { first, last, tool, project, via_gateway, imported, ...sums } = s;
        // An entry opened by a subtraction carries that stored row's own ts, tool and project
        // with both flags 0; the session row already exists, and min/max/coalesce/CASE below
        // leave it unchanged apart from the sums.
        sessionUpsert.run({ session_id: sessionId, first, last, tool, project, via_gateway, imported, ...sums });
      }
      for (const m of models) {
        const cut = m.indexOf('\u0000');
        modelAdd.run(m.slice(0, cut), m.slice(cut + 1));
      }
      for (const [pk, first] of pairs) {
        const [sid, served, requested] = pk.split('\u0000') as [string, string, string];
        pairUpsert.run(sid, served, requested, first);
      }
      for (const d of daily.values()) dailyUpsert.run(d);
      for (const key of touchedNegative) {
        const d = daily.get(key)!;
        dailyPrune.run(d.day, d.model, d.tool);
      }
    };
    return { apply, commit };
  };

  type Batch = ReturnType<typeof createBatch>;

  // node:sqlite's `errcode` is SQLite's extended result code: 1555 = SQLITE_CONSTRAINT_PRIMARYKEY.
  const isPrimaryKeyClash = (err: unknown) => (err as { errcode?: unknown })?.errcode === 1555;

  const writeOne = (row: LedgerRow, batch: Batch, out: WriteResult): void => {
    checkRow(row);
    const dbRow = toDb(row, true);
    try {
      insert.run(dbRow);
    } catch (err) {
      if (!isPrimaryKeyClash(err)) throw err;
      const existing = byId.get(row.id) as unknown as DbRequestRow;
      if (row.source === 'import' && existing.source === 'import' && row.outputTokens > existing.output_tokens) {
        batch.apply(existing, -1);
        const next = toDb(row, existing.counted === 1);
        // The response keeps the session it was first seen in, and spans from its first line to
        // its last, so the session's first/last seen still describe rows that exist.
        next.session_id = existing.session_id;
        next.ts_start = Math.min(existing.ts_start, next.ts_start);
        next.ts_end = Math.max(existing.ts_end, next.ts_end);
        update.run(next);
        // The stored record is now the later copy, attempts included.
        attemptsDelete.run(row.id);
        insertAttempts(row);
        batch.apply(next, 1);
        out.replaced++;
      } else {
        // Its attempts are ignored with it: they belong to the copy already stored.
        out.ignored++;
      }
      return;
    }
    // Same transaction as the row: if an attempt cannot be stored, the throw rolls back the row too.
    insertAttempts(row);
    if (row.messageId !== null) {
      if (row.source === 'import') {
        if (otherCounted.get(row.messageId, row.id) !== undefined) {
          uncount.run(row.id);
          dbRow.counted = 0;
          out.shadowed++;
        }
      } else {
        for (const o of countedImports.all(row.messageId) as unknown as DbRequestRow[]) {
          batch.apply(o, -1);
          uncount.run(o.id);
          out.shadowed++;
        }
      }
    }
    batch.apply(dbRow, 1);
    out.inserted++;
  };

  const writeAll = (rows: readonly LedgerRow[]): WriteResult => {
    const out: WriteResult = { inserted: 0, replaced: 0, ignored: 0, shadowed: 0 };
    const batch = createBatch();
    for (const row of rows) writeOne(row, batch, out);
    batch.commit();
    return out;
  };

  return {
    // IMMEDIATE takes the write lock up front, so a concurrent writer (an import run by the CLI
    // while the gateway runs) waits on busy_timeout instead of failing at the first write.
    write: (rows) => transaction(db, () => writeAll(rows), 'immediate'),
    setSessionProject(sessionId, project) {
      // The statusline asks on every render: once stored, no more writes for that session.
      if (named.has(sessionId)) return false;
      // coalesce(existing, new), as the session upsert does: a known project is never replaced.
      const changed = Number(setProject.run(project, sessionId).changes) > 0;
      if (changed) {
        if (named.size >= MAX_PENDING_PROJECTS) named.delete(named.values().next().value!);
        named.add(sessionId);
        pendingProjects.delete(sessionId);
      }
      if (!changed && !pendingProjects.has(sessionId)) {
        if (pendingProjects.size >= MAX_PENDING_PROJECTS) pendingProjects.delete(pendingProjects.keys().next().value!);
        pendingProjects.set(sessionId, project);
      }
      return changed;
    },
  };
}
