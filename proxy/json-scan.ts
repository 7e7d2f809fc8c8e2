// Reads a JSON object's top-level fields straight out of the request bytes, without parsing
// or re-serialising the body: the gateway forwards the original bytes and only peeks at small
// fields (model, stream, max_tokens, metadata). Pure; imports nothing.

/** Byte range of one top-level value: `buf.subarray(start, end)` is its JSON text. */
export interface ValueSpan {
  start: number;
  end: number;
}

export class JsonScanError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
  }
}

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;
const COLON = 0x3a, COMMA = 0x2c;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function skipWs(buf: Uint8Array, i: number): number {
  while (i < buf.length && isWs(buf[i]!)) i++;
  return i;
}

/** Strings up to this long are read byte by byte; longer ones jump from quote to quote. */
const SHORT_STRING = 64;

/**
 * Index just past the closing quote of the string whose opening quote is at `i`.
 * The first bytes are read in a plain loop: most strings in a request (keys, block types, ids,
 * tool names) end within them, and a loop over a few bytes costs less than a call into native
 * code. A string still open after that jumps from quote to quote with the native indexOf
 * (memchr), so a long one costs per quote, not per byte: prompt text is the bulk of a body.
 */
export function skipString(buf: Buffer, i: number): number {
  let j = i + 1;
  const stop = Math.min(buf.length, j + SHORT_STRING);
  while (j < stop) {
    const c = buf[j]!;
    if (c === QUOTE) return j + 1;
    j += c === BACKSLASH ? 2 : 1;
  }
  for (;;) {
    const q = buf.indexOf(QUOTE, j);
    if (q < 0) throw new JsonScanError('unterminated string', i);
    // A quote is escaped when preceded by an odd run of backslashes.
    let bs = 0;
    for (let k = q - 1; k > i && buf[k] === BACKSLASH; k--) bs++;
    if (bs % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the value starting at `i` (object, array, string or scalar). */
export function skipValue(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === undefined) throw new JsonScanError('value expected', i);
  if (c === QUOTE) return skipString(buf, i);
  if (c === LBRACE || c === LBRACKET) {
    // Nested containers: only brackets and strings matter for finding the end.
    let depth = 0;
    let j = i;
    while (j < buf.length) {
      const b = buf[j]!;
      if (b === QUOTE) { j = skipString(buf, j); continue; }
      if (b === LBRACE || b === LBRACKET) depth++;
      else if (b === RBRACE || b === RBRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw new JsonScanError('unterminated container', i);
  }
  // Scalar: number, true, false, null. Ends at a delimiter.
  let j = i;
  while (j < buf.length) {
    const b = buf[j]!;
    if (b === COMMA || b === RBRACE || b === RBRACKET || isWs(b)) break;
    j++;
  }
  if (j === i) throw new JsonScanError('value expected', i);
  return j;
}

/**
 * The last scans, by buffer: one request's body is read by several stages (request info, the
 * control and team stages' max_tokens, insights), and a 1 MB Claude Code body costs a pass
 * over its quotes each time. Request bodies are never written to once read; a buffer whose
 * length changed is scanned again. Entries go with their buffer (WeakMap).
 */
const scanned = new WeakMap<Buffer, { length: number; fields: ReadonlyMap<string, ValueSpan> }>();

/**
 * Maps each top-level key of a JSON object to the byte span of its value. Validates the
 * object's top-level structure (braces, colons, commas, string and container termination) but
 * not the inside of nested values: upstream validates those and answers with its own error.
 * Keys are assumed to be plain (a key with escapes is decoded with JSON.parse). The same
 * buffer scanned again gets the same (read-only) map back.
 */
export function scanTopLevel(buf: Buffer): ReadonlyMap<string, ValueSpan> {
  const hit = scanned.get(buf);
  if (hit !== undefined && hit.length === buf.length) return hit.fields;
  const fields = scan(buf);
  scanned.set(buf, { length: buf.length, fields });
  return fields;
}

function scan(buf: Buffer): Map<string, ValueSpan> {
  const i = skipWs(buf, 0);
  // A UTF-8 byte order mark is not valid JSON for the API either; report it clearly.
  if (buf[i] !== LBRACE) throw new JsonScanError('expected a JSON object', i);
  const { fields, end } = objectFields(buf, i);
  if (skipWs(buf, end) !== buf.length) throw new JsonScanError('unexpected data after the object', end);
  return fields;
}

/**
 * Key -> value span of each member of the object whose `{` is at `start` (keys decoded; a
 * repeated key keeps its last value), and the index just past its `}`. Checks the object's own
 * structure, not the inside of its values.
 */
export function objectFields(buf: Buffer, start: number): { fields: Map<string, ValueSpan>; end: number } {
  if (buf[start] !== LBRACE) throw new JsonScanError('expected an object', start);
  const fields = new Map<string, ValueSpan>();
  let i = skipWs(buf, start + 1);
  if (buf[i] === RBRACE) return { fields, end: i + 1 };
  for (;;) {
    if (buf[i] !== QUOTE) throw new JsonScanError('expected a key', i);
    const keyEnd = skipString(buf, i);
    const rawKey = buf.toString('utf8', i + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? decodeKey(buf.toString('utf8', i, keyEnd), i) : rawKey;
    i = skipWs(buf, keyEnd);
    if (buf[i] !== COLON) throw new JsonScanError('expected ":"', i);
    i = skipWs(buf, i + 1);
    const end = skipValue(buf, i);
    fields.set(key, { start: i, end });
    i = skipWs(buf, end);
    if (buf[i] === COMMA) { i = skipWs(buf, i + 1); continue; }
    if (buf[i] === RBRACE) return { fields, end: i + 1 };
    throw new JsonScanError('expected "," or "}"', i);
  }
}

function decodeKey(text: string, offset: number): string {
  try {
    return JSON.parse(text) as string;
  } catch {
    throw new JsonScanError('invalid escape in a key', offset);
  }
}

/** JSON.parse of one top-level value, or undefined when absent. Throws JsonScanError if invalid. */
export function readField(buf: Buffer, fields: ReadonlyMap<string, ValueSpan>, key: string): unknown {
  const span = fields.get(key);
  if (!span) return undefined;
  try {
    return JSON.parse(buf.toString('utf8', span.start, span.end));
  } catch {
    throw new JsonScanError(`invalid JSON in field "${key}"`, span.start);
  }
}

/**
 * `max_tokens` of a Messages body, or null when absent or unreadable. Budgets (local and team)
 * reserve their worst-case estimate from it; the scan is the one cached per body buffer.
 */
export function maxTokensOf(body: Buffer): number | null {
  try {
    const v = readField(body, scanTopLevel(body), 'max_tokens');
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
  } catch {
    return null;
  }
}
