// Settings: one zod schema with defaults and a version, a migrate step, lowdb over an adapter
// that validates on read and writes atomically with a backup. Never holds a provider key.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { z } from 'zod';
import { writeFileAtomic, readFileIfExists } from './atomic-file.js';

export const SETTINGS_VERSION = 1;
export const DEFAULT_PORT = 7420;
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

export const TokenRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(64),
  /** sha256 of the token, hex. The token itself is shown once and never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Last 4 characters, so a user can tell tokens apart. */
  hint: z.string().max(8),
  createdAt: z.string(),
  revokedAt: z.string().nullable().prefault(null),
});
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

export const SettingsSchema = z.object({
  version: z.literal(SETTINGS_VERSION),
  port: z.number().int().min(1).max(65535).prefault(DEFAULT_PORT),
  providers: z.object({
    anthropic: z.object({ baseUrl: httpUrl.prefault(DEFAULT_ANTHROPIC_BASE_URL) }).prefault({}),
  }).prefault({}),
  security: z.object({
    /** Forward requests that carry the client's own Anthropic credential (API key or OAuth). */
    allowPassthrough: z.boolean().prefault(true),
    /** Browser origins allowed to call the gateway (exact `scheme://host[:port]`). */
    allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin is scheme://host[:port]')).prefault([]),
  }).prefault({}),
  timeouts: z.object({
    connectMs: z.number().int().min(100).max(120_000).prefault(10_000),
    /** Until response headers arrive. Non-streaming Messages calls can take minutes. */
    firstByteMs: z.number().int().min(1000).max(3_600_000).prefault(600_000),
    /** Silence between body chunks; well above Claude Code's own 300 s. */
    idleMs: z.number().int().min(1000).max(3_600_000).prefault(600_000),
  }).prefault({}),
  tokens: z.array(TokenRecordSchema).prefault([]),
  metering: z.object({
    /** Record each request's usage and cost in the ledger (metadata only, never bodies). */
    enabled: z.boolean().prefault(true),
  }).prefault({}),
  pricing: z.object({
    /** Per model id or glob, USD per million tokens over the bundled table (see proxy/pricing). */
    overrides: z.record(z.string(), z.unknown()).prefault({}),
  }).prefault({}),
});
export type Settings = z.infer<typeof SettingsSchema>;

export class SettingsError extends Error {
  readonly code = 'SETTINGS_INVALID';
  constructor(readonly path: string, readonly problems: string[]) {
    super(`Invalid settings in ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Brings any earlier on-disk shape up to the current version. */
export function migrate(raw: unknown, path = 'settings'): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SettingsError(path, ['the file must hold a JSON object']);
  }
  const obj = { ...(raw as Record<string, unknown>) };
  const version = obj.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new SettingsError(path, ['version must be an integer']);
  if (version > SETTINGS_VERSION) {
    throw new SettingsError(path, [`version ${version} was written by a newer Sluice (this one reads up to ${SETTINGS_VERSION})`]);
  }
  // v0: files written before versioning; same shape, no version field.
  if (version === 0) obj.version = 1;
  return obj;
}

export function parseSettings(raw: unknown, path = 'settings'): Settings {
  const result = SettingsSchema.safeParse(migrate(raw, path));
  if (!result.success) {
    throw new SettingsError(path, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

export function defaultSettings(): Settings {
  return parseSettings({ version: SETTINGS_VERSION });
}

class ValidatingAdapter implements Adapter<Settings> {
  constructor(private readonly file: string) {}
  async read(): Promise<Settings | null> {
    const text = await readFileIfExists(this.file);
    if (text === null) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SettingsError(this.file, [`not valid JSON (${(err as Error).message})`]);
    }
    return parseSettings(raw, this.file);
  }
  async write(data: Settings): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, { backup: true, mode: 0o600 });
  }
}

export interface SettingsStore {
  readonly path: string;
  /** The settings as last read or written. */
  get(): Settings;
  /** Read-modify-write under a lock: re-reads the file first so another process's edits survive. */
  update(mutate: (s: Settings) => void): Promise<Settings>;
  /** Re-reads the file when its mtime changed since the last read; true when it did. */
  reloadIfChanged(): Promise<boolean>;
}

/** Opens (creating when absent) `<dataDir>/settings.json`. Throws SettingsError when invalid. */
export async function openSettings(dataDir: string): Promise<SettingsStore> {
  const file = join(dataDir, 'settings.json');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = new Low<Settings>(new ValidatingAdapter(file), defaultSettings());
  await db.read();
  let mtimeMs = await mtimeOf(file);
  if (mtimeMs === null) {
    await db.write();
    mtimeMs = await mtimeOf(file);
  }
  let chain: Promise<unknown> = Promise.resolve();

  return {
    path: file,
    get: () => db.data,
    update(mutate) {
      const run = chain.then(async () => {
        await db.read();
        const draft = structuredClone(db.data);
        mutate(draft);
        db.data = parseSettings(draft, file);
        await db.write();
        mtimeMs = await mtimeOf(file);
        return db.data;
      });
      chain = run.catch(() => {});
      return run;
    },
    async reloadIfChanged() {
      const m = await mtimeOf(file);
      if (m === null || m === mtimeMs) return false;
      await db.read();
      mtimeMs = m;
      return true;
    },
  };
}

/** mtime alone misses a replace within one clock tick; every write is a rename, so the inode moves. */
async function mtimeOf(file: string): Promise<string | null> {
  try {
    const st = await fs.stat(file);
    return `${st.mtimeMs}:${st.ino}:${st.size}`;
  } catch {
    return null;
  }
}
