// `sluice open`: asks the running gateway (found through the file `serve` publishes in the data
// dir) for a fresh one-time login URL, prints it and opens the browser when there is a desktop.
// Plain node; must not import the gateway itself.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import { readFileIfExists } from '../store/atomic-file.js';
import type { LoginUrlResponse } from './api-types.js';

export const ADMIN_RUNTIME_FILE = 'admin.json';

export interface OpenIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  /** Opens a URL in the browser; default the platform's opener. Null: print only. */
  launch?: ((url: string) => void) | null;
}

export class OpenError extends Error {}

/** The platform's URL opener, detached so the CLI can exit at once. */
export function platformLauncher(platform: NodeJS.Platform, env: Record<string, string | undefined>): ((url: string) => void) | null {
  if (env.SLUICE_NO_BROWSER) return null;
  const [cmd, args] = platform === 'darwin' ? ['open', []] : platform === 'win32' ? ['cmd', ['/c', 'start', '""']] : ['xdg-open', []];
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return (url) => {
    const child = spawn(cmd as string, [...(args as string[]), url], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    child.unref();
  };
}

export async function openDashboard(io: OpenIo, dataDir: string): Promise<number> {
  const file = join(dataDir, ADMIN_RUNTIME_FILE);
  const text = await readFileIfExists(file);
  if (text === null) throw new OpenError(`no running gateway found (${file} is missing); start one with \`sluice serve\``);
  let info: { url?: unknown; token?: unknown };
  try {
    info = JSON.parse(text) as typeof info;
  } catch {
    throw new OpenError(`${file} is not valid JSON; restart \`sluice serve\``);
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string') throw new OpenError(`${file} lacks url or token; restart \`sluice serve\``);
  let res;
  try {
    res = await request(`${info.url}/admin/api/login-url`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    throw new OpenError(`the gateway at ${info.url} does not answer (${(err as { code?: string }).code ?? (err as Error).message}); is \`sluice serve\` still running?`);
  }
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new OpenError(`the gateway at ${info.url} refused the login request (${res.statusCode}); restart \`sluice serve\``);
  const { url, expiresInSeconds } = JSON.parse(body) as LoginUrlResponse;
  io.stdout(`${url}\n`);
  io.stderr(`One-time login link, valid ${Math.round(expiresInSeconds / 60)} minutes.\n`);
  const launch = io.launch === undefined ? platformLauncher(io.platform, io.env) : io.launch;
  launch?.(url);
  return 0;
}
