// Byte-level reads inside one JSON value for the complexity classifier: counting an array's
// elements (keeping only the last two spans), walking an object's members or an array's elements
// in one pass, and decoding a string up to a byte cap. Pure;
// builds on proxy/json-scan.ts's primitives and imports nothing else.
import { JsonScanError, skipString, skipValue, skipWs, type ValueSpan } from '../json-scan.js';

const LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d, QUOTE = 0x22, COLON = 0x3a, COMMA = 0x2c;
const BACKSLASH = 0x5c, LOWER_U = 0x75;

/** What the classifier needs from an array: how many elements, and where the last two are. */
export interface ArrayShape {
  count: number;
  last: ValueSpan | null;
  /** The element before `last` (the last user turn when the last message is an assistant prefill). */
  prev: ValueSpan | null;
}

/**
 * Counts the elements of the array at `span` without decoding any of them. Strings are jumped
 * quote to quote with the native indexOf (skipValue), so a prompt's text costs one memchr per
 * quote, not a pass per byte; no span list is allocated however long the conversation is.
 * Throws JsonScanError when the array is malformed.
 */
export function scanArray(buf: Buffer, span: ValueSpan): ArrayShape {
  const shape: ArrayShape = { count: 0, last: null, prev: null };
  forEachElement(buf, span.start, (at) => {
    const end = skipValue(buf, at);
    shape.prev = shape.last;
    shape.last = { start: at, end };
    shape.count++;
    return end;
  });
  return shape;
}

/**
 * A visitor gets the offset where a value starts and may read it, returning the offset just past
 * it; returning undefined lets the walker skip the value. Reading and skipping in one pass keeps
 * a big value from being walked twice.
 */
export type ValueVisitor = (at: number) => number | undefined;

/** Visits each element of the array whose `[` is at `start` (after whitespace); returns its end. */
export function forEachElement(buf: Buffer, start: number, visit: ValueVisitor): number {
  let i = skipWs(buf, start);
  if (buf[i] !== LBRACKET) throw new JsonScanError('expected an array', i);
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACKET) return i + 1;
  for (;;) {
    const end = visit(i) ?? skipValue(buf, i);
    i = skipWs(buf, end);
    if (buf[i] === COMMA) { i = skipWs(buf, i + 1); continue; }
    if (buf[i] === RBRACKET) return i + 1;
    throw new JsonScanError('expected "," or "]"', i);
  }
}

/** Visits each member of the object whose `{` is at `start` with its decoded key; returns its end. */
export function forEachMember(buf: Buffer, start: number, visit: (key: string, at: number) => number | undefined): number {
  let i = skipWs(buf, start);
  if (buf[i] !== LBRACE) throw new JsonScanError('expected an object', i);
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACE) return i + 1;
  for (;;) {
    if (buf[i] !== QUOTE) throw new JsonScanError('expected a key', i);
    const keyEnd = skipString(buf, i);
    const key = decodeStringCapped(buf, i, keyEnd, Infinity).text;
    i = skipWs(buf, keyEnd);
    if (buf[i] !== COLON) throw new JsonScanError('expected ":"', i);
    i = skipWs(buf, i + 1);
    const end = visit(key, i) ?? skipValue(buf, i);
    i = skipWs(buf, end);
    if (buf[i] === COMMA) { i = skipWs(buf, i + 1); continue; }
    if (buf[i] === RBRACE) return i + 1;
    throw new JsonScanError('expected "," or "}"', i);
  }
}

/** A decoded JSON string, possibly only its head. */
export interface CappedString {
  text: string;
  /** The string's raw (still escaped) bytes exceeded the cap: `text` is a prefix. */
  truncated: boolean;
}

/**
 * Decodes the JSON string at [start, end) (quotes included), reading at most `maxBytes` of its
 * raw bytes. The cut never splits an escape sequence or a UTF-8 character, so the prefix decodes
 * exactly as the head of the whole string would. Invalid escapes fall back to the raw text:
 * classification must not fail on a body upstream will reject anyway.
 */
export function decodeStringCapped(buf: Buffer, start: number, end: number, maxBytes: number): CappedString {
  const from = start + 1;
  const to = end - 1;
  let cut = to;
  let truncated = false;
  if (to - from > maxBytes) {
    truncated = true;
    cut = from + Math.max(0, maxBytes);
    // The nearest backslash before the cut decides whether an escape straddles it: it starts an
    // escape when an even run of backslashes precedes it (`\\` is itself one escape).
    for (let k = cut - 1; k >= from && k >= cut - 6; k--) {
      if (buf[k] !== BACKSLASH) continue;
      let run = 0;
      for (let m = k - 1; m >= from && buf[m] === BACKSLASH; m--) run++;
      if (run % 2 === 0 && k + (buf[k + 1] === LOWER_U ? 6 : 2) > cut) cut = k;
      break;
    }
    // 10xxxxxx is a continuation byte: back off to the lead byte of the character it belongs to.
    while (cut > from && (buf[cut]! & 0xc0) === 0x80) cut--;
  }
  const raw = buf.toString('utf8', from, cut);
  // Searched inside a view: a plain indexOf from `from` would run on through the rest of the body.
  if (buf.subarray(from, cut).indexOf(BACKSLASH) === -1) return { text: raw, truncated };
  try {
    return { text: JSON.parse(`"${raw}"`) as string, truncated };
  } catch {
    return { text: raw, truncated };
  }
}
