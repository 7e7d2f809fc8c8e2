// Prompt-cache breakpoint injection: adds `cache_control: {"type":"ephemeral"}` to the last
// system block, the last tool and the last cacheable block of the last message, by inserting
// bytes (every existing byte stays). Skipped when the request has any cache_control already
// (Claude Code places its own). Imports json-scan and this folder's json-spans only.
import { scanTopLevel } from '../json-scan.js';
import { arrayElements, decodeString, objectMembers } from './json-spans.js';

const MARK = '"cache_control":{"type":"ephemeral"}';
/** Anthropic accepts at most four breakpoints per request; this adds at most three. */
export const MAX_BREAKPOINTS = 4;
// Block types that take cache_control (thinking blocks cannot carry one directly).
const CACHEABLE = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'search_result', 'server_tool_use', 'web_search_tool_result']);

export interface CacheInjection {
  body: Buffer;
  /** Where breakpoints were added: `system`, `tools`, `messages[N].content[M]`. */
  added: string[];
  skipped: 'has_cache_control' | null;
}

interface Edit { at: number; end: number; text: string }

function textBlock(rawString: string): string {
  return `[{"type":"text","text":${rawString},${MARK}}]`;
}

/** An insertion of the marker before the closing brace of the object at [start, end). */
function markObject(buf: Buffer, span: { start: number; end: number }): Edit {
  const empty = objectMembers(buf, span.start).size === 0;
  return { at: span.end - 1, end: span.end - 1, text: empty ? MARK : `,${MARK}` };
}

function blockEligible(buf: Buffer, span: { start: number; end: number }): boolean {
  if (buf[span.start] !== 0x7b) return false;
  const m = objectMembers(buf, span.start);
  const t = m.get('type');
  if (!t || buf[t.start] !== 0x22) return false;
  const type = decodeString(buf, t.start, t.end);
  if (!CACHEABLE.has(type)) return false;
  if (type === 'text') {
    // The API refuses cache_control on an empty text block.
    const text = m.get('text');
    return !!text && buf[text.start] === 0x22 && text.end - text.start > 2;
  }
  return true;
}

/**
 * Returns the body with breakpoints added, or the same buffer when skipped or nothing is
 * eligible. Throws JsonScanError / JsonSpanError on malformed JSON.
 */
export function injectCacheBreakpoints(body: Buffer): CacheInjection {
  if (body.includes('"cache_control"')) return { body, added: [], skipped: 'has_cache_control' };
  const fields = scanTopLevel(body);
  const edits: Edit[] = [];
  const added: string[] = [];

  const system = fields.get('system');
  if (system) {
    if (body[system.start] === 0x22 && system.end - system.start > 2) {
      edits.push({ at: system.start, end: system.end, text: textBlock(body.toString('utf8', system.start, system.end)) });
      added.push('system');
    } else if (body[system.start] === 0x5b) {
      const last = arrayElements(body, system.start).at(-1);
      if (last && blockEligible(body, last)) { edits.push(markObject(body, last)); added.push('system'); }
    }
  }

  const tools = fields.get('tools');
  if (tools && body[tools.start] === 0x5b) {
    const last = arrayElements(body, tools.start).at(-1);
    if (last && body[last.start] === 0x7b) { edits.push(markObject(body, last)); added.push('tools'); }
  }

  const messages = fields.get('messages');
  if (messages && body[messages.start] === 0x5b) {
    const list = arrayElements(body, messages.start);
    const lastMsg = list.at(-1);
    if (lastMsg && body[lastMsg.start] === 0x7b) {
      const content = objectMembers(body, lastMsg.start).get('content');
      const where = `messages[${list.length - 1}].content`;
      if (content && body[content.start] === 0x22 && content.end - content.start > 2) {
        edits.push({ at: content.start, end: content.end, text: textBlock(body.toString('utf8', content.start, content.end)) });
        added.push(where);
      } else if (content && body[content.start] === 0x5b) {
        const blocks = arrayElements(body, content.start);
        for (let i = blocks.length - 1; i >= 0; i--) {
          if (blockEligible(body, blocks[i]!)) { edits.push(markObject(body, blocks[i]!)); added.push(`${where}[${i}]`); break; }
        }
      }
    }
  }

  if (edits.length === 0) return { body, added, skipped: null };
  edits.sort((a, b) => a.at - b.at);
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(body.subarray(at, e.at), Buffer.from(e.text, 'utf8'));
    at = e.end;
  }
  parts.push(body.subarray(at));
  return { body: Buffer.concat(parts), added, skipped: null };
}
