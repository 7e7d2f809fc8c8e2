// Start at login: the OS login item on macOS and Windows, an XDG autostart .desktop file on
// Linux (pure text + path functions, and one atomic write). Never imports electron.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import type { AppApi } from './electron-facade.js';

/** Passed on login so the app starts in the tray without opening its window. */
export const HIDDEN_FLAG = '--hidden';
export const DESKTOP_FILE_NAME = 'sluice.desktop';

export type AutostartMechanism =
  | { kind: 'login-item' }
  | { kind: 'desktop-file'; path: string };

export interface AutostartEnv {
  platform: NodeJS.Platform;
  home: string;
  env: Record<string, string | undefined>;
}

/** Where start-at-login lives on this OS (XDG: `$XDG_CONFIG_HOME/autostart`, default ~/.config). */
export function autostartMechanism(p: AutostartEnv): AutostartMechanism {
  if (p.platform === 'darwin' || p.platform === 'win32') return { kind: 'login-item' };
  return { kind: 'desktop-file', path: join(p.env.XDG_CONFIG_HOME || join(p.home, '.config'), 'autostart', DESKTOP_FILE_NAME) };
}

export interface LaunchInfo {
  execPath: string;
  argv: readonly string[];
  /** Electron's process.defaultApp: true when run as `electron path/to/main.js` (development). */
  defaultApp: boolean;
  env: Record<string, string | undefined>;
}

/**
 * The command that starts this app again. An AppImage's execPath is inside a mount that changes
 * every run, so its own file ($APPIMAGE) is what must be launched.
 */
export function launchCommand(l: LaunchInfo): string[] {
  if (l.defaultApp && l.argv[1]) return [l.execPath, l.argv[1], HIDDEN_FLAG];
  return [l.env.APPIMAGE || l.execPath, HIDDEN_FLAG];
}

// Desktop Entry Specification, "The Exec key": these characters force an argument to be quoted.
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/** One Exec argument: `%` doubled (field codes), quoted when needed, then string-escaped. */
export function quoteExecArg(arg: string): string {
  if (/[\n\r\u0000-\u001f]/.test(arg)) throw new Error('a launch argument contains a control character');
  const pct = arg.replace(/%/g, '%%');
  const quoted = RESERVED.test(pct) || pct === '' ? `"${pct.replace(/["`$\\]/g, '\\$&')}"` : pct;
  // The string-value escape (`\\` -> `\`) is undone before the quoting rule is applied, so every
  // backslash is doubled once more: a literal `$` in a quoted argument becomes `\\$` in the file.
  return quoted.replace(/\\/g, '\\\\');
}

export interface DesktopEntryInput {
  command: readonly string[];
  name?: string;
  comment?: string;
  icon?: string;
}

export function desktopEntry(d: DesktopEntryInput): string {
  if (d.command.length === 0) throw new Error('desktopEntry needs a command');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    `Name=${d.name ?? 'Sluice'}`,
    `Comment=${d.comment ?? 'Local LLM gateway in your tray'}`,
    `Exec=${d.command.map(quoteExecArg).join(' ')}`,
    `Icon=${d.icon ?? 'sluice'}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export interface AutostartDeps extends AutostartEnv {
  app: Pick<AppApi, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  command: readonly string[];
}

/** Whether the app starts at login now. Linux: our .desktop file exists and launches this app. */
export async function readAutostart(d: AutostartDeps): Promise<boolean> {
  const m = autostartMechanism(d);
  if (m.kind === 'login-item') return d.app.getLoginItemSettings({ args: [HIDDEN_FLAG] }).openAtLogin;
  const text = await readFileIfExists(m.path);
  return text !== null && text.includes(`\nExec=${d.command.map(quoteExecArg).join(' ')}\n`) && !/\nHidden=true\n/.test(text);
}

export async function writeAutostart(d: AutostartDeps, enabled: boolean): Promise<void> {
  const m = autostartMechanism(d);
  if (m.kind === 'login-item') {
    d.app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] });
    return;
  }
  if (enabled) await writeFileAtomic(m.path, desktopEntry({ command: d.command }), { backup: false, mode: 0o644 });
  else await fs.rm(m.path, { force: true });
}
