// The usage tap: reads a copy of each upstream response chunk and reports what the response cost
// (usage, model, stop reason, errors). It never alters or delays the bytes and never throws into
// the data path. Must not import the pipeline, express, the store or pricing (the JSON scanner
// is a leaf module).
import { Buffer } from 'node:buffer';
import { createDecodingSink, parseContentEncoding, type ByteSink } from './body-decoder.js';
import { createSseParser } from './sse-parser.js';
import { readField, scanTopLevel } from '../json-scan.js';

/** Token usage as Anthropic reports it; the pricing module prices exactly this shape. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number };
  server_tool_use?: { web_search_requests?: number; web_fetch_requests?: number };
  service_tier?: string;
}

export interface UsageReport {
  kind: 'message' | 'count_tokens' | 'error' | 'other';
  /** The body was an SSE stream. */
  streamed: boolean;
  /** HTTP status of the response, as passed in. */
  status: number;
  usage: Usage | null;
  countTokens: number | null;
  servedModel: string | null;
  messageId: string | null;
  stopReason: string | null;
  /** A stream reached message_stop, or a JSON body parsed in full. */
  complete: boolean;
  aborted: boolean;
  /** From an SSE `event: error` or a JSON error envelope. */
  error: { type: string; message: string } | null;
  /** Why (part of) the body could not be read; the first problem wins. */
  parseError: string | null;
  /** Bytes seen on the wire (before decompression). */
  bytes: number;
  /**
   * Non-empty text, thinking and tool-input deltas (`content_block_delta` with a text_delta,
   * thinking_delta or input_json_delta holding at least one character) that passed. A floor for
   * the output of a stream that ended early: see `deliveredOutputFloor` in ledger/costing.ts.
   */
  contentDeltas: number;
}

export interface UsageTapOptions {
  contentType?: string;
  contentEncoding?: string;
  status: number;
  /** Cap on a partial SSE line (and on one stored event's data). Default 8 MiB. */
  maxSseLineBytes?: number;
  /** Cap on a buffered JSON body after decoding. Default 64 MiB. */
  maxJsonBytes?: number;
}

export interface UsageTap {
  /** Never throws. Writes after end() are ignored. */
  write(chunk: Uint8Array): void;
  /** Never rejects. A second call returns the same report. */
  end(opts?: { aborted?: boolean }): Promise<UsageReport>;
}

export const DEFAULT_MAX_SSE_LINE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024;

// Only these carry usage, identity or failure; everything else (content_block_*, ping, unknown
// future types) is skipped without a JSON.parse, which is what keeps the tap cheap.
const METERED_EVENTS = new Set(['message_start', 'message_delta', 'message_stop', 'error']);
/** Counted, never parsed: a sniff of its delta says whether it carried output. */
const DELTA_EVENT = 'content_block_delta';
// A delta's payload field with a non-empty string (the character after the opening quote is
// not the closing one; a quote inside the text is escaped). Tool use opens with an empty `"partial_json":""`, which carries
// no token; signature_delta carries no output text and matches none of these fields.
const DELTA_PAYLOAD = /"(?:text|thinking|partial_json)"\s*:\s*"[^"]/;

type BodyKind = 'sse' | 'json' | 'other';

function bodyKindOf(contentType: string | undefined): BodyKind {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'text/event-stream') return 'sse';
  if (media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))) return 'json';
  return 'other';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

type PartialUsage = Partial<Usage>;

/** The top-level fields a JSON response is metered from (message, error envelope, count_tokens). */
const RESPONSE_FIELDS = ['type', 'id', 'model', 'stop_reason', 'usage', 'error', 'input_tokens'] as const;

/**
 * Those fields of a JSON response, read out of its bytes: `content` (the bulk of a message) is
 * skipped, never parsed. Throws when the body is not an object or a read field is not JSON.
 */
function responseFields(buf: Buffer): Record<string, unknown> {
  const fields = scanTopLevel(buf);
  const out: Record<string, unknown> = {};
  for (const k of RESPONSE_FIELDS) {
    const v = readField(buf, fields, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Copies the known usage fields that are present with the right type. Absent and null fields
 * are left out, so merging a later object over an earlier one keeps the earlier value for them.
 */
export function pickUsage(raw: unknown): PartialUsage | null {
  if (!isRecord(raw)) return null;
  const out: PartialUsage = {};
  const input = num(raw.input_tokens);
  if (input !== undefined) out.input_tokens = input;
  const output = num(raw.output_tokens);
  if (output !== undefined) out.output_tokens = output;
  const cw = num(raw.cache_creation_input_tokens);
  if (cw !== undefined) out.cache_creation_input_tokens = cw;
  const cr = num(raw.cache_read_input_tokens);
  if (cr !== undefined) out.cache_read_input_tokens = cr;
  if (isRecord(raw.cache_creation)) {
    const cc: NonNullable<Usage['cache_creation']> = {};
    const m5 = num(raw.cache_creation.ephemeral_5m_input_tokens);
    if (m5 !== undefined) cc.ephemeral_5m_input_tokens = m5;
    const h1 = num(raw.cache_creation.ephemeral_1h_input_tokens);
    if (h1 !== undefined) cc.ephemeral_1h_input_tokens = h1;
    out.cache_creation = cc;
  }
  if (isRecord(raw.server_tool_use)) {
    const st: NonNullable<Usage['server_tool_use']> = {};
    const ws = num(raw.server_tool_use.web_search_requests);
    if (ws !== undefined) st.web_search_requests = ws;
    const wf = num(raw.server_tool_use.web_fetch_requests);
    if (wf !== undefined) st.web_fetch_requests = wf;
    out.server_tool_use = st;
  }
  const tier = str(raw.service_tier);
  if (tier !== undefined) out.service_tier = tier;
  return out;
}

/** Later values win per field (nested objects per sub-field); absent fields keep earlier ones. */
export function mergeUsage(base: PartialUsage | null, later: PartialUsage | null): PartialUsage | null {
  if (base === null) return later;
  if (later === null) return base;
  const out: PartialUsage = { ...base, ...later };
  if (base.cache_creation && later.cache_creation) out.cache_creation = { ...base.cache_creation, ...later.cache_creation };
  if (base.server_tool_use && later.server_tool_use) out.server_tool_use = { ...base.server_tool_use, ...later.server_tool_use };
  return out;
}

function completeUsage(p: PartialUsage | null): Usage | null {
  if (p === null) return null;
  // A stream missing message_start (or message_delta) has no count for that side; 0 is what
  // was observed, and the report's complete flag says the picture is partial.
  return { ...p, input_tokens: p.input_tokens ?? 0, output_tokens: p.output_tokens ?? 0 };
}

function errorOf(raw: unknown): { type: string; message: string } | null {
  if (!isRecord(raw) || !isRecord(raw.error)) return null;
  return { type: str(raw.error.type) ?? 'unknown', message: str(raw.error.message) ?? '' };
}

/** When an event has no `event:` line its type falls back to the JSON's leading "type" field. */
const SNIFF_TYPE = /^\s*\{\s*"type"\s*:\s*"([A-Za-z_]+)"/;

/**
 * @example
 * const tap = createUsageTap({ contentType: res.headers['content-type'], contentEncoding: res.headers['content-encoding'], status: res.statusCode });
 * upstream.on('data', (c) => { client.write(c); tap.write(c); });
 * upstream.on('end', async () => { client.end(); ledger.record(await tap.end()); });
 */
export function createUsageTap(opts: UsageTapOptions): UsageTap {
  const bodyKind = bodyKindOf(opts.contentType);
  const maxLine = opts.maxSseLineBytes ?? DEFAULT_MAX_SSE_LINE_BYTES;
  const maxJson = opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;

  let bytes = 0;
  let aborted = false;
  let stopped = false; // nothing more is worth reading: skip decoding too
  let parseError: string | null = null;
  let ended: Promise<UsageReport> | null = null;

  let kind: UsageReport['kind'] = 'other';
  let usage: PartialUsage | null = null;
  let countTokens: number | null = null;
  let servedModel: string | null = null;
  let messageId: string | null = null;
  let stopReason: string | null = null;
  let complete = false;
  let error: UsageReport['error'] = null;
  let sawMessage = false;
  let contentDeltas = 0;

  function noteParseError(message: string): void {
    if (parseError === null) parseError = message;
  }

  function giveUp(message: string): void {
    noteParseError(message);
    stopped = true;
  }

  // --- SSE ---------------------------------------------------------------------------------
  function onSseEvent(type: string, data: string): void {
    if (type === DELTA_EVENT) {
      if (DELTA_PAYLOAD.test(data)) contentDeltas++;
      return;
    }
    let effective = type;
    if (type === 'message') {
      const m = SNIFF_TYPE.exec(data.slice(0, 64));
      if (m !== null && m[1] === DELTA_EVENT) {
        onSseEvent(DELTA_EVENT, data);
        return;
      }
      if (m === null || !METERED_EVENTS.has(m[1]!)) return;
      effective = m[1]!;
    }
    if (!METERED_EVENTS.has(effective)) return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      noteParseError(`malformed JSON in SSE ${effective} event`);
      return;
    }
    if (!isRecord(payload)) return;
    switch (effective) {
      case 'message_start': {
        sawMessage = true;
        const msg = payload.message;
        if (!isRecord(msg)) return;
        messageId = str(msg.id) ?? messageId;
        servedModel = str(msg.model) ?? servedModel;
        stopReason = str(msg.stop_reason) ?? stopReason;
        usage = mergeUsage(usage, pickUsage(msg.usage));
        return;
      }
      case 'message_delta': {
        sawMessage = true;
        if (isRecord(payload.delta)) stopReason = str(payload.delta.stop_reason) ?? stopReason;
        // message_delta usage is cumulative for the whole response, so it replaces, not adds.
        usage = mergeUsage(usage, pickUsage(payload.usage));
        return;
      }
      case 'message_stop':
        complete = true;
        return;
      case 'error':
        error = errorOf(payload) ?? { type: 'unknown', message: '' };
        return;
    }
  }

  function createSseSink(): ByteSink {
    const parser = createSseParser({
      onEvent: (type, data) => {
        try {
          onSseEvent(type, data);
        } catch (err) {
          noteParseError(`SSE event handling failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
      wantsData: (type) => type === 'message' || type === DELTA_EVENT || METERED_EVENTS.has(type),
      maxPendingBytes: maxLine,
    });
    return {
      write(chunk) {
        if (stopped) return;
        parser.push(chunk);
        if (parser.failure !== null) giveUp(parser.failure);
      },
      async end() {
        parser.finish();
      },
    };
  }

  // --- JSON --------------------------------------------------------------------------------
  // `copy`: a decoder may reuse its output memory; undecoded chunks are the socket's own, fresh per read.
  function createJsonSink(copy: boolean): ByteSink {
    let parts: Buffer[] = [];
    let size = 0;
    return {
      write(chunk) {
        if (stopped) return;
        size += chunk.byteLength;
        if (size > maxJson) {
          parts = [];
          giveUp(`JSON body exceeded ${maxJson} bytes`);
          return;
        }
        parts.push(copy ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      },
      async end() {
        if (stopped) return;
        const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        parts = [];
        let body: unknown;
        try {
          body = responseFields(buf);
        } catch {
          // Not an object whose fields read: the whole parse says what it is, or why it fails.
          try {
            body = JSON.parse(buf.toString('utf8'));
          } catch (err) {
            // A body cut off by an abort is expected not to parse; anything else is a real problem.
            if (!aborted) noteParseError(`invalid JSON body: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
        }
        complete = true;
        readJsonBody(body);
      },
    };
  }

  function readJsonBody(body: unknown): void {
    if (!isRecord(body)) return;
    if (body.type === 'message') {
      kind = 'message';
      messageId = str(body.id) ?? null;
      servedModel = str(body.model) ?? null;
      stopReason = str(body.stop_reason) ?? null;
      usage = pickUsage(body.usage);
      return;
    }
    if (body.type === 'error') {
      kind = 'error';
      error = errorOf(body) ?? { type: 'unknown', message: '' };
      return;
    }
    // count_tokens answers {"input_tokens": N} (possibly with extra fields), with no "type".
    const n = num(body.input_tokens);
    if (body.type === undefined && n !== undefined) {
      kind = 'count_tokens';
      countTokens = n;
    }
  }

  // --- wiring ------------------------------------------------------------------------------
  let sink: ByteSink | null = null;
  if (bodyKind !== 'other') {
    const encoding = parseContentEncoding(opts.contentEncoding);
    if (!encoding.ok) {
      giveUp(`unsupported content-encoding "${encoding.unsupported}"`);
    } else {
      const inner = bodyKind === 'sse' ? createSseSink() : createJsonSink(encoding.codings.length > 0);
      sink = createDecodingSink(encoding.codings, inner, {
        onError: (message) => giveUp(message),
        isAborted: () => aborted,
      });
    }
  }

  function report(): UsageReport {
    if (bodyKind === 'sse') {
      if (sawMessage) kind = 'message';
      else if (error !== null) kind = 'error';
    }
    return {
      kind,
      streamed: bodyKind === 'sse',
      status: opts.status,
      usage: completeUsage(usage),
      countTokens,
      servedModel,
      messageId,
      stopReason,
      complete,
      aborted,
      error,
      parseError,
      bytes,
      contentDeltas,
    };
  }

  async function finish(): Promise<UsageReport> {
    try {
      if (sink !== null) await sink.end();
    } catch (err) {
      noteParseError(`usage tap failed at end: ${err instanceof Error ? err.message : String(err)}`);
    }
    return report();
  }

  return {
    write(chunk) {
      if (ended !== null) return;
      bytes += chunk.byteLength;
      if (stopped || sink === null) return;
      try {
        sink.write(chunk);
      } catch (err) {
        // Nothing above should throw; this is the last guard between a bug here and the client.
        giveUp(`usage tap failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    end(endOpts) {
      if (ended === null) {
        aborted = endOpts?.aborted === true;
        ended = finish();
      }
      return ended;
    },
  };
}
