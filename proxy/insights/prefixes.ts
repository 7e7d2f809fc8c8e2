// Prompt-prefix fingerprints of a Messages body, for cache-candidate insights: SHA-256
// (truncated to 16 hex digits) of the cumulative prefix a `cache_control` breakpoint would cover
// at each position, in the order the API caches (tools, then system, then the leading message
// blocks). Byte ranges come from the top-level scanner (no parse of the body); only hashes and
// sizes leave this module, never text. Imports node:crypto and the scanners only.
import { createHash, type Hash } from 'node:crypto';
import { scanTopLevel } from '../json-scan.js';
import { arrayElements } from '../control/json-spans.js';

export interface PrefixPoint {
  /** `tools`, `system` or `messages[i]` (the prefix through that message). */
  position: string;
  hash: string;
  /** Bytes of JSON in the prefix (the token estimate is bytes / 4). */
  bytes: number;
}

/** At most this many leading messages are fingerprinted: agent loops share their first few. */
export const MAX_MESSAGES = 6;

interface Span { position: string; start: number; end: number }

/** The spans a breakpoint could close, in cache order; [] when the body is not a readable JSON object. */
function prefixSpans(body: Buffer, maxMessages: number): Span[] {
  let fields;
  try { fields = scanTopLevel(body); } catch { return []; }
  const out: Span[] = [];
  const tools = fields.get('tools');
  if (tools) out.push({ position: 'tools', start: tools.start, end: tools.end });
  const system = fields.get('system');
  if (system) out.push({ position: 'system', start: system.start, end: system.end });
  const messages = fields.get('messages');
  if (messages) {
    let els: { start: number; end: number }[] = [];
    // One element past the fingerprinted ones is enough to know none of them is the last.
    try { els = arrayElements(body, messages.start, maxMessages + 1); } catch { /* not an array: no message points */ }
    // The last message is the new turn: a breakpoint only helps on what the next request repeats.
    const n = Math.min(maxMessages, Math.max(0, els.length - 1));
    for (let i = 0; i < n; i++) out.push({ position: `messages[${i}]`, start: els[i]!.start, end: els[i]!.end });
  }
  return out;
}

/** Cumulative prefix hashes; [] when the body is not a readable JSON object. */
export function prefixPoints(body: Buffer, maxMessages = MAX_MESSAGES): PrefixPoint[] {
  return createPrefixHasher(0).points(body, '', maxMessages);
}

/** What one stream of requests hashed last: the span bytes, and the hash state after each span. */
interface Memo {
  /** The hashed spans' bytes, back to back (a copy: the request body is not kept). */
  bytes: Buffer;
  /** Offset of each span in `bytes`, and its end. */
  offsets: { position: string; start: number; end: number }[];
  /** Hash state after each span (never updated: copied before use). */
  states: Hash[];
  points: PrefixPoint[];
}

export interface PrefixHasher {
  /** Span bytes held for the streams' last prefixes (for tests and memory checks). */
  readonly keptBytes: number;
  /**
   * The points of `body` (as `prefixPoints`). `stream` names where it came from (tool and
   * session): a span whose bytes equal the same span of that stream's previous body, with every
   * span before it equal too, takes that body's hash instead of hashing again. An agent loop
   * resends the same tools, system prompt and leading turns on every request, so the usual cost
   * is a memcmp of the prefix instead of SHA-256 over it.
   */
  points(body: Buffer, stream: string, maxMessages?: number): PrefixPoint[];
}

/**
 * `maxStreams`: how many streams' last prefixes are kept (least recently used go first), within
 * `maxBytes` of kept span bytes in all; a prefix larger than a quarter of that is hashed and not kept.
 */
export function createPrefixHasher(maxStreams = 32, maxBytes = 16 * 1024 * 1024): PrefixHasher {
  const memos = new Map<string, Memo>();
  let keptBytes = 0;
  const forget = (stream: string) => {
    const m = memos.get(stream);
    if (m) {
      keptBytes -= m.bytes.length;
      memos.delete(stream);
    }
  };
  return {
    get keptBytes() { return keptBytes; },
    points(body, stream, maxMessages = MAX_MESSAGES) {
      const spans = prefixSpans(body, maxMessages);
      if (spans.length === 0) return [];
      const prev = memos.get(stream);
      // The longest run of leading spans equal to the previous body's.
      let same = 0;
      if (prev) {
        while (same < spans.length && same < prev.offsets.length) {
          const s = spans[same]!;
          const p = prev.offsets[same]!;
          if (s.position !== p.position || s.end - s.start !== p.end - p.start) break;
          if (body.compare(prev.bytes, p.start, p.end, s.start, s.end) !== 0) break;
          same++;
        }
        if (same === spans.length && same === prev.points.length) {
          memos.delete(stream);
          memos.set(stream, prev);
          return prev.points.slice();
        }
      }
      const points: PrefixPoint[] = prev ? prev.points.slice(0, same) : [];
      const states: Hash[] = prev ? prev.states.slice(0, same) : [];
      let h: Hash = same > 0 ? states[same - 1]!.copy() : createHash('sha256');
      let bytes = same > 0 ? points[same - 1]!.bytes : 0;
      for (let i = same; i < spans.length; i++) {
        const s = spans[i]!;
        h.update(body.subarray(s.start, s.end));
        bytes += s.end - s.start;
        states.push(h);
        h = h.copy();
        points.push({ position: s.position, hash: h.copy().digest('hex').slice(0, 16), bytes });
      }
      forget(stream);
      if (maxStreams > 0 && bytes <= maxBytes / 4) {
        const copy = Buffer.allocUnsafe(bytes);
        const offsets: Memo['offsets'] = [];
        let at = 0;
        for (const s of spans) {
          body.copy(copy, at, s.start, s.end);
          offsets.push({ position: s.position, start: at, end: at + s.end - s.start });
          at += s.end - s.start;
        }
        memos.set(stream, { bytes: copy, offsets, states, points: points.slice() });
        keptBytes += copy.length;
        while (memos.size > maxStreams || keptBytes > maxBytes) forget(memos.keys().next().value!);
      }
      return points;
    },
  };
}
