// Settings: one zod schema with defaults and a version, a migrate step, lowdb over an adapter
// that validates on read and writes atomically with a backup, under a lock file between
// processes, with a content revision for compare-and-set writes. Never holds a provider key.
import { promises as fs, watch as fsWatch, type FSWatcher } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { z } from 'zod';
import { writeFileAtomic, readFileIfExists } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { GatewayError } from '../errors.js';
import { ControlSettingsSchema } from '../control/schema.js';
import { ObserveSettingsSchema, TagsSchema } from '../observe/schema.js';
import { PROVIDER_KINDS, PROVIDER_TYPES } from '../providers/kinds.js';
import { RoutingSettingsSchema, routingProblems } from '../routing/schema.js';
import { ProfilesSettingsSchema } from '../profiles/schema.js';

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

export const ProviderSchema = z.object({
  /** Family and wire format (proxy/providers/kinds.ts): Messages, or OpenAI Chat Completions. */
  type: z.enum(PROVIDER_TYPES).prefault('anthropic'),
  /** Required for the `*-compatible` types; the family's public API otherwise. */
  baseUrl: httpUrl.optional(),
  /** How the key is sent; the family's usual style by default. `none` for keyless local servers. */
  auth: z.enum(['x-api-key', 'bearer', 'none']).optional(),
  /** Model ids known without asking the provider (merged with discovered ones). */
  models: z.array(z.string().min(1).max(200)).prefault([]),
  /** Ask the provider's models endpoint for its catalogue (cached, see routing.modelsCacheMs). */
  discoverModels: z.boolean().prefault(true),
  /** Extra request headers that are not secrets (OpenRouter's `HTTP-Referer`, `X-Title`). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid header name'), z.string().max(1000)).prefault({}),
  /** OpenAI-format only: where assistant thinking goes back upstream (see docs/translation.md). */
  reasoningField: z.enum(['reasoning_content', 'reasoning', 'none']).optional(),
  /** OpenAI-format only: send `reasoning_effort` derived from `thinking`. */
  reasoningEffort: z.boolean().optional(),
  /** OpenAI-format only: OpenAI's reasoning models take only `max_completion_tokens`. */
  maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
}).superRefine((p, ctx) => {
  if (p.baseUrl === undefined && PROVIDER_KINDS[p.type].defaultBaseUrl === null) {
    ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: `required for type "${p.type}"` });
  }
}).transform((p) => ({ ...p, baseUrl: p.baseUrl ?? PROVIDER_KINDS[p.type].defaultBaseUrl! }));
export type ProviderSettings = z.infer<typeof ProviderSchema>;

export const TokenRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).max(64),
  /** sha256 of the token, hex. The token itself is shown once and never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Last 4 characters, so a user can tell tokens apart. */
  hint: z.string().max(8),
  createdAt: z.string(),
  revokedAt: z.string().nullable().prefault(null),
  /**
   * Billing tags (team, cost centre, project) copied onto every ledger row of this token. Filled
   * in ({}) when parsed; optional in the type so records built by hand still type-check.
   */
  tags: TagsSchema.prefault({}).optional(),
});
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

export const SettingsSchema = z.object({
  version: z.literal(SETTINGS_VERSION),
  port: z.number().int().min(1).max(65535).prefault(DEFAULT_PORT),
  /**
   * Upstream targets by name. `anthropic` always exists; others (another region, a corporate
   * relay, an Anthropic-compatible host, an OpenAI-format provider) serve as fallbacks and as
   * routing targets. Keys live in the keychain under the provider's name (`name`, `name:2`,
   * ...) or SLUICE_<NAME>_API_KEY(S), never here.
   */
  providers: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'provider names are lower-case letters, digits and "-"'), ProviderSchema)
    .prefault({})
    .transform((p): Record<string, ProviderSettings> & { anthropic: ProviderSettings } => ({ ...p, anthropic: p.anthropic ?? ProviderSchema.parse({}) })),
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
    /**
     * Until a streaming request's first attempt gets its response headers (never above
     * firstByteMs). A streaming answer's headers come before any token is generated, so a
     * healthy upstream sends them in about a second; 30 s is ample for queueing and a long
     * prompt, and a stalled key fails over in seconds instead of minutes. Later attempts get
     * firstByteMs, so a slow but healthy upstream still answers.
     */
    streamFirstByteMs: z.number().int().min(1000).max(3_600_000).prefault(30_000),
    /** Silence between body chunks; well above Claude Code's own 300 s. */
    idleMs: z.number().int().min(1000).max(3_600_000).prefault(600_000),
  }).prefault({}),
  tokens: z.array(TokenRecordSchema).prefault([]),
  resilience: z.object({
    retry: z.object({
      /** Upstream attempts per request, the first included. */
      maxAttempts: z.number().int().min(1).max(10).prefault(5),
      /** Longest a request may spend retrying before Sluice answers with the upstream's error. */
      maxTotalMs: z.number().int().min(0).max(600_000).prefault(60_000),
      baseDelayMs: z.number().int().min(0).max(60_000).prefault(500),
      maxDelayMs: z.number().int().min(0).max(120_000).prefault(8_000),
      /** Longest wait for a resting key or an open breaker; beyond it the client is told retry-after at once. */
      maxWaitMs: z.number().int().min(0).max(120_000).prefault(10_000),
      /**
       * Retries may be at most this fraction of requests (global retry budget): at most
       * 1 + ratio upstream calls per client request in an outage. 0.5 measured in
       * bench/RESULTS.md (Chaos): 99.5 %+ success at 20 % 529 + 5 % resets + one limited key.
       */
      budgetRatio: z.number().min(0).max(1).prefault(0.5),
    }).prefault({}),
    breaker: z.object({
      failureThreshold: z.number().int().min(1).max(1000).prefault(5),
      /** Share of calls in the window that must have failed to open (with at least failureThreshold failures). */
      failureRate: z.number().min(0).max(1).prefault(0.5),
      windowMs: z.number().int().min(1000).max(600_000).prefault(30_000),
      openMs: z.number().int().min(100).max(600_000).prefault(30_000),
      halfOpenProbes: z.number().int().min(1).max(100).prefault(1),
    }).prefault({}),
    /** Per-key outlier ejection after a timeout or reset: base × 2^n, up to max. */
    ejection: z.object({
      baseMs: z.number().int().min(100).max(600_000).prefault(1_000),
      maxMs: z.number().int().min(100).max(3_600_000).prefault(60_000),
    }).prefault({}),
    /**
     * Explicit fallback chains: for requested models matching `models` (a glob), the targets to
     * try after the first choice, in order. A `model` rewrites the request's model for that
     * target (a different model only where you configure one); without it the model is kept.
     */
    fallbacks: z.array(z.object({
      models: z.string().min(1).prefault('*'),
      to: z.array(z.object({ provider: z.string().min(1), model: z.string().min(1).optional() })).min(1),
    })).prefault([]),
  }).prefault({}),
  metering: z.object({
    /** Record each request's usage and cost in the ledger (metadata only, never bodies). */
    enabled: z.boolean().prefault(true),
  }).prefault({}),
  /** Routing rules and A/B splits across providers (proxy/routing). */
  routing: RoutingSettingsSchema.prefault({}),
  /** Tool-token policies, budgets, guardrails, capture (proxy/control). */
  control: ControlSettingsSchema.prefault({}),
  /** Named provider + routing sets and the one applied last (proxy/profiles). */
  profiles: ProfilesSettingsSchema.prefault({}),
  /** OpenTelemetry export and alert webhooks (proxy/observe). */
  observe: ObserveSettingsSchema.prefault({}),
  pricing: z.object({
    /** Per model id or glob, USD per million tokens over the bundled table (see proxy/pricing). */
    overrides: z.record(z.string(), z.unknown()).prefault({}),
  }).prefault({}),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** Cross-field rules zod's per-field schemas cannot see. */
function crossCheck(s: Settings): string[] {
  const problems: string[] = [];
  s.resilience.fallbacks.forEach((f, i) => f.to.forEach((t, j) => {
    if (!s.providers[t.provider]) problems.push(`resilience.fallbacks.${i}.to.${j}.provider: "${t.provider}" is not a configured provider`);
  }));
  if (s.providers.anthropic.type !== 'anthropic') problems.push('providers.anthropic.type: the first-party provider must keep type "anthropic"');
  problems.push(...routingProblems(s.routing, s.providers));
  return problems;
}

export class SettingsError extends Error {
  readonly code = 'SETTINGS_INVALID';
  constructor(readonly path: string, readonly problems: string[]) {
    super(`Invalid settings in ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * An admin write based on settings that changed since (the CLI, another window, a hand edit):
 * 409 in the envelope, nothing applied. `x-sluice-revision` carries the current revision.
 */
export class SettingsConflictError extends GatewayError {
  constructor(readonly current: string) {
    super('SETTINGS_REVISION_STALE', 409, 'gateway_conflict_error',
      'The settings changed since this change was prepared (by the CLI, another window or a hand edit of settings.json); nothing was applied. Reload the current settings and make the change again.',
      { headers: { 'x-sluice-revision': current } });
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
  const problems = crossCheck(result.data);
  if (problems.length) throw new SettingsError(path, problems);
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
  /**
   * The revision of get(): a hash of its content, so any change (this process, another one, a
   * hand edit) gives a new one. Admin writes carry the revision they were based on.
   */
  revision(): string;
  /**
   * Read-modify-write under `settings.json.lock` (between processes) and a queue (within one):
   * re-reads the file first so another process's edits survive. With `expectRevision` (or one
   * set by `withExpectedRevision`), a file whose revision differs is refused with
   * SettingsConflictError and nothing is written.
   */
  update(mutate: (s: Settings) => void, opts?: { expectRevision?: string }): Promise<Settings>;
  /** Re-reads the file when it changed since the last read; true when it did. Throws SettingsError when invalid. */
  reloadIfChanged(): Promise<boolean>;
  /**
   * Follows hand edits: the file's directory is watched and a valid change applied at once;
   * an invalid one is reported to `onInvalid` and ignored (the last good settings stay).
   * This store's own writes are not reported. Returns the stop function.
   */
  watch(handlers: { onApplied?: () => void; onInvalid: (err: SettingsError) => void }): () => void;
  /**
   * Called after get() changed (this store's write, a reload of another process's or a hand
   * edit), with the settings before and after, synchronously; the two may hold equal content
   * (a re-read). Returns the unsubscribe function.
   */
  onChange(listener: (next: Settings, prev: Settings) => void): () => void;
}

/** A content hash of parsed settings: equal content, equal revision, in every process. */
export function settingsRevision(s: Settings): string {
  return createHash('sha256').update(canonicalJson(s)).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted: parsing fills defaults in an order that depends on the input. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    return `{${entries.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The revision an admin request was based on (its If-Match), for every settings.update() made
 * while handling it; after a successful update it moves to the new revision, so one request may
 * write twice (a tool's token revoked, then a new one created).
 */
const expected = new AsyncLocalStorage<{ revision: string }>();
export function withExpectedRevision<T>(revision: string, fn: () => T): T {
  return expected.run({ revision }, fn);
}

/** Opens (creating when absent) `<dataDir>/settings.json`. Throws SettingsError when invalid. */
export async function openSettings(dataDir: string): Promise<SettingsStore> {
  const file = join(dataDir, 'settings.json');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = new Low<Settings>(new ValidatingAdapter(file), defaultSettings());
  await db.read();
  let mtimeMs = await mtimeOf(file);
  if (mtimeMs === null) {
    await withFileLock(file, async () => {
      // Another process may have created it meanwhile: keep theirs.
      if (await mtimeOf(file) === null) await db.write();
      else await db.read();
    });
    mtimeMs = await mtimeOf(file);
  }
  let revisionFor: Settings | null = null;
  let rev = '';
  const revision = () => {
    if (revisionFor !== db.data) {
      rev = settingsRevision(db.data);
      revisionFor = db.data;
    }
    return rev;
  };
  const listeners = new Set<(next: Settings, prev: Settings) => void>();
  /** Tells the listeners when db.data is no longer `prev`; a listener's throw never fails the write. */
  const changed = (prev: Settings) => {
    if (db.data === prev) return;
    for (const l of [...listeners]) {
      try { l(db.data, prev); } catch { /* a listener's own problem */ }
    }
  };
  let chain: Promise<unknown> = Promise.resolve();
  const queue = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => {});
    return run;
  };
  const reload = async (): Promise<boolean> => {
    const m = await mtimeOf(file);
    if (m === null || m === mtimeMs) return false;
    // Remembered first: an invalid file is reported once, not on every later look.
    mtimeMs = m;
    const prev = db.data;
    await db.read();
    changed(prev);
    return true;
  };

  return {
    path: file,
    get: () => db.data,
    revision,
    update(mutate, opts = {}) {
      const ctx = expected.getStore();
      return queue(() => withFileLock(file, async () => {
        const prev = db.data;
        try {
          await db.read();
          const want = opts.expectRevision ?? ctx?.revision;
          if (want !== undefined && want !== revision()) throw new SettingsConflictError(revision());
          const draft = structuredClone(db.data);
          mutate(draft);
          db.data = parseSettings(draft, file);
          await db.write();
          mtimeMs = await mtimeOf(file);
          if (ctx) ctx.revision = revision();
          return db.data;
        } finally {
          changed(prev);
        }
      }));
    },
    reloadIfChanged: () => queue(reload),
    onChange(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    watch({ onApplied, onInvalid }) {
      let timer: NodeJS.Timeout | null = null;
      let closed = false;
      const check = () => {
        timer = null;
        if (closed) return;
        queue(reload).then((changed) => { if (changed) onApplied?.(); }, (err: unknown) => {
          if (err instanceof SettingsError) onInvalid(err);
        });
      };
      // Editors save by rename or in place; watching the directory sees both.
      const soon = () => { if (!timer && !closed) timer = setTimeout(check, 50); };
      let watcher: FSWatcher | null = null;
      try {
        watcher = fsWatch(dataDir, { persistent: false }, (_event, name) => {
          if (name === null || name === 'settings.json') soon();
        });
        watcher.on('error', () => {});
      } catch { /* no inotify/FSEvents here: the poll below still applies edits */ }
      // A backstop for file systems that drop events (network mounts, some containers).
      const poll = setInterval(soon, watcher ? 5_000 : 500);
      poll.unref();
      return () => {
        closed = true;
        watcher?.close();
        clearInterval(poll);
        if (timer) clearTimeout(timer);
      };
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
