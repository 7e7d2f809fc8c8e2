// How the CLI changes settings: through the running gateway when one is up (found through the
// runtime file `serve` writes into the data dir), else by editing settings.json directly under
// its lock. The gateway is the one owner of live settings: a change made through it applies to
// the next request, and its compare-and-set (If-Match) means no one's change is overwritten.
// Imports undici and the stores; never the gateway itself.
import { join } from 'node:path';
import { request } from 'undici';
import { ADMIN_RUNTIME_FILE } from './admin/cli-open.js';
import { readFileIfExists } from './store/atomic-file.js';
import { pidAlive } from './store/file-lock.js';
import { openSettings, parseSettings, type Settings, type SettingsStore } from './store/settings.js';

/** What `serve` publishes (mode 0600, removed when it stops). */
export interface GatewayRuntime {
  url: string;
  port: number;
  token: string;
  pid: number;
}

/** The running gateway of this data dir, or null (no file, a malformed one, or its process is gone). */
export async function findRunningGateway(dataDir: string): Promise<GatewayRuntime | null> {
  const text = await readFileIfExists(join(dataDir, ADMIN_RUNTIME_FILE)).catch(() => null);
  if (text === null) return null;
  let info: Partial<GatewayRuntime>;
  try {
    info = JSON.parse(text) as Partial<GatewayRuntime>;
  } catch {
    return null;
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string' || typeof info.pid !== 'number') return null;
  // A file left by a gateway that crashed (or was killed) names a pid that is gone.
  if (!pidAlive(info.pid)) return null;
  const port = typeof info.port === 'number' ? info.port : Number(new URL(info.url).port);
  return { url: info.url, port, token: info.token, pid: info.pid };
}

/** The gateway refused or could not take a change; the message is the gateway's own. */
export class GatewayCallError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | null) {
    super(message);
  }
}

/** Thrown when nothing answers at the runtime file's address (the caller falls back to the file). */
class GatewayGoneError extends Error {}

/** One admin API call with the runtime file's token. */
export async function callGateway<T>(rt: GatewayRuntime, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let res;
  try {
    res = await request(`${rt.url}/admin/api${path}`, {
      method: method as 'GET',
      headers: {
        authorization: `Bearer ${rt.token}`, 'x-sluice-source': 'cli', accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') throw new GatewayGoneError(`the gateway at ${rt.url} does not answer (${code})`);
    throw new GatewayCallError(`the gateway at ${rt.url} did not answer (${code ?? (err as Error).message}); is \`sluice serve\` still running?`, 0, null);
  }
  const text = await res.body.text();
  if (res.statusCode >= 400) {
    let message = `HTTP ${res.statusCode}`;
    try { message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message; } catch { /* not an envelope */ }
    const code = res.headers['x-sluice-error-code'];
    throw new GatewayCallError(message, res.statusCode, typeof code === 'string' ? code : null);
  }
  return JSON.parse(text) as T;
}

interface SettingsDocument { revision: string; settings: Settings }

/** A SettingsStore whose reads and writes go to the running gateway (compare-and-set, retried on 409). */
async function remoteSettings(rt: GatewayRuntime, path: string): Promise<SettingsStore> {
  const fetchDoc = async (): Promise<SettingsDocument> => {
    const d = await callGateway<SettingsDocument>(rt, 'GET', '/settings/document');
    return { revision: d.revision, settings: parseSettings(d.settings, 'the gateway\'s settings') };
  };
  let doc = await fetchDoc();
  const listeners = new Set<(next: Settings, prev: Settings) => void>();
  const set = (d: SettingsDocument) => {
    const prev = doc.settings;
    doc = d;
    for (const l of [...listeners]) l(doc.settings, prev);
  };
  return {
    path,
    get: () => doc.settings,
    revision: () => doc.revision,
    async update(mutate) {
      // Another writer between our read and our write: read again and re-apply the edit.
      for (let attempt = 0; ; attempt++) {
        const draft = structuredClone(doc.settings);
        mutate(draft);
        const next = parseSettings(draft, path);
        try {
          const d = await callGateway<SettingsDocument>(rt, 'PUT', '/settings/document', { settings: next }, { 'if-match': `"${doc.revision}"` });
          set({ revision: d.revision, settings: parseSettings(d.settings, 'the gateway\'s settings') });
          return doc.settings;
        } catch (err) {
          if (!(err instanceof GatewayCallError) || err.status !== 409 || attempt >= 4) throw err;
          set(await fetchDoc());
        }
      }
    },
    async reloadIfChanged() {
      const before = doc.revision;
      set(await fetchDoc());
      return doc.revision !== before;
    },
    watch: () => () => {},
    onChange(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
}

export interface CliSettings {
  settings: SettingsStore;
  /** The gateway the changes went through, or null when settings.json was edited directly. */
  gateway: GatewayRuntime | null;
}

/**
 * The settings for a CLI command. With a gateway running on this data dir, reads and writes go
 * through its admin API (so they apply to its next request); without one, settings.json is
 * edited directly, each write under the file's lock.
 */
export async function openCliSettings(dataDir: string): Promise<CliSettings> {
  const rt = await findRunningGateway(dataDir);
  if (rt) {
    try {
      return { settings: await remoteSettings(rt, join(dataDir, 'settings.json')), gateway: rt };
    } catch (err) {
      // The pid was reused by another program, or the gateway is just stopping: edit the file.
      if (!(err instanceof GatewayGoneError)) throw err;
    }
  }
  return { settings: await openSettings(dataDir), gateway: null };
}
