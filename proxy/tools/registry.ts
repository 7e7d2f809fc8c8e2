// The registry of tool adapters and reapplyAll (after the gateway's port changed). Imports the
// adapters and ./record.js; holds no state between calls.
import { createClaudeCodeAdapter } from './adapters/claude-code.js';
import { createClaudeCodeEditorAdapter, createCursorTerminalAdapter } from './adapters/editor.js';
import { createClineAdapter } from './adapters/cline.js';
import { createShellAdapter } from './adapters/shell.js';
import { loadRecord } from './record.js';
import { ToolConfigError } from './tool-config-error.js';
import type { ApplyResult, Connection, ToolAdapter, ToolContext, ToolId } from './types.js';

/** Every adapter, in the order a UI lists them. A fresh list each call: adapters are stateless. */
export function listToolAdapters(): ToolAdapter[] {
  return [
    createClaudeCodeAdapter(),
    createClaudeCodeEditorAdapter('Code'),
    createClaudeCodeEditorAdapter('Cursor'),
    createCursorTerminalAdapter(),
    createClineAdapter(),
    createShellAdapter(),
  ];
}

export function getToolAdapter(id: string): ToolAdapter {
  const found = listToolAdapters().find((a) => a.id === id);
  if (!found) {
    throw new ToolConfigError('TOOL_CONFIG_UNKNOWN_TOOL', `Unknown tool "${id.slice(0, 60)}". Known: ${listToolAdapters().map((a) => a.id).join(', ')}.`);
  }
  return found;
}

/**
 * Re-applies every tool Sluice has applied, with a new connection (the port or token changed).
 * The first apply's prior values are kept, so undo still restores the true original.
 */
export async function reapplyAll(ctx: ToolContext, conn: Connection): Promise<ApplyResult[]> {
  const record = await loadRecord(ctx.dataDir);
  const out: ApplyResult[] = [];
  for (const id of Object.keys(record.tools) as ToolId[]) {
    out.push(await getToolAdapter(id).apply(ctx, conn));
  }
  return out;
}
