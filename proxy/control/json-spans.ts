// Byte-level JSON helpers for edits that must leave every other byte alone: string values with
// their paths, array element spans, and decoding a JSON string with a map back to its raw bytes.
// Pure; builds on json-scan.ts's primitives (which only read top-level fields; these go deeper).

export type JsonPath = (string | number)[];

/** A string value: `buf.subarray(start, end)` is its JSON text, quotes included. */
export interface StringValue {
  start: number;
  end: number;
  path: JsonPath;
}

// The scanner's primitives are shared with the top-level reader; its error is this module's too.
export { JsonScanError as JsonSpanError, skipString, skipValue } from '../json-scan.js';
import { JsonScanError as JsonSpanError, objectFields, skipString, skipValue, skipWs } from '../json-scan.js';

const LBRACE = 0x7b, RBRACKET = 0x5d, LBRACKET = 0x5b, COMMA = 0x2c, COLON = 0x3a, RBRACE = 0x7d, QUOTE = 0x22, BACKSLASH = 0x5c;

/**
 * Spans of the elements of the array whose `[` is at `start`; with `limit`, only the first
 * `limit` of them (the rest of the array is not read, so not checked either).
 */
export function arrayElements(buf: Buffer, start: number, limit = Infinity): { start: number; end: number }[] {
  if (buf[start] !== LBRACKET) throw new JsonSpanError('expected an array', start);
  const out: { start: number; end: number }[] = [];
  let i = skipWs(buf, start + 1);
  if (buf[i] === RBRACKET) return out;
  for (;;) {
    if (out.length >= limit) return out;
    const end = skipValue(buf, i);
    out.push({ start: i, end });
    i = skipWs(buf, end);
    if (buf[i] === COMMA) { i = skipWs(buf, i + 1); continue; }
    if (buf[i] === RBRACKET) return out;
    throw new JsonSpanError('expected "," or "]"', i);
  }
}

function isWsByte(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The opening quote of the string whose closing quote is at `q`. Reading JSON backwards is
 * unambiguous for strings: inside one, every quote is escaped (an odd run of backslashes before
 * it), and outside strings there are no backslashes.
 */
function stringStartBack(buf: Buffer, q: number, floor: number): number {
  let j = q - 1;
  for (;;) {
    const p = j < floor ? -1 : buf.lastIndexOf(QUOTE, j);
    if (p <= floor) throw new JsonSpanError('unterminated string', q);
    let bs = 0;
    for (let k = p - 1; k > floor && buf[k] === BACKSLASH; k--) bs++;
    if (bs % 2 === 0) return p;
    j = p - 1;
  }
}

/** Start of the value whose last byte is at `i` (inside the array whose `[` is at `floor`). */
function valueStartBack(buf: Buffer, i: number, floor: number): number {
  const c = buf[i];
  if (c === QUOTE) return stringStartBack(buf, i, floor);
  if (c === RBRACE || c === RBRACKET) {
    let depth = 0;
    let j = i;
    while (j > floor) {
      const b = buf[j]!;
      if (b === QUOTE) { j = stringStartBack(buf, j, floor) - 1; continue; }
      if (b === RBRACE || b === RBRACKET) depth++;
      else if (b === LBRACE || b === LBRACKET) {
        depth--;
        if (depth === 0) return j;
      }
      j--;
    }
    throw new JsonSpanError('unterminated container', i);
  }
  // A scalar: back to the delimiter before it.
  if (c === undefined || c === COMMA || c === COLON || c === LBRACE || c === LBRACKET || isWsByte(c)) throw new JsonSpanError('value expected', i);
  let j = i;
  while (j > floor) {
    const b = buf[j - 1];
    if (b === COMMA || b === LBRACKET || isWsByte(b)) break;
    j--;
  }
  return j;
}

/**
 * Spans of the last `n` elements (in order) of the array spanning `start` (its `[`) to `end`
 * (just past its `]`), read from the end: the cost is the size of those elements, not of the
 * array. For the request's last turns without walking a 500 KB conversation. Checks the
 * structure it reads, not the elements before them.
 */
export function lastArrayElements(buf: Buffer, start: number, end: number, n: number): { start: number; end: number }[] {
  if (buf[start] !== LBRACKET) throw new JsonSpanError('expected an array', start);
  if (buf[end - 1] !== RBRACKET) throw new JsonSpanError('expected "]"', end - 1);
  const out: { start: number; end: number }[] = [];
  let i = end - 2;
  while (i > start && isWsByte(buf[i])) i--;
  if (i === start) return out;
  while (out.length < n) {
    const s = valueStartBack(buf, i, start);
    out.unshift({ start: s, end: i + 1 });
    let j = s - 1;
    while (j > start && isWsByte(buf[j])) j--;
    if (j === start) return out;
    if (buf[j] !== COMMA) throw new JsonSpanError('expected "," or "["', j);
    i = j - 1;
    while (i > start && isWsByte(buf[i])) i--;
    if (i === start) throw new JsonSpanError('value expected', j);
  }
  return out;
}

/** Key -> value span of the object whose `{` is at `start` (keys decoded). */
export function objectMembers(buf: Buffer, start: number): Map<string, { start: number; end: number }> {
  return objectFields(buf, start).fields;
}

/** The text of the JSON string at [start, end) (quotes included). */
export function decodeString(buf: Buffer, start: number, end: number): string {
  if (buf.indexOf(BACKSLASH, start + 1) === -1 || buf.indexOf(BACKSLASH, start + 1) >= end - 1) return buf.toString('utf8', start + 1, end - 1);
  try {
    return JSON.parse(buf.toString('utf8', start, end)) as string;
  } catch {
    throw new JsonSpanError('invalid string escape', start);
  }
}

/**
 * Visits every string value inside the value at `start` with its path (relative to `base`).
 * Object keys are not visited. `want(path)` may prune: return false to skip a string.
 */
export function walkStrings(buf: Buffer, start: number, base: JsonPath, visit: (v: StringValue) => void): void {
  const path: JsonPath = [...base];
  const walk = (i: number): number => {
    const c = buf[i];
    if (c === QUOTE) {
      const end = skipString(buf, i);
      visit({ start: i, end, path: [...path] });
      return end;
    }
    if (c === LBRACE) {
      let j = skipWs(buf, i + 1);
      if (buf[j] === RBRACE) return j + 1;
      for (;;) {
        if (buf[j] !== QUOTE) throw new JsonSpanError('expected a key', j);
        const keyEnd = skipString(buf, j);
        path.push(decodeString(buf, j, keyEnd));
        j = skipWs(buf, keyEnd);
        if (buf[j] !== COLON) throw new JsonSpanError('expected ":"', j);
        j = walk(skipWs(buf, j + 1));
        path.pop();
        j = skipWs(buf, j);
        if (buf[j] === COMMA) { j = skipWs(buf, j + 1); continue; }
        if (buf[j] === RBRACE) return j + 1;
        throw new JsonSpanError('expected "," or "}"', j);
      }
    }
    if (c === LBRACKET) {
      let j = skipWs(buf, i + 1);
      if (buf[j] === RBRACKET) return j + 1;
      for (let k = 0; ; k++) {
        path.push(k);
        j = walk(j);
        path.pop();
        j = skipWs(buf, j);
        if (buf[j] === COMMA) { j = skipWs(buf, j + 1); continue; }
        if (buf[j] === RBRACKET) return j + 1;
        throw new JsonSpanError('expected "," or "]"', j);
      }
    }
    return skipValue(buf, i);
  };
  walk(skipWs(buf, start));
}

/**
 * Decodes the JSON string at [start, end) and maps each UTF-16 index of the result to the byte
 * offset (absolute) where it came from; `offsets[text.length]` is the closing quote. Lets a
 * replacement of a decoded span touch exactly the raw bytes that encode it.
 */
export function decodeStringWithMap(buf: Buffer, start: number, end: number): { text: string; offsets: number[] } {
  const units: number[] = [];
  const offsets: number[] = [];
  let i = start + 1;
  const last = end - 1;
  while (i < last) {
    const b = buf[i]!;
    if (b === BACKSLASH) {
      const e = buf[i + 1];
      offsets.push(i);
      switch (e) {
        case 0x22: units.push(0x22); break;
        case 0x5c: units.push(0x5c); break;
        case 0x2f: units.push(0x2f); break;
        case 0x62: units.push(0x08); break;
        case 0x66: units.push(0x0c); break;
        case 0x6e: units.push(0x0a); break;
        case 0x72: units.push(0x0d); break;
        case 0x74: units.push(0x09); break;
        case 0x75: {
          const hex = buf.toString('latin1', i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSpanError('invalid \\u escape', i);
          units.push(parseInt(hex, 16));
          i += 6;
          continue;
        }
        default: throw new JsonSpanError('invalid string escape', i);
      }
      i += 2;
      continue;
    }
    let cp: number;
    let n: number;
    if (b < 0x80) { cp = b; n = 1; }
    else if (b >= 0xf0) { cp = ((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f); n = 4; }
    else if (b >= 0xe0) { cp = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f); n = 3; }
    else { cp = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f); n = 2; }
    if (cp > 0xffff) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
      offsets.push(i, i);
    } else {
      units.push(cp);
      offsets.push(i);
    }
    i += n;
  }
  offsets.push(last);
  let text = '';
  for (let k = 0; k < units.length; k += 8192) text += String.fromCharCode(...units.slice(k, k + 8192));
  return { text, offsets };
}
