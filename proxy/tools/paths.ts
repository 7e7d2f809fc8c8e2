// Where each tool keeps its config, per platform, from the injected context only (never
// process.env / os.homedir()). Pure; imports node:path.
import { join } from 'node:path';
import type { ToolContext } from './types.js';

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** `$CLAUDE_CONFIG_DIR` or `~/.claude`. */
export function claudeConfigDir(ctx: ToolContext): string {
  return nonEmpty(ctx.env.CLAUDE_CONFIG_DIR) ?? join(ctx.home, '.claude');
}

/** Claude Code's managed (admin) settings file; `ctx.systemRoot` re-roots it for tests. */
export function claudeManagedSettingsPath(ctx: ToolContext): string {
  const root = ctx.systemRoot;
  switch (ctx.platform) {
    case 'linux': return join(root ?? '/', 'etc', 'claude-code', 'managed-settings.json');
    case 'darwin': return join(root ?? '/', 'Library', 'Application Support', 'ClaudeCode', 'managed-settings.json');
    case 'win32': return root === undefined ? 'C:\\ProgramData\\ClaudeCode\\managed-settings.json' : join(root, 'ProgramData', 'ClaudeCode', 'managed-settings.json');
  }
}

/** The per-user config root VS Code-family editors use: XDG on Linux, Application Support on macOS, %APPDATA% on Windows. */
export function appConfigRoot(ctx: ToolContext): string {
  switch (ctx.platform) {
    case 'linux': return nonEmpty(ctx.env.XDG_CONFIG_HOME) ?? join(ctx.home, '.config');
    case 'darwin': return join(ctx.home, 'Library', 'Application Support');
    case 'win32': return nonEmpty(ctx.env.APPDATA) ?? join(ctx.home, 'AppData', 'Roaming');
  }
}

export type Editor = 'Code' | 'Cursor';

/** `<config root>/<Code|Cursor>/User`: holds the editor's user settings.json. */
export function editorUserDir(ctx: ToolContext, editor: Editor): string {
  return join(appConfigRoot(ctx), editor, 'User');
}

/** Where the editor keeps installed extensions (`~/.vscode/extensions`, `~/.cursor/extensions`). */
export function editorExtensionsDir(ctx: ToolContext, editor: Editor): string {
  return join(ctx.home, editor === 'Code' ? '.vscode' : '.cursor', 'extensions');
}

/** `$CLINE_DIR` or `~/.cline`. */
export function clineDir(ctx: ToolContext): string {
  return nonEmpty(ctx.env.CLINE_DIR) ?? join(ctx.home, '.cline');
}

/** XDG config home for unix shells (fish, PowerShell on Linux/macOS). */
export function xdgConfigHome(ctx: ToolContext): string {
  return nonEmpty(ctx.env.XDG_CONFIG_HOME) ?? join(ctx.home, '.config');
}

export interface ShellProfile { shell: 'bash' | 'zsh' | 'fish' | 'powershell'; path: string; /** Sluice owns the whole file. */ own: boolean }

/** Candidate profiles; the shell adapter edits those that exist (fish: when fish's config dir exists). */
export function shellProfiles(ctx: ToolContext): ShellProfile[] {
  const zdot = nonEmpty(ctx.env.ZDOTDIR) ?? ctx.home;
  const out: ShellProfile[] = [
    { shell: 'bash', path: join(ctx.home, '.bashrc'), own: false },
    { shell: 'zsh', path: join(zdot, '.zshrc'), own: false },
  ];
  if (ctx.platform !== 'win32') out.push({ shell: 'fish', path: join(xdgConfigHome(ctx), 'fish', 'conf.d', 'sluice.fish'), own: true });
  out.push({
    shell: 'powershell',
    path: ctx.platform === 'win32'
      ? join(ctx.home, 'Documents', 'PowerShell', 'Microsoft.PowerShell_profile.ps1')
      : join(xdgConfigHome(ctx), 'powershell', 'Microsoft.PowerShell_profile.ps1'),
    own: false,
  });
  return out;
}
