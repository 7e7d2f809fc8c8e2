// Reads the complexity features of a Messages request straight from its bytes: sizes, counts,
// thinking, and the last user turn, the only message ever decoded. Pure; imports the JSON
// scanner primitives (proxy/json-scan.ts) and this folder's walkers only.
import { readField, skipString, type ValueSpan } from '../json-scan.js';
import { decodeStringCapped, forEachElement, forEachMember, scanArray } from './json-array.js';

/** A last message up to this size is JSON.parse'd; a bigger one is read field by field. */
export const LAST_TURN_PARSE_BYTES = 64 * 1024;
/** At most this many characters of the user's text are kept for rules and code detection. */
export const USER_TEXT_MAX_CHARS = 64 * 1024;
/** Code detection looks at the head of the text only: a paste shows its nature early. */
const CODE_SCAN_CHARS = 16 * 1024;
const CODE_LINES_NEEDED = 3;

/** What the classifier decides from; everything but `userText` is recorded in the ledger. */
export interface Features {
  model: string | null;
  stream: boolean;
  maxTokens: number | null;
  bodyBytes: number;
  systemBytes: number;
  messagesBytes: number;
  toolsBytes: number;
  /** body bytes / 4: JSON-encoded English and code run 3-4 bytes per token (no tokenizer pass). */
  estInputTokens: number;
  messageCount: number;
  toolCount: number;
  thinking: 'enabled' | 'adaptive' | null;
  thinkingBudget: number | null;
  /** Role of the last message ('assistant' for a prefill: the user turn is then the one before). */
  lastRole: string | null;
  /** Raw bytes of the last user turn. */
  lastTurnBytes: number;
  /** Characters of the user's own text in that turn (Claude Code's system reminders left out). */
  userChars: number;
  /** The user's text was longer than USER_TEXT_MAX_CHARS and only its head was read. */
  userTextTruncated: boolean;
  hasCode: boolean;
  /** tool_result blocks in the last user turn: an agent loop continuing. */
  toolResults: number;
  /** image and document blocks in the last user turn. */
  attachments: number;
  /** `<system-reminder>` sections removed from the user's text. */
  systemReminders: number;
  /** Fields that could not be read (malformed inside); their features keep neutral values. */
  unreadable: string[];
  /** The user's own text of the last user turn, at most USER_TEXT_MAX_CHARS. Never recorded. */
  userText: string;
}

/** The features as the ledger stores them (`features` column): no prompt text. */
export type RecordedFeatures = Omit<Features, 'userText'>;

export function recordedFeatures(f: Features): RecordedFeatures {
  const { userText: _text, ...rest } = f;
  return rest;
}

/** One message as the classifier reads it. */
export interface Turn {
  role: string | null;
  texts: string[];
  chars: number;
  truncated: boolean;
  toolResults: number;
  attachments: number;
  reminders: number;
}

const REMINDER = /<system-reminder>[\s\S]*?(?:<\/system-reminder>|$)/g;

function newTurn(): Turn {
  return { role: null, texts: [], chars: 0, truncated: false, toolResults: 0, attachments: 0, reminders: 0 };
}

/** Adds one text part, without Claude Code's injected reminders, within the character budget. */
function addText(turn: Turn, text: string, truncated: boolean): void {
  if (truncated) turn.truncated = true;
  let t = text;
  if (t.includes('<system-reminder>')) t = t.replace(REMINDER, () => { turn.reminders++; return ''; });
  t = t.trim();
  if (t === '') return;
  const room = USER_TEXT_MAX_CHARS - turn.chars;
  if (room <= 0) { turn.truncated = true; return; }
  if (t.length > room) { t = t.slice(0, room); turn.truncated = true; }
  turn.texts.push(t);
  turn.chars += t.length;
}

function countBlock(turn: Turn, type: unknown): void {
  if (type === 'tool_result') turn.toolResults++;
  else if (type === 'image' || type === 'document') turn.attachments++;
}

/** A small message: one JSON.parse of its bytes. */
function turnFromParsed(msg: unknown): Turn {
  const turn = newTurn();
  if (typeof msg !== 'object' || msg === null) return turn;
  const m = msg as { role?: unknown; content?: unknown };
  turn.role = typeof m.role === 'string' ? m.role : null;
  if (typeof m.content === 'string') addText(turn, m.content, false);
  else if (Array.isArray(m.content)) {
    for (const block of m.content as unknown[]) {
      if (typeof block !== 'object' || block === null) continue;
      const b = block as { type?: unknown; text?: unknown };
      if (b.type === 'text' && typeof b.text === 'string') addText(turn, b.text, false);
      else countBlock(turn, b.type);
    }
  }
  return turn;
}

const QUOTE = 0x22, LBRACKET = 0x5b, LBRACE = 0x7b;

/**
 * A big message (a code paste, a long tool output): walked member by member in one pass,
 * decoding only text strings and only up to the remaining character budget, so its size never
 * becomes a parse.
 */
function turnFromBytes(buf: Buffer, span: ValueSpan): Turn {
  const turn = newTurn();
  /** Decodes the text string at [at, end) within the budget; returns its end. */
  const readText = (at: number, end = skipString(buf, at)): number => {
    // One character takes at least one raw byte, so `room` bytes always hold `room` characters'
    // worth; a few more cover the reminders addText strips.
    const capped = decodeStringCapped(buf, at, end, USER_TEXT_MAX_CHARS - turn.chars + 4096);
    addText(turn, capped.text, capped.truncated);
    return end;
  };
  const readBlock = (at: number): number | undefined => {
    if (buf[at] !== LBRACE) return undefined;
    let type: string | null = null;
    let text: ValueSpan | null = null;
    const end = forEachMember(buf, at, (key, v) => {
      if (buf[v] !== QUOTE || (key !== 'type' && key !== 'text')) return undefined;
      const e = skipString(buf, v);
      // A block's keys come in any order: note where the text is, decide once the type is known.
      if (key === 'type') type = decodeStringCapped(buf, v, e, 64).text;
      else text = { start: v, end: e };
      return e;
    });
    const t = text as ValueSpan | null;
    if (type === 'text' && t) readText(t.start, t.end);
    else countBlock(turn, type);
    return end;
  };
  forEachMember(buf, span.start, (key, at) => {
    if (key === 'role' && buf[at] === QUOTE) {
      const end = skipString(buf, at);
      turn.role = decodeStringCapped(buf, at, end, 64).text;
      return end;
    }
    if (key !== 'content') return undefined;
    if (buf[at] === QUOTE) return readText(at);
    if (buf[at] === LBRACKET) return forEachElement(buf, at, readBlock);
    return undefined;
  });
  return turn;
}

/** Reads one message; `parseLimit` exists so tests can force the byte-level path. */
export function readTurn(buf: Buffer, span: ValueSpan, parseLimit = LAST_TURN_PARSE_BYTES): Turn {
  if (span.end - span.start <= parseLimit) {
    return turnFromParsed(JSON.parse(buf.toString('utf8', span.start, span.end)));
  }
  return turnFromBytes(buf, span);
}

// A line looks like code when it opens with a lower-case keyword (prose opens sentences with
// capitals), is a bare call, or ends the way statements and blocks end.
const CODE_LINE = /^\s*(?:import|export|from|def|class|function|const|let|var|return|if|elif|for|while|switch|case|public|private|protected|static|fn|func|impl|struct|enum|interface|package|using|#include|#define|SELECT|INSERT|UPDATE|DELETE|CREATE)\b|^\s*[\w.]+\([^)]*\)\s*;?\s*$|[;{}]\s*$|=>|\)\s*:\s*$/;

/** Code fences, or at least three code-like lines near the start. */
export function looksLikeCode(text: string): boolean {
  if (text.includes('```')) return true;
  const head = text.length > CODE_SCAN_CHARS ? text.slice(0, CODE_SCAN_CHARS) : text;
  let lines = 0;
  for (const line of head.split('\n')) {
    if (CODE_LINE.test(line) && ++lines >= CODE_LINES_NEEDED) return true;
  }
  return false;
}

const spanBytes = (s: ValueSpan | undefined) => (s ? s.end - s.start : 0);

/**
 * The features of a Messages request. `fields` is scanTopLevel's map of the same body (the
 * gateway has it already). Reads model, stream, max_tokens and thinking with small parses, counts
 * messages and tools by scanning their spans, and decodes only the last user turn. Never throws
 * on a malformed inside: the field goes into `unreadable` and upstream answers the request.
 */
export function extractFeatures(body: Buffer, fields: ReadonlyMap<string, ValueSpan>): Features {
  const unreadable: string[] = [];
  const read = <T>(name: string, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch {
      unreadable.push(name);
      return fallback;
    }
  };

  const model = read('model', () => readField(body, fields, 'model'), undefined);
  const stream = read('stream', () => readField(body, fields, 'stream'), undefined);
  const maxTokens = read('max_tokens', () => readField(body, fields, 'max_tokens'), undefined);
  const thinkingRaw = read('thinking', () => readField(body, fields, 'thinking'), undefined) as
    { type?: unknown; budget_tokens?: unknown } | null | undefined;
  let thinking: Features['thinking'] = null;
  let thinkingBudget: number | null = null;
  if (thinkingRaw && typeof thinkingRaw === 'object') {
    if (thinkingRaw.type === 'enabled') {
      thinking = 'enabled';
      if (typeof thinkingRaw.budget_tokens === 'number') thinkingBudget = thinkingRaw.budget_tokens;
    } else if (thinkingRaw.type === 'adaptive') thinking = 'adaptive';
  }

  const toolsSpan = fields.get('tools');
  const toolCount = toolsSpan && body[toolsSpan.start] === LBRACKET
    ? read('tools', () => scanArray(body, toolsSpan).count, 0)
    : 0;

  const messagesSpan = fields.get('messages');
  const shape = messagesSpan ? read('messages', () => scanArray(body, messagesSpan), null) : null;
  let turn = newTurn();
  let lastRole: string | null = null;
  let lastTurnBytes = 0;
  if (shape?.last) {
    const last = shape.last;
    const lastTurn = read('last turn', () => readTurn(body, last), null);
    if (lastTurn) {
      lastRole = lastTurn.role;
      turn = lastTurn;
      lastTurnBytes = spanBytes(last);
      // A prefilled assistant reply ends the list; what the user asked is the message before.
      const prev = shape.prev;
      if (lastTurn.role === 'assistant' && prev) {
        const prevTurn = read('last user turn', () => readTurn(body, prev), null);
        if (prevTurn) { turn = prevTurn; lastTurnBytes = spanBytes(prev); }
      }
    }
  }
  const userText = turn.texts.join('\n');

  return {
    model: typeof model === 'string' ? model : null,
    stream: stream === true,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : null,
    bodyBytes: body.length,
    systemBytes: spanBytes(fields.get('system')),
    messagesBytes: spanBytes(messagesSpan),
    toolsBytes: spanBytes(toolsSpan),
    estInputTokens: Math.ceil(body.length / 4),
    messageCount: shape?.count ?? 0,
    toolCount,
    thinking,
    thinkingBudget,
    lastRole,
    lastTurnBytes,
    userChars: userText.length,
    userTextTruncated: turn.truncated,
    hasCode: looksLikeCode(userText),
    toolResults: turn.toolResults,
    attachments: turn.attachments,
    systemReminders: turn.reminders,
    unreadable,
    userText,
  };
}
