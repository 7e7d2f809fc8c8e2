// Imports Claude Code's own transcripts (~/.claude/projects/**/<session>.jsonl) into the ledger
// as source 'import' rows, so sessions run without Sluice still show their cost. Reads files
// only; must not import the pipeline, express or SQLite (it writes through an ImportTarget).
//
// Transcript facts relied on (Claude Code 1.x-2.x): one JSON object per line; assistant lines
// carry `requestId`, `sessionId`, `cwd`, `timestamp` (ISO 8601), `version`, and `message` with
// `id`, `model`, `stop_reason` and `usage` (the Messages API usage object). A response with
// several content blocks is written as several lines sharing message.id + requestId, each
// repeating the usage; the last one holds the final output_tokens. Errors Claude Code makes up
// itself are written with model `<synthetic>` and never reached the API.
import { createReadStream, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PriceBook } from '../pricing/cost.js';
import type { Usage } from '../meter/usage-tap.js';
import { pickUsage } from '../meter/usage-tap.js';
import { costPicoOf, splitUsage } from './costing.js';
import type { LedgerRow, WriteResult } from './types.js';

/** The slice of a Ledger the importer needs. */
export interface ImportTarget {
  write(rows: readonly LedgerRow[]): WriteResult;
}

export interface ImportOptions {
  /** `~/.claude/projects`, or `$CLAUDE_CONFIG_DIR/projects`. */
  dir: string;
  priceBook: PriceBook;
  /** Timestamp for a line whose `timestamp` is missing or unreadable. */
  now?: () => number;
  /** Rows per transaction. Default 1000. */
  batchSize?: number;
}

export interface ImportResult {
  files: number;
  lines: number;
  /** Distinct responses (message.id + requestId) with usage, across all files. */
  responses: number;
  inserted: number;
  /** Responses the ledger already held (an earlier import, or a resumed session's copy). */
  skippedDuplicates: number;
  /** Stored earlier from a partial transcript and now completed. */
  updated: number;
  /** Stored but left out of the sums because the gateway recorded the same message. */
  shadowedByGateway: number;
  /** Lines that were not a JSON object, or an assistant line with an unreadable usage. */
  malformed: number;
  /** `<synthetic>` responses Claude Code made up without calling the API. */
  synthetic: number;
  /** Files that could not be read (permissions, vanished mid-walk). */
  unreadableFiles: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Every *.jsonl under `dir`; subagent transcripts sit in nested folders. Symlinks are not followed. */
async function listJsonl(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      if (d === dir && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (d === dir) throw err;
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.jsonl')) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

interface Candidate {
  row: LedgerRow;
  /** Earliest and latest line of the response. */
  first: number;
  last: number;
}

/** An assistant line's response as a ledger row, or a reason it is not one. */
function rowFromLine(line: Record<string, unknown>, fileSession: string, priceBook: PriceBook, now: () => number):
  LedgerRow | 'skip' | 'malformed' | 'synthetic' {
  if (line.type !== 'assistant' || !isRecord(line.message)) return 'skip';
  const msg = line.message;
  if (msg.usage === undefined || msg.usage === null) return 'skip';
  const picked = pickUsage(msg.usage);
  if (picked === null) return 'malformed';
  const model = str(msg.model);
  if (model === '<synthetic>') return 'synthetic';
  const messageId = str(msg.id);
  const requestId = str(line.requestId);
  // Without an id the response cannot be deduplicated against a re-import; leaving it out
  // keeps imports idempotent.
  if (messageId === null && requestId === null) return 'malformed';
  const usage: Usage = { ...picked, input_tokens: picked.input_tokens ?? 0, output_tokens: picked.output_tokens ?? 0 };
  const parsedTs = typeof line.timestamp === 'string' ? Date.parse(line.timestamp) : NaN;
  const ts = Number.isFinite(parsedTs) ? parsedTs : now();
  const tokens = splitUsage(usage);
  const stopReason = str(msg.stop_reason);
  return {
    id: `import:${requestId ?? messageId}`,
    tsStart: ts,
    tsEnd: ts,
    sessionId: str(line.sessionId) ?? fileSession,
    sessionSource: 'transcript',
    agentId: str(line.agentId),
    parentAgentId: null,
    tool: 'claude-code',
    callerKind: 'import',
    clientFamily: 'claude-code',
    clientVersion: str(line.version),
    method: 'POST',
    path: '/v1/messages',
    endpoint: 'messages',
    requestedModel: model,
    servedModel: model,
    // Claude Code streams every Messages call.
    stream: true,
    status: null,
    stopReason,
    errorType: null,
    ttfbMs: null,
    totalMs: null,
    upstreamRequestId: requestId,
    messageId,
    bytesIn: 0,
    bytesOut: 0,
    provider: 'anthropic',
    keyId: null,
    ...tokens,
    costPico: costPicoOf(priceBook, model, usage),
    billed: true,
    complete: stopReason !== null,
    source: 'import',
    project: str(line.cwd),
  };
}

/**
 * Reads every transcript under `opts.dir` and writes one row per distinct response. Safe to run
 * again (and while Claude Code is writing): known responses are skipped, and one stored from a
 * half-written transcript is replaced when a later run sees more output tokens. A missing `dir`
 * imports nothing.
 */
export async function importClaudeCodeTranscripts(ledger: ImportTarget, opts: ImportOptions): Promise<ImportResult> {
  const now = opts.now ?? Date.now;
  const batchSize = opts.batchSize ?? 1000;
  const result: ImportResult = {
    files: 0, lines: 0, responses: 0, inserted: 0, skippedDuplicates: 0, updated: 0, shadowedByGateway: 0, malformed: 0, synthetic: 0, unreadableFiles: 0,
  };
  // Keys seen in earlier files: a resumed session's file repeats the earlier responses.
  const seen = new Set<string>();
  const files = await listJsonl(opts.dir);
  for (const file of files) {
    const fileSession = basename(file, '.jsonl');
    const byKey = new Map<string, Candidate>();
    try {
      const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      for await (const text of rl) {
        if (text.trim() === '') continue;
        result.lines++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          result.malformed++;
          continue;
        }
        if (!isRecord(parsed)) {
          result.malformed++;
          continue;
        }
        const row = rowFromLine(parsed, fileSession, opts.priceBook, now);
        if (row === 'skip') continue;
        if (row === 'malformed') {
          result.malformed++;
          continue;
        }
        if (row === 'synthetic') {
          result.synthetic++;
          continue;
        }
        const key = `${row.messageId ?? ''}\u0000${row.upstreamRequestId ?? ''}`;
        const prev = byKey.get(key);
        const first = Math.min(prev?.first ?? row.tsStart, row.tsStart);
        const last = Math.max(prev?.last ?? row.tsStart, row.tsStart);
        // The largest output_tokens is the final line of the response; on a tie the later line.
        const keep = prev === undefined || row.outputTokens >= prev.row.outputTokens ? row : prev.row;
        byKey.set(key, { row: keep, first, last });
      }
    } catch {
      result.unreadableFiles++;
      continue;
    }
    result.files++;
    const rows: LedgerRow[] = [];
    for (const [key, c] of byKey) {
      if (!seen.has(key)) {
        seen.add(key);
        result.responses++;
      }
      // The response spans its lines: started at the first, ended at the last.
      rows.push({ ...c.row, tsStart: c.first, tsEnd: c.last });
    }
    for (let i = 0; i < rows.length; i += batchSize) {
      const r = ledger.write(rows.slice(i, i + batchSize));
      result.inserted += r.inserted;
      result.skippedDuplicates += r.ignored;
      result.updated += r.replaced;
      result.shadowedByGateway += r.shadowed;
    }
  }
  return result;
}
