// Where Sluice keeps its data on each OS. Pure: the environment is passed in.
import { join } from 'node:path';

export interface PathEnv {
  platform: NodeJS.Platform;
  home: string;
  env: Record<string, string | undefined>;
}

/**
 * The data dir: `--data-dir` / SLUICE_DATA_DIR win; else ~/.config/sluice (Linux, honouring
 * XDG_CONFIG_HOME), ~/Library/Application Support/Sluice (macOS), %APPDATA%\Sluice (Windows).
 */
export function defaultDataDir(p: PathEnv, override?: string): string {
  if (override) return override;
  if (p.env.SLUICE_DATA_DIR) return p.env.SLUICE_DATA_DIR;
  if (p.platform === 'darwin') return join(p.home, 'Library', 'Application Support', 'Sluice');
  if (p.platform === 'win32') return join(p.env.APPDATA ?? join(p.home, 'AppData', 'Roaming'), 'Sluice');
  return join(p.env.XDG_CONFIG_HOME || join(p.home, '.config'), 'sluice');
}
