// Serves the built dashboard (renderer/dist) under /ui/ with a strict CSP; unknown paths get
// index.html (the app routes by hash). Plain node:fs and node:path; never imports renderer/.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { AdminError } from './admin-error.js';

export const UI_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The package root (where package.json names "sluice"), from source (proxy/admin) or dist/proxy/admin. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = resolve(from, '..');
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sluice') return dir;
      } catch { /* not ours: keep walking */ }
    }
    dir = resolve(dir, '..');
  }
  throw new Error(`package root of Sluice not found above ${from}`);
}

export function defaultUiDir(): string {
  return join(packageRoot(), 'renderer', 'dist');
}

export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': UI_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/**
 * Resolves a request path under /ui/ to a file inside `uiDir`, or index.html. `rel` is the
 * decoded path after /ui/. Anything escaping the folder is answered with index.html, never read.
 */
export async function resolveUiFile(uiDir: string, rel: string): Promise<{ path: string; immutable: boolean }> {
  const root = resolve(uiDir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) throw new AdminError('ADMIN_UI_NOT_BUILT', `The dashboard is not built (${index} is missing). Run \`npm run build:ui\`.`);
  const clean = rel.replace(/^\/+/, '');
  if (clean === '' || clean.includes('\0')) return { path: index, immutable: false };
  const candidate = resolve(root, clean);
  if (!candidate.startsWith(root + sep)) return { path: index, immutable: false };
  try {
    const st = await stat(candidate);
    // Vite puts content-hashed files under assets/: they never change under that name.
    if (st.isFile()) return { path: candidate, immutable: clean.startsWith('assets/') };
  } catch { /* not a file: the app's own routing handles it */ }
  return { path: index, immutable: false };
}

export function sendUiFile(res: ServerResponse, file: { path: string; immutable: boolean }, method: string): void {
  res.writeHead(200, {
    ...securityHeaders(),
    'content-type': TYPES[extname(file.path)] ?? 'application/octet-stream',
    'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
}
