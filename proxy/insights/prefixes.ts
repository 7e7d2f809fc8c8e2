// Prompt-prefix fingerprints of a Messages body, for cache-candidate insights: SHA-256
// (truncated to 16 hex digits) of the cumulative prefix a `cache_control` breakpoint would cover
// at each position, in the order the API caches (tools, then system, then the leading message
// blocks). Byte ranges come from the top-level scanner (no parse of the body); only hashes and
// sizes leave this module, never text. Imports node:crypto and the scanners only.
import { createHash, type Hash } from 'node:crypto';
import { scanTopLevel } from '../pipeline/json-scan.js';
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

/** Cumulative prefix hashes; [] when the body is not a readable JSON object. */
export function prefixPoints(body: Buffer, maxMessages = MAX_MESSAGES): PrefixPoint[] {
  let fields;
  try { fields = scanTopLevel(body); } catch { return []; }
  const out: PrefixPoint[] = [];
  // Created at the first point: most small requests have none, and a hash object is not free.
  let h: Hash | null = null;
  let bytes = 0;
  const add = (position: string, start: number, end: number) => {
    h ??= createHash('sha256');
    h.update(body.subarray(start, end));
    bytes += end - start;
    out.push({ position, hash: h.copy().digest('hex').slice(0, 16), bytes });
  };
  const tools = fields.get('tools');
  if (tools) add('tools', tools.start, tools.end);
  const system = fields.get('system');
  if (system) add('system', system.start, system.end);
  const messages = fields.get('messages');
  if (messages) {
    let els: { start: number; end: number }[] = [];
    // One element past the fingerprinted ones is enough to know none of them is the last.
    try { els = arrayElements(body, messages.start, maxMessages + 1); } catch { /* not an array: no message points */ }
    // The last message is the new turn: a breakpoint only helps on what the next request repeats.
    els.slice(0, Math.min(maxMessages, Math.max(0, els.length - 1))).forEach((e, i) => add(`messages[${i}]`, e.start, e.end));
  }
  return out;
}
