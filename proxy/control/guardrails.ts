// Guardrails on what leaves the machine: picks the policy for a caller, scans the user text and
// tool results of a Messages body, and returns a verdict (block / redact / flag) with the bytes
// to forward. Redaction rewrites matched spans inside JSON string values only; every other byte
// stays as it was. Imports json-scan (top-level spans) and this folder's detector modules.
import { scanTopLevel } from '../json-scan.js';
import { BUILTIN_DETECTORS, DETECTOR_IDS, DETECTOR_LABELS, type Detector, type DetectorId, type Finding } from './detectors.js';
import { decodeString, decodeStringWithMap, walkStrings, type JsonPath } from './json-spans.js';
import type { GuardAction, GuardPolicy } from './schema.js';
import { compileUserRule } from './user-rules.js';

type Verdict = Exclude<GuardAction, 'off'>;

export interface ActiveDetector {
  id: string;
  action: Verdict;
  scan: Detector;
}

export interface CompiledGuard {
  policy: string;
  scanSystem: boolean;
  detectors: ActiveDetector[];
}

/** One finding as reported: where and what, never the matched text. */
export interface GuardHit {
  detector: string;
  action: Verdict;
  /** e.g. `messages[3].content[0].text`. */
  location: string;
}

export interface GuardVerdict {
  hits: GuardHit[];
  blocked: GuardHit[];
  /** Matched spans replaced, per detector. */
  redacted: Record<string, number>;
  /** The bytes to forward: the input itself unless something was redacted. */
  body: Buffer;
  changed: boolean;
}

const globCache = new Map<string, RegExp>();
export function globMatch(glob: string, value: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 'i');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re.test(value);
}

/** The first policy whose match fits the caller (`passthrough` for callers without a token). */
export function policyFor(policies: readonly GuardPolicy[], caller: string): GuardPolicy | null {
  return policies.find((p) => p.match.tokens.some((g) => globMatch(g, caller))) ?? null;
}

const compiled = new WeakMap<GuardPolicy, CompiledGuard>();
/** Compiles a policy's detectors and rules once per settings object; null when nothing is on. */
export function compileGuard(policy: GuardPolicy): CompiledGuard | null {
  let g = compiled.get(policy);
  if (!g) {
    const detectors: ActiveDetector[] = [];
    for (const id of DETECTOR_IDS) {
      const a = policy.detectors[id];
      if (a && a !== 'off') detectors.push({ id, action: a, scan: BUILTIN_DETECTORS[id] });
    }
    for (const r of policy.rules) detectors.push({ id: `rule:${r.id}`, action: r.action, scan: compileUserRule(r.id, r.pattern, r.flags) });
    g = { policy: policy.name, scanSystem: policy.scanSystem, detectors };
    compiled.set(policy, g);
  }
  return g.detectors.length ? g : null;
}

/** Every built-in detector set to redact: what body capture applies before writing to disk. */
export const REDACT_ALL: CompiledGuard = {
  policy: 'capture',
  scanSystem: true,
  detectors: DETECTOR_IDS.map((id) => ({ id, action: 'redact' as const, scan: BUILTIN_DETECTORS[id] })),
};

export function describeDetector(id: string): string {
  return (DETECTOR_LABELS as Record<string, string>)[id] ?? `text matching rule "${id.replace(/^rule:/, '')}"`;
}

export function maskFor(detector: string): string {
  // ASCII without quotes or backslashes: valid inside a JSON string as is.
  return `[REDACTED:${detector.replace(/[^A-Za-z0-9:_-]/g, '')}]`;
}

function pathLabel(path: JsonPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/** User text and tool results inside `messages` (relative paths). */
function isMessageText(p: JsonPath): boolean {
  if (typeof p[0] !== 'number' || p[1] !== 'content') return false;
  if (p.length === 2) return true; // string content
  if (typeof p[2] !== 'number') return false;
  if (p.length === 4) return p[3] === 'text' || p[3] === 'content'; // text block, tool_result string
  return p.length === 6 && p[3] === 'content' && typeof p[4] === 'number' && p[5] === 'text'; // tool_result blocks
}

function isSystemText(p: JsonPath): boolean {
  return p.length === 0 || (p.length === 2 && typeof p[0] === 'number' && p[1] === 'text');
}

interface Span { start: number; end: number; detector: string }

/** Runs the detectors over one text; merges overlaps (the first detector names the merged span). */
function scanText(text: string, detectors: readonly ActiveDetector[]): { findings: (Finding & { action: Verdict })[] } {
  const findings: (Finding & { action: Verdict })[] = [];
  for (const d of detectors) for (const f of d.scan(text)) findings.push({ ...f, action: d.action });
  return { findings };
}

function mergeSpans(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out.at(-1);
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Masks `spans` of a plain string. */
export function redactText(text: string, spans: Span[]): string {
  let out = '';
  let at = 0;
  for (const s of mergeSpans(spans)) {
    out += text.slice(at, s.start) + maskFor(s.detector);
    at = s.end;
  }
  return out + text.slice(at);
}

interface Edit { start: number; end: number; text: string }

function applyEdits(buf: Buffer, edits: Edit[]): Buffer {
  edits.sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(buf.subarray(at, e.start), Buffer.from(e.text, 'utf8'));
    at = e.end;
  }
  parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

/** Scans one JSON string value; records hits and, for redact findings, byte edits. */
function scanStringValue(buf: Buffer, v: { start: number; end: number }, label: string, guard: CompiledGuard, hits: GuardHit[], edits: Edit[], redacted: Record<string, number>): void {
  const text = decodeString(buf, v.start, v.end);
  const { findings } = scanText(text, guard.detectors);
  if (findings.length === 0) return;
  const seen = new Set<string>();
  const toRedact: Span[] = [];
  for (const f of findings) {
    const key = `${f.detector}|${f.action}`;
    if (!seen.has(key)) { seen.add(key); hits.push({ detector: f.detector, action: f.action, location: label }); }
    if (f.action === 'redact') toRedact.push({ start: f.start, end: f.end, detector: f.detector });
  }
  if (toRedact.length === 0) return;
  const { offsets } = decodeStringWithMap(buf, v.start, v.end);
  for (const s of mergeSpans(toRedact)) {
    edits.push({ start: offsets[s.start]!, end: offsets[s.end]!, text: maskFor(s.detector) });
    redacted[s.detector] = (redacted[s.detector] ?? 0) + 1;
  }
}

function verdictOf(body: Buffer, hits: GuardHit[], edits: Edit[], redacted: Record<string, number>): GuardVerdict {
  const blocked = hits.filter((h) => h.action === 'block');
  if (blocked.length || edits.length === 0) return { hits, blocked, redacted: blocked.length ? {} : redacted, body, changed: false };
  return { hits, blocked, redacted, body: applyEdits(body, edits), changed: true };
}

/**
 * Scans a Messages (or count_tokens) body: `messages[].content` text blocks and tool results,
 * and `system` when the policy says so. Throws JsonScanError / JsonSpanError on malformed JSON.
 */
export function scanMessagesBody(body: Buffer, guard: CompiledGuard): GuardVerdict {
  const fields = scanTopLevel(body);
  const hits: GuardHit[] = [];
  const edits: Edit[] = [];
  const redacted: Record<string, number> = {};
  const messages = fields.get('messages');
  if (messages) {
    walkStrings(body, messages.start, [], (v) => {
      if (isMessageText(v.path)) scanStringValue(body, v, pathLabel(['messages', ...v.path]), guard, hits, edits, redacted);
    });
  }
  const system = fields.get('system');
  if (system && guard.scanSystem) {
    walkStrings(body, system.start, [], (v) => {
      if (isSystemText(v.path)) scanStringValue(body, v, pathLabel(['system', ...v.path]), guard, hits, edits, redacted);
    });
  }
  return verdictOf(body, hits, edits, redacted);
}

/**
 * Redacts every string value of a JSON document (body capture: nothing secret reaches disk);
 * a body that is not JSON is redacted as plain text.
 */
export function redactForCapture(body: Buffer): { body: Buffer; redacted: Record<string, number> } {
  const hits: GuardHit[] = [];
  const edits: Edit[] = [];
  const redacted: Record<string, number> = {};
  const text = body.toString('utf8');
  let json = true;
  try { JSON.parse(text); } catch { json = false; }
  if (json) {
    walkStrings(body, 0, [], (v) => scanStringValue(body, v, pathLabel(v.path), REDACT_ALL, hits, edits, redacted));
    return { body: edits.length ? applyEdits(body, edits) : body, redacted };
  }
  // Not JSON (SSE, plain text): mask the matches in the text itself.
  const { findings } = scanText(text, REDACT_ALL.detectors);
  for (const f of findings) redacted[f.detector] = (redacted[f.detector] ?? 0) + 1;
  return { body: Buffer.from(redactText(text, findings)), redacted };
}

/** Plain-text scan for `sluice guard test` and the admin test route: findings with line and column. */
export function scanPlainText(text: string, guard: CompiledGuard): { detector: string; action: Verdict; line: number; column: number; length: number }[] {
  const { findings } = scanText(text, guard.detectors);
  findings.sort((a, b) => a.start - b.start);
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return findings.map((f) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (lineStarts[mid]! <= f.start) lo = mid; else hi = mid - 1; }
    return { detector: f.detector, action: f.action, line: lo + 1, column: f.start - lineStarts[lo]! + 1, length: f.end - f.start };
  });
}

export type { DetectorId };
