// Turns an adapter's description of files and keys (a ToolPlan) into the ToolAdapter contract,
// and small filesystem probes adapters share. Imports ./engine.js; never writes files itself.
import { promises as fs } from 'node:fs';
import { join, delimiter } from 'node:path';
import { applyTool, previewTool, statusTool, undoTool, type ToolPlan } from './engine.js';
import type { ToolAdapter, ToolContext, ToolId } from './types.js';

export interface AdapterSpec {
  id: ToolId;
  label: string;
  /** Describes what applying would touch on this machine. Reads, never writes. */
  plan(ctx: ToolContext): Promise<ToolPlan>;
}

export function createToolAdapter(spec: AdapterSpec): ToolAdapter {
  const { id, label } = spec;
  return {
    id,
    label,
    async detect(ctx) {
      const p = await spec.plan(ctx);
      const files = await Promise.all(p.files.map(async (f) => ({ path: f.path, exists: await pathExists(f.path), role: f.role })));
      return { installed: p.installed, files, notes: p.notes, warnings: p.warnings };
    },
    async preview(ctx, conn) { return previewTool(ctx, id, await spec.plan(ctx), conn); },
    async apply(ctx, conn) { return applyTool(ctx, id, label, await spec.plan(ctx), conn); },
    undo(ctx) { return undoTool(ctx, id, label); },
    async status(ctx) { return statusTool(ctx, id, await spec.plan(ctx)); },
  };
}

export async function pathExists(path: string): Promise<boolean> {
  try { await fs.stat(path); return true; } catch { return false; }
}

/** True when `name` is an executable on ctx.env.PATH (with PATHEXT on Windows). */
export async function onPath(ctx: ToolContext, name: string): Promise<boolean> {
  const dirs = (ctx.env.PATH ?? ctx.env.Path ?? '').split(ctx.platform === 'win32' ? ';' : delimiter).filter(Boolean);
  const exts = ctx.platform === 'win32' ? (ctx.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').concat('') : [''];
  for (const d of dirs) {
    for (const e of exts) if (await pathExists(join(d, name + e.toLowerCase())) || (e && await pathExists(join(d, name + e)))) return true;
  }
  return false;
}

/** Directory entries, or [] when the directory does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try { return await fs.readdir(path); } catch { return []; }
}
