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

/** One transcript line's place in its session's history, for telling originals from copies. */
interface HistoryLine {
  /** `uuid`, else the response key of an assistant line, else null (a line no fork copies). */
  identity: string | null;
  ts: number;
}

/**
 * The session that produced each shared response. `claude --resume X --fork-session` copies X's
 * lines into the new transcript unchanged (same `uuid`, `requestId`, `message.id`,
 * `timestamp`) with only `sessionId` rewritten, so content cannot tell original from copy; what
 * can is where each session's history really begins. A session's own start is its earliest line
 * that no other session shares (a queue operation, its first new prompt); a fork's own start is
 * after the fork was made, so after every line it copied, while the original's own lines began
 * before its responses existed. A session all of whose lines are shared is the original of its
 * copies (a fork always adds at least its new prompt), so its start is its earliest line. The
 * owner of a response is the sharing session with the earliest own start (ties: the smaller id,
 * so the result never depends on file order).
 */
function ownersOf(histories: Map<string, HistoryLine[]>): (sessions: Iterable<string>) => string {
  const holders = new Map<string, Set<string>>();
  for (const [session, lines] of histories) {
    for (const l of lines) {
      if (l.identity === null) continue;
      let h = holders.get(l.identity);
      if (h === undefined) holders.set(l.identity, (h = new Set()));
      h.add(session);
    }
  }
  const ownStart = new Map<string, number>();
  for (const [session, lines] of histories) {
    let own = Infinity;
    let any = Infinity;
    for (const l of lines) {
      any = Math.min(any, l.ts);
      if (l.identity === null || holders.get(l.identity)!.size === 1) own = Math.min(own, l.ts);
    }
    ownStart.set(session, own === Infinity ? any : own);
  }
  return (sessions) => {
    let best: string | null = null;
    for (const s of sessions) {
      if (best === null) {
        best = s;
        continue;
      }
      const a = ownStart.get(s) ?? Infinity;
      const b = ownStart.get(best) ?? Infinity;
      if (a < b || (a === b && s < best)) best = s;
    }
    return best!;
  };
}

/**
 * Reads every transcript under `opts.dir` and writes one row per distinct response, under the
 * session that produced it (see `ownersOf`): the same transcripts give the same per-session
 * numbers whatever order the files are read in. Safe to run again (and while Claude Code is
 * writing): known responses are skipped, and one stored from a half-written transcript is
 * replaced when a later run sees more output tokens. A missing `dir` imports nothing.
 */
export async function importClaudeCodeTranscripts(ledger: ImportTarget, opts: ImportOptions): Promise<ImportResult> {
  const now = opts.now ?? Date.now;
  const batchSize = opts.batchSize ?? 1000;
  const result: ImportResult = {
    files: 0, lines: 0, responses: 0, inserted: 0, skippedDuplicates: 0, updated: 0, shadowedByGateway: 0, malformed: 0, synthetic: 0, unreadableFiles: 0,
  };
  // Pass 1: every response (merged over its lines and copies) and every session's history.
  const responses = new Map<string, Candidate & { sessions: Set<string> }>();
  const histories = new Map<string, HistoryLine[]>();
  const files = await listJsonl(opts.dir);
  for (const file of files) {
    const fileSession = basename(file, '.jsonl');
    const byKey = new Map<string, Candidate>();
    const history: { session: string; line: HistoryLine }[] = [];
    let lines = 0;
    let malformed = 0;
    let synthetic = 0;
    try {
      const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      for await (const text of rl) {
        if (text.trim() === '') continue;
        lines++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          malformed++;
          continue;
        }
        if (!isRecord(parsed)) {
          malformed++;
          continue;
        }
        const row = rowFromLine(parsed, fileSession, opts.priceBook, now);
        const key = typeof row === 'object' ? `${row.messageId ?? ''}\u0000${row.upstreamRequestId ?? ''}` : null;
        const ts = typeof parsed.timestamp === 'string' ? Date.parse(parsed.timestamp) : NaN;
        if (Number.isFinite(ts)) {
          // Subagent transcripts carry their parent's sessionId: they count under it.
          history.push({ session: str(parsed.sessionId) ?? fileSession, line: { identity: str(parsed.uuid) ?? key, ts } });
        }
        if (row === 'skip') continue;
        if (row === 'malformed') {
          malformed++;
          continue;
        }
        if (row === 'synthetic') {
          synthetic++;
          continue;
        }
        const prev = byKey.get(key!);
        const first = Math.min(prev?.first ?? row.tsStart, row.tsStart);
        const last = Math.max(prev?.last ?? row.tsStart, row.tsStart);
        // The largest output_tokens is the final line of the response; on a tie the later line.
        const keep = prev === undefined || row.outputTokens >= prev.row.outputTokens ? row : prev.row;
        byKey.set(key!, { row: keep, first, last });
      }
    } catch {
      result.unreadableFiles++;
      continue;
    }
    result.files++;
    result.lines += lines;
    result.malformed += malformed;
    result.synthetic += synthetic;
    for (const { session, line } of history) {
      let h = histories.get(session);
      if (h === undefined) histories.set(session, (h = []));
      h.push(line);
    }
    for (const [key, c] of byKey) {
      const prev = responses.get(key);
      if (prev === undefined) {
        responses.set(key, { ...c, sessions: new Set([c.row.sessionId!]) });
        continue;
      }
      // A copy (resume, fork): one response, seen again.
      result.skippedDuplicates++;
      prev.sessions.add(c.row.sessionId!);
      if (c.row.outputTokens > prev.row.outputTokens) prev.row = c.row;
      prev.first = Math.min(prev.first, c.first);
      prev.last = Math.max(prev.last, c.last);
    }
  }

  // Pass 2: each response under its owner, in a stable order.
  const ownerOf = ownersOf(histories);
  const rows: LedgerRow[] = [];
  for (const c of responses.values()) {
    result.responses++;
    const sessionId = c.sessions.size === 1 ? c.row.sessionId : ownerOf(c.sessions);
    // The response spans its lines: started at the first, ended at the last.
    rows.push({ ...c.row, sessionId, tsStart: c.first, tsEnd: c.last });
  }
  rows.sort((a, b) => a.tsStart - b.tsStart || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 0; i < rows.length; i += batchSize) {
    const r = ledger.write(rows.slice(i, i + batchSize));
    result.inserted += r.inserted;
    result.skippedDuplicates += r.ignored;
    result.updated += r.replaced;
    result.shadowedByGateway += r.shadowed;
  }
  return result;
}
