// Tool-call patterns from request metadata: the tool_use *names* an agent called and whether
// their tool_result came back as an error. Each call is counted once, when its result is sent
// back: the request's last message (user) carries the tool_result blocks, the one before it
// (assistant) the tool_use blocks they answer. Only names and counts leave this module, never
// inputs or results; they are held in memory, bounded. Imports the scanners only.
import { scanTopLevel } from '../json-scan.js';
import { lastArrayElements } from '../control/json-spans.js';
import type { ToolCallReport, ToolCallStats } from './types.js';

export type { ToolCallReport, ToolCallStats } from './types.js';

export interface ToolActivity {
  /** tool_use names of the calls whose results this request sends back. */
  names: string[];
  /** tool_result blocks in the last message, and how many were marked is_error. */
  results: number;
  errors: number;
}

/** Anthropic's tool-name pattern (MCP tools included: mcp__server__tool); anything else is "other". */
const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

interface Block { type?: unknown; name?: unknown; id?: unknown; tool_use_id?: unknown; is_error?: unknown }

function blocksOf(buf: Buffer, span: { start: number; end: number }): Block[] | null {
  let msg: unknown;
  try { msg = JSON.parse(buf.toString('utf8', span.start, span.end)); } catch { return null; }
  const content = (msg as { content?: unknown } | null)?.content;
  return Array.isArray(content) ? (content as Block[]).filter((b) => b !== null && typeof b === 'object') : null;
}

/** What the body's last two messages say about tool calls; null when it sends back no tool_result. */
export function toolActivity(body: Buffer): ToolActivity | null {
  let fields;
  try { fields = scanTopLevel(body); } catch { return null; }
  const messages = fields.get('messages');
  if (!messages) return null;
  let els: { start: number; end: number }[];
  // Read from the end: only the last two turns are needed, not the whole conversation.
  try { els = lastArrayElements(body, messages.start, messages.end, 2); } catch { return null; }
  if (els.length < 2) return null;
  const last = blocksOf(body, els[els.length - 1]!);
  const results = last?.filter((b) => b.type === 'tool_result') ?? [];
  if (results.length === 0) return null;
  const answered = new Set(results.map((r) => r.tool_use_id));
  const prev = blocksOf(body, els[els.length - 2]!) ?? [];
  const names = prev.filter((b) => b.type === 'tool_use' && answered.has(b.id))
    .map((b) => (typeof b.name === 'string' && NAME.test(b.name) ? b.name : 'other'));
  return { names, results: results.length, errors: results.filter((r) => r.is_error === true).length };
}

const MAX_KEYS = 2000;
const MAX_NAMES = 200;
const MAX_NAMES_SHOWN = 12;

interface Acc { tool: string; session: string | null; calls: number; results: number; errors: number; names: Map<string, number> }

export function createToolCalls(now: () => number = Date.now) {
  const since = now();
  const byTool = new Map<string, Acc>();
  const bySession = new Map<string, Acc>();
  const add = (map: Map<string, Acc>, key: string, tool: string, session: string | null, a: ToolActivity) => {
    let acc = map.get(key);
    if (!acc) {
      if (map.size >= MAX_KEYS) return;
      acc = { tool, session, calls: 0, results: 0, errors: 0, names: new Map() };
      map.set(key, acc);
    }
    acc.calls += a.names.length;
    acc.results += a.results;
    acc.errors += a.errors;
    for (const n of a.names) {
      const name = acc.names.has(n) || acc.names.size < MAX_NAMES ? n : 'other';
      acc.names.set(name, (acc.names.get(name) ?? 0) + 1);
    }
  };
  const view = (a: Acc): ToolCallStats => ({
    tool: a.tool, session: a.session, calls: a.calls, results: a.results, errors: a.errors,
    errorRate: a.results === 0 ? null : a.errors / a.results,
    names: [...a.names].map(([name, calls]) => ({ name, calls })).sort((x, y) => y.calls - x.calls || x.name.localeCompare(y.name)).slice(0, MAX_NAMES_SHOWN),
  });
  return {
    observe(tool: string, session: string | null, a: ToolActivity): void {
      add(byTool, tool, tool, null, a);
      if (session) add(bySession, `${tool}\0${session}`, tool, session, a);
    },
    report(limit = 50): ToolCallReport {
      const order = (x: ToolCallStats, y: ToolCallStats) => y.calls - x.calls || y.results - x.results;
      return {
        since,
        byTool: [...byTool.values()].map(view).sort(order),
        bySession: [...bySession.values()].map(view).sort(order).slice(0, limit),
      };
    },
  };
}
