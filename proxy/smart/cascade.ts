// Cascade decisions the gateway needs while no byte has reached the client yet: which configured
// trigger (if any) an upstream attempt's outcome fires, and the stop reason of a complete response
// body. Pure; imports the top-level JSON scanner and this folder's schema types only.
import { readField, scanTopLevel } from '../json-scan.js';
import type { Cascade, CascadeTrigger } from './schema.js';

/** What one upstream attempt ended with. */
export interface AttemptOutcome {
  /** HTTP status; null when no response arrived (transport failures are routing fallbacks' job). */
  status: number | null;
  /** The response's stop_reason, when it completed. */
  stopReason: string | null;
  /** The error type of an error that arrived inside a 200 stream (`event: error`). */
  errorType?: string | null;
}

// An error inside a 200 stream stands for the status it would have had (PROTOCOL.md's table).
const STATUS_OF_ERROR_TYPE: Readonly<Record<string, number>> = {
  rate_limit_error: 429,
  overloaded_error: 529,
  api_error: 500,
  timeout_error: 504,
};

/**
 * The trigger an outcome fires for this cascade, or null to deliver the response as it is.
 * Specific triggers win over `error_status` (a 429 is `rate_limit` when that trigger is on).
 * `max_tokens` also covers `model_context_window_exceeded`: both mean the answer was cut short.
 * 503 counts as overloaded: OpenAI-compatible providers answer that where Anthropic sends 529.
 */
export function escalationReason(cascade: Pick<Cascade, 'triggers' | 'errorStatuses'>, outcome: AttemptOutcome): CascadeTrigger | null {
  const on = new Set(cascade.triggers);
  const status = outcome.errorType && outcome.status !== null && outcome.status < 300
    ? STATUS_OF_ERROR_TYPE[outcome.errorType] ?? 500
    : outcome.status;
  if (status === null) return null;
  if (status >= 400) {
    if (status === 429 && on.has('rate_limit')) return 'rate_limit';
    if ((status === 529 || status === 503) && on.has('overloaded')) return 'overloaded';
    if (on.has('error_status')) {
      const listed = cascade.errorStatuses ? cascade.errorStatuses.includes(status) : status >= 500;
      if (listed) return 'error_status';
    }
    return null;
  }
  if (status >= 200 && status < 300) {
    if (outcome.stopReason === 'refusal' && on.has('refusal')) return 'refusal';
    if ((outcome.stopReason === 'max_tokens' || outcome.stopReason === 'model_context_window_exceeded') && on.has('max_tokens')) return 'max_tokens';
  }
  return null;
}

/** How a complete response body ended. */
export interface ResponseEnd {
  stopReason: string | null;
  /** The error's type when the body is an error (JSON envelope or `event: error`). */
  errorType: string | null;
  /** The body is a whole message (a stream that reached message_stop, or a parsable JSON body). */
  complete: boolean;
}

const NONE: ResponseEnd = { stopReason: null, errorType: null, complete: false };

/**
 * Reads how a decoded (not compressed) Messages response ended. JSON: the top-level
 * `stop_reason`, found by the scanner without parsing the content. SSE: walks back from the end
 * over the last events only (message_delta carries stop_reason, message_stop follows it); a
 * stream cut before message_stop is incomplete and yields no stop reason.
 */
export function readResponseEnd(body: Buffer, contentType: string | null | undefined): ResponseEnd {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('text/event-stream')) return readSseEnd(body);
  if (ct.includes('json')) return readJsonEnd(body);
  return NONE;
}

/** The stop_reason of a complete JSON message or SSE stream, else null. */
export function stopReasonOf(body: Buffer, contentType: string | null | undefined): string | null {
  return readResponseEnd(body, contentType).stopReason;
}

function readJsonEnd(body: Buffer): ResponseEnd {
  try {
    const fields = scanTopLevel(body);
    if (readField(body, fields, 'type') === 'error') {
      const err = readField(body, fields, 'error') as { type?: unknown } | undefined;
      return { stopReason: null, errorType: typeof err?.type === 'string' ? err.type : null, complete: true };
    }
    const stop = readField(body, fields, 'stop_reason');
    return { stopReason: typeof stop === 'string' ? stop : null, errorType: null, complete: true };
  } catch {
    return NONE;
  }
}

/** message_delta and message_stop are small and last; this much tail always holds both. */
const SSE_TAIL_BYTES = 64 * 1024;
const MAX_EVENTS_BACK = 32;

interface SseEvent { name: string | null; data: string }

/** The complete events in `text`, last first; an event counts only once its blank line arrived. */
function eventsFromEnd(text: string, fromStart: boolean): SseEvent[] {
  const blocks = text.split(/\r\n\r\n|\n\n|\r\r/);
  // The piece after the last blank line is an event still arriving (or empty): not dispatched.
  blocks.pop();
  // A tail cut from the middle of the body may begin inside an event: drop that piece.
  if (!fromStart) blocks.shift();
  const out: SseEvent[] = [];
  for (let i = blocks.length - 1; i >= 0 && out.length < MAX_EVENTS_BACK; i--) {
    let name: string | null = null;
    const data: string[] = [];
    for (const line of blocks[i]!.split(/\r\n|\n|\r/)) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (name === null && data.length === 0) continue; // comments and keep-alives
    out.push({ name, data: data.join('\n') });
  }
  return out;
}

function readSseEnd(body: Buffer): ResponseEnd {
  const from = Math.max(0, body.length - SSE_TAIL_BYTES);
  let sawStop = false;
  for (const ev of eventsFromEnd(body.toString('utf8', from), from === 0)) {
    let data: { type?: unknown; delta?: { stop_reason?: unknown }; error?: { type?: unknown } } | null = null;
    try {
      data = ev.data ? JSON.parse(ev.data) : null;
    } catch {
      return NONE;
    }
    const type = typeof data?.type === 'string' ? data.type : ev.name;
    if (type === 'ping') continue;
    if (type === 'message_stop') { sawStop = true; continue; }
    if (type === 'error') {
      return { stopReason: null, errorType: typeof data?.error?.type === 'string' ? data.error.type : null, complete: true };
    }
    if (type === 'message_delta') {
      if (!sawStop) return NONE;
      const stop = data?.delta?.stop_reason;
      return { stopReason: typeof stop === 'string' ? stop : null, errorType: null, complete: true };
    }
    // Content or message_start after the last message_delta: the stream did not finish. Other
    // (unknown) event types are tolerated, as the protocol asks.
    if (type === 'message_start' || (typeof type === 'string' && type.startsWith('content_block'))) return NONE;
  }
  return NONE;
}
