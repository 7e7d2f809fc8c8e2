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
 * Re-applies every tool Sluice has applied whose config no longer points at `baseUrl` (the
 * port changed). Each tool keeps its own token: `connectionFor` supplies it per tool. The
 * first apply's prior values are kept, so undo still restores the true original.
 */
export async function reapplyAll(ctx: ToolContext, baseUrl: string, connectionFor: (id: ToolId) => Promise<Connection>): Promise<ApplyResult[]> {
  const record = await loadRecord(ctx.dataDir);
  const out: ApplyResult[] = [];
  for (const id of Object.keys(record.tools) as ToolId[]) {
    const adapter = getToolAdapter(id);
    const st = await adapter.status(ctx);
    if (st.state === 'configured-by-sluice' && st.baseUrl === baseUrl) continue;
    out.push(await adapter.apply(ctx, await connectionFor(id)));
  }
  return out;
}
