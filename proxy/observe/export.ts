// Ledger export: every stored request in a date range as CSV (RFC 4180) or JSONL, streamed page
// by page through requestsInRange (never the whole ledger in memory), costs as exact decimal
// USD from integer pico-dollars. Imports ledger types and node:fs; never the pipeline.
import { promises as fs, constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Ledger, RequestRecord } from '../ledger/index.js';

export type ExportFormat = 'csv' | 'jsonl';

const PICO_PER_USD = 1_000_000_000_000n;

/**
 * Exact decimal USD from integer pico-dollars ("0.000123456789", "12.50"); '' for unpriced.
 * BigInt arithmetic: a float division would print 0.30000000000000004-style digits.
 */
export function formatPicoUsd(pico: number | null): string {
  if (pico === null) return '';
  const p = BigInt(pico);
  const neg = p < 0n;
  const abs = neg ? -p : p;
  const whole = abs / PICO_PER_USD;
  let frac = (abs % PICO_PER_USD).toString().padStart(12, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

export type Cell = string | number | boolean | null;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes doubled. Values are
 * written as stored (no spreadsheet-formula prefixing): this export is for billing pipelines
 * and must parse back to exactly what the ledger holds.
 */
export function csvField(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A record, CRLF-terminated as RFC 4180 asks. */
export function csvRecord(cells: readonly Cell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

export const EXPORT_COLUMNS = [
  'id', 'ts_start', 'ts_end', 'session_id', 'agent_id', 'tool', 'caller_kind', 'client_family', 'client_version',
  'method', 'path', 'endpoint', 'requested_model', 'served_model', 'stream', 'status', 'stop_reason', 'error_type',
  'ttfb_ms', 'total_ms', 'upstream_request_id', 'message_id', 'provider', 'target', 'key_id', 'attempts', 'fallback',
  'input_tokens', 'output_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens',
  'web_search_requests', 'cost_usd', 'cost_pico', 'billed', 'counted', 'source', 'project', 'tags',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/** The exported fields of one stored request. `tags` stays an object; CSV writes it as JSON. */
export function exportRecord(r: RequestRecord): Record<ExportColumn, Cell | Record<string, string>> {
  return {
    id: r.id,
    ts_start: new Date(r.tsStart).toISOString(),
    ts_end: new Date(r.tsEnd).toISOString(),
    session_id: r.sessionId,
    agent_id: r.agentId,
    tool: r.tool,
    caller_kind: r.callerKind,
    client_family: r.clientFamily,
    client_version: r.clientVersion,
    method: r.method,
    path: r.path,
    endpoint: r.endpoint,
    requested_model: r.requestedModel,
    served_model: r.servedModel,
    stream: r.stream,
    status: r.status,
    stop_reason: r.stopReason,
    error_type: r.errorType,
    ttfb_ms: r.ttfbMs,
    total_ms: r.totalMs,
    upstream_request_id: r.upstreamRequestId,
    message_id: r.messageId,
    provider: r.provider,
    target: r.target,
    key_id: r.keyId,
    attempts: r.attemptsMade,
    fallback: r.fallback,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_write_5m_tokens: r.cacheWrite5mTokens,
    cache_write_1h_tokens: r.cacheWrite1hTokens,
    cache_read_tokens: r.cacheReadTokens,
    web_search_requests: r.webSearchRequests,
    cost_usd: r.costPico === null ? null : formatPicoUsd(r.costPico),
    cost_pico: r.costPico,
    billed: r.billed,
    counted: r.counted,
    source: r.source,
    project: r.project,
    tags: r.tags ?? {},
  };
}

export function csvLineOf(r: RequestRecord): string {
  const rec = exportRecord(r);
  return csvRecord(EXPORT_COLUMNS.map((c) => {
    const v = rec[c];
    return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
  }));
}

export function jsonlLineOf(r: RequestRecord): string {
  return `${JSON.stringify(exportRecord(r))}\n`;
}

export interface ExportQuery {
  since?: string | number;
  until?: string | number;
  format: ExportFormat;
  /** Rows per ledger page. Default 1000. */
  pageSize?: number;
}

/**
 * Writes the export through `write`, one ledger page at a time; `write` may return a promise
 * (backpressure). Returns the number of rows written.
 */
export async function exportLedger(ledger: Pick<Ledger, 'requestsInRange'>, q: ExportQuery, write: (chunk: string) => void | Promise<void>): Promise<number> {
  const line = q.format === 'csv' ? csvLineOf : jsonlLineOf;
  if (q.format === 'csv') await write(csvRecord([...EXPORT_COLUMNS]));
  let afterId: string | undefined;
  let rows = 0;
  for (;;) {
    const page = ledger.requestsInRange({ since: q.since, until: q.until, limit: q.pageSize ?? 1000, afterId });
    if (page.requests.length > 0) await write(page.requests.map(line).join(''));
    rows += page.requests.length;
    if (page.nextAfterId === null) return rows;
    afterId = page.nextAfterId;
  }
}

export interface AtomicFileWriter {
  write(chunk: string): Promise<void>;
  /** fsyncs and renames over the target: readers see the old file or the whole new one. */
  commit(): Promise<void>;
  /** Removes the temp file; the target is untouched. */
  abort(): Promise<void>;
}

/**
 * writeFileAtomic's temp-file-and-rename, for data written in pieces: an export can be larger
 * than memory should hold, so it cannot be handed over as one string.
 */
export async function openAtomicFile(path: string, mode = 0o600): Promise<AtomicFileWriter> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, mode);
  let done = false;
  return {
    write: async (chunk) => { await fh.write(chunk); },
    async commit() {
      if (done) return;
      done = true;
      try {
        await fh.sync();
        await fh.close();
        await fs.rename(tmp, path);
      } catch (err) {
        await fh.close().catch(() => {});
        await fs.rm(tmp, { force: true });
        throw err;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await fh.close().catch(() => {});
      await fs.rm(tmp, { force: true });
    },
  };
}
