// `sluice tools` and `sluice configure <tool> [--dry-run] [--undo]`: one-click tool setup with
// exact undo. Each configured tool gets its own Sluice token (named after the tool), kept in
// the keychain so a later re-apply (port change) can reuse it.
import { execFile } from 'node:child_process';
import { getToolAdapter, listToolAdapters, reapplyAll, CURSOR_BYOK_NOTE, type Connection, type ToolContext, type ToolId } from './tools/index.js';
import type { SettingsStore } from './store/settings.js';
import { openCliSettings } from './cli-settings.js';
import { TABLE_WIDTH, wrap } from './cli-table.js';
import { createTokenStore } from './store/tokens.js';
import type { SecretStore } from './store/secrets.js';
import { sluiceStatusLine, userStatusLine } from './tools/adapters/claude-code.js';

export interface ToolsCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  cwd?: string;
}

export class ToolsCliUsageError extends Error {}

/** Previews show where the token goes without issuing one (previews mask it anyway). */
const PLACEHOLDER_TOKEN = 'sk-sluice-new-token-for-this-tool';
/** Keychain account of a configured tool's token (the tray app and admin API use it too). */
export const TOOL_TOKEN_ACCOUNT_PREFIX = 'tool-token:';
export const tokenAccount = (id: ToolId) => `${TOOL_TOKEN_ACCOUNT_PREFIX}${id}`;

export function toolContext(io: ToolsCliIo, dataDir: string, secrets: SecretStore): ToolContext {
  const platform = io.platform === 'darwin' || io.platform === 'win32' ? io.platform : 'linux';
  return {
    platform,
    home: io.home,
    env: io.env,
    dataDir,
    cwd: io.cwd,
    secrets,
    run: (cmd, args) => new Promise((resolve) => {
      execFile(cmd, args, { windowsHide: true }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    }),
  };
}

export function gatewayUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * The tool's token: the one Sluice keeps in the keychain when it is still active, else a new
 * one (an older active token of that name is revoked, since nothing can recover its value).
 */
export async function toolToken(id: ToolId, settings: SettingsStore, secrets: SecretStore, note: (s: string) => void): Promise<string> {
  const tokens = createTokenStore(settings);
  let kept: string | null = null;
  try {
    kept = await secrets.get(tokenAccount(id));
  } catch (err) {
    note(`keychain unavailable (${(err as Error).message}); issuing a fresh token for ${id}`);
  }
  if (kept && tokens.verify(kept)?.name === id) return kept;
  if (tokens.list().some((t) => t.name === id && !t.revokedAt)) {
    await tokens.revoke(id);
    note(`replaced the earlier token named "${id}"`);
  }
  // Claude Code gets the gateway-shaped token, so it shows Sluice's budgets as a gateway's
  // spend limits; other tools keep sk-sluice- (an earlier token of either shape still works).
  const { token } = await tokens.create(id, { shape: id === 'claude-code' ? 'gateway' : 'sluice' });
  try {
    await secrets.set(tokenAccount(id), token);
  } catch { /* headless: the token lives only in the tool's config; a re-apply issues a new one */ }
  return token;
}

export async function listTools(io: ToolsCliIo, dataDir: string, secrets: SecretStore, json: boolean): Promise<number> {
  const ctx = toolContext(io, dataDir, secrets);
  const rows = [];
  for (const a of listToolAdapters()) {
    const [d, st] = await Promise.all([a.detect(ctx), a.status(ctx)]);
    rows.push({ id: a.id, label: a.label, installed: d.installed, state: st.state, baseUrl: st.baseUrl, notes: d.notes, warnings: d.warnings });
  }
  if (json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  for (const r of rows) {
    io.stdout(`${r.id.padEnd(20)} ${r.state.padEnd(22)} ${r.baseUrl ?? ''}\n`);
    for (const w of r.warnings) io.stdout(`${wrap(`! ${w}`, TABLE_WIDTH, ' '.repeat(21))}\n`);
  }
  io.stdout(`\n${wrap(CURSOR_BYOK_NOTE)}\n`);
  return 0;
}

export async function configureTool(
  io: ToolsCliIo, dataDir: string, secrets: SecretStore, id: string | undefined,
  o: { dryRun: boolean; undo: boolean; port: number; statusLine?: 'add' | 'replace'; statusLineCommand?: string },
): Promise<number> {
  if (!id) throw new ToolsCliUsageError(`configure needs a tool: ${listToolAdapters().map((a) => a.id).join(', ')}`);
  const adapter = getToolAdapter(id);
  const ctx = toolContext(io, dataDir, secrets);
  if (o.statusLine !== undefined) {
    if (adapter.id !== 'claude-code') throw new ToolsCliUsageError('--statusline is for `sluice configure claude-code` only');
    if (o.undo) throw new ToolsCliUsageError('--undo takes back the whole configuration, statusLine included; give it without --statusline');
    ctx.statusLineCommand = o.statusLineCommand ?? statuslineCommand(dataDir);
    const theirs = await userStatusLine(ctx, sluiceStatusLine(ctx.statusLineCommand));
    if (theirs !== undefined && o.statusLine !== 'replace') {
      const shown = JSON.stringify(theirs);
      io.stdout(`Claude Code already has a statusLine of yours: ${shown.length > 120 ? `${shown.slice(0, 119)}…` : shown}
`
        + 'Sluice left it and everything else as it is. To put Sluice\'s there instead (undo brings yours back exactly):\n'
        + `  sluice configure claude-code --statusline=replace\n`);
      return 1;
    }
  }
  // Tokens are issued through the running gateway when one is up.
  const { settings } = await openCliSettings(dataDir);

  if (o.undo) {
    const r = await adapter.undo(ctx);
    if (!r.undone) {
      io.stdout(`${adapter.label}: nothing to undo (Sluice had not configured it).\n`);
      return 0;
    }
    for (const f of r.restored) io.stdout(`restored ${f} exactly as it was\n`);
    for (const f of r.merged) io.stdout(`put back Sluice's keys in ${f} (you edited it since; your edits stay)\n`);
    for (const k of r.kept) io.stdout(`kept your value of ${k}\n`);
    for (const n of r.notes) io.stdout(`${n}\n`);
    const tokens = createTokenStore(settings);
    if (tokens.list().some((t) => t.name === adapter.id && !t.revokedAt)) await tokens.revoke(adapter.id);
    await secrets.delete(tokenAccount(adapter.id)).catch(() => false);
    io.stdout(`${adapter.label}: configuration undone; its Sluice token is revoked.\n`);
    return 0;
  }

  const baseUrl = gatewayUrl(o.port);
  if (o.dryRun) {
    const p = await adapter.preview(ctx, { baseUrl, token: PLACEHOLDER_TOKEN });
    for (const f of p.files) io.stdout(f.diff ? f.diff : `${f.path}: no change\n`);
    for (const e of p.envVars) io.stdout(`${e.mechanism} ${e.name}: ${e.action}\n`);
    for (const w of p.warnings) io.stdout(`warning: ${w}\n`);
    for (const n of p.notes) io.stdout(`note: ${n}\n`);
    io.stdout('(dry run: nothing was written)\n');
    return 0;
  }
  const token = await toolToken(adapter.id, settings, secrets, (s) => io.stderr(`sluice: ${s}\n`));
  const r = await adapter.apply(ctx, { baseUrl, token });
  for (const f of r.changed) io.stdout(`updated ${f} (backup beside it)\n`);
  for (const f of r.unchanged) io.stdout(`${f} already points at Sluice\n`);
  for (const w of r.warnings) io.stdout(`warning: ${w}\n`);
  for (const n of r.notes) io.stdout(`note: ${n}\n`);
  io.stdout(`${adapter.label} now uses Sluice at ${baseUrl} with its own token "${adapter.id}". Undo: sluice configure ${adapter.id} --undo\n`);
  return 0;
}

/** What Claude Code runs: this Node and this CLI file, so it works whatever PATH Claude Code has. */
export function statuslineCommand(dataDir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = process.argv[1] ?? 'sluice';
  const self = /\.[cm]?js$/.test(script) ? `${q(process.execPath)} ${q(script)}` : q(script);
  return `${self} statusline --data-dir ${q(dataDir)}`;
}

/** After `serve` is listening: tools configured for another port follow the gateway. */
export async function followPort(io: ToolsCliIo, dataDir: string, secrets: SecretStore, settings: SettingsStore, baseUrl: string): Promise<string[]> {
  const ctx = toolContext(io, dataDir, secrets);
  const results = await reapplyAll(ctx, baseUrl, async (id): Promise<Connection> => ({
    baseUrl,
    token: await toolToken(id, settings, secrets, (s) => io.stderr(`sluice: ${s}\n`)),
  }));
  return results.map((r) => r.tool);
}
