// Provider keys: the OS keychain (service "Sluice") through @napi-rs/keyring, with env vars as
// the headless fallback. A key never leaves this module except into an upstream request header.
import { AsyncEntry, findCredentialsAsync, type EntryOptions } from '@napi-rs/keyring';

export const KEYCHAIN_SERVICE = 'Sluice';

export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
  /** Accounts with the last 4 characters of their secret; never the secret. */
  list(): Promise<{ account: string; hint: string }[]>;
}

export class SecretStoreError extends Error {
  readonly code = 'SECRET_STORE_UNAVAILABLE';
}

function keychainName(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? 'the macOS Keychain'
    : platform === 'win32' ? 'the Windows Credential Manager'
      : 'a Secret Service keyring (gnome-keyring or KWallet, running and unlocked)';
}

/**
 * What a person reads when the keychain cannot be used: what is missing and the env var to use
 * instead. The keychain library's own text (D-Bus errors and the like) stays in `cause` only.
 */
export function keychainUnavailableMessage(what: string, platform: NodeJS.Platform = process.platform, provider = 'anthropic'): string {
  return `No OS keychain to ${what} keys: Sluice needs ${keychainName(platform)}. Without one, give the key to \`sluice serve\` in its environment instead: ${envVarFor(provider)}=<key> (one variable per provider, SLUICE_<PROVIDER>_API_KEY).`;
}

/** A SecretStoreError re-worded for one provider's env var; anything else unchanged. */
export function keychainHelp(err: unknown, provider: string, platform: NodeJS.Platform = process.platform): unknown {
  if (!(err instanceof SecretStoreError)) return err;
  return new SecretStoreError(keychainUnavailableMessage('store', platform, provider), { cause: err.cause ?? err });
}

/** The last 4 characters, the only part of a key Sluice ever shows. */
export function keyHint(secret: string): string {
  return secret.length > 8 ? secret.slice(-4) : '****';
}

/**
 * The OS keychain. On Linux the entry is pinned to the Secret Service (gnome-keyring, KWallet)
 * so a key survives a reboot, as keytar's did. Calls are bounded by `timeoutMs`: a locked or
 * absent keyring answers with an error, never a hang.
 */
export function createKeychainStore(opts: { service?: string; timeoutMs?: number; platform?: NodeJS.Platform } = {}): SecretStore {
  const service = opts.service ?? KEYCHAIN_SERVICE;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const entryOpts: EntryOptions | undefined = (opts.platform ?? process.platform) === 'linux' ? { linux: { store: 'secret-service' } } : undefined;
  const platform = opts.platform ?? process.platform;
  const entry = (account: string) => new AsyncEntry(service, account, entryOpts);
  const guard = async <T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await fn(AbortSignal.timeout(timeoutMs));
    } catch (err) {
      // The keyring's own message (raw D-Bus text on Linux) is kept as the cause, not shown.
      throw new SecretStoreError(keychainUnavailableMessage(what, platform), { cause: err });
    }
  };
  return {
    get: (account) => guard('read', (signal) => entry(account).getPassword(signal)),
    set: (account, value) => guard('write', (signal) => entry(account).setPassword(value, signal)),
    delete: (account) => guard('delete', (signal) => entry(account).deletePassword(signal)),
    list: () => guard('list', async (signal) => {
      const creds = await findCredentialsAsync(service, null, signal);
      return creds.map((c) => ({ account: c.account, hint: keyHint(c.password) })).sort((a, b) => a.account.localeCompare(b.account));
    }),
  };
}

/** A process-local store for tests of code that takes a SecretStore; not used in production. */
export function createMemorySecretStore(): SecretStore {
  const m = new Map<string, string>();
  return {
    get: async (a) => m.get(a) ?? null,
    set: async (a, v) => { m.set(a, v); },
    delete: async (a) => m.delete(a),
    list: async () => [...m].map(([account, v]) => ({ account, hint: keyHint(v) })).sort((a, b) => a.account.localeCompare(b.account)),
  };
}

export interface ResolvedKey {
  key: string;
  source: 'keychain' | 'env';
  hint: string;
}

export interface PooledKey extends ResolvedKey {
  /** Keychain account (`anthropic`, `anthropic:2`) or `<provider>:env`, `<provider>:env2`... */
  id: string;
}

export interface ProviderKeys {
  /** The key for a provider: keychain first, then SLUICE_<PROVIDER>_API_KEY. Cached briefly. */
  resolve(provider: string): Promise<ResolvedKey | null>;
  /**
   * Every key of a provider, for the key pool: keychain accounts `<provider>` and
   * `<provider>:<label>`, then SLUICE_<PROVIDER>_API_KEY and SLUICE_<PROVIDER>_API_KEYS
   * (comma-separated, for headless pools). Cached like resolve().
   */
  pool(provider: string): Promise<PooledKey[]>;
  /** Forget cached keys (after `key set` / `key delete`). */
  invalidate(): void;
}

/**
 * Keychain names that hold secrets other than provider keys (with their `name:…` accounts): the
 * Anthropic Admin key, the team database password (`team:postgres`), observe's exporter and
 * webhook secrets, tool tokens and the values a tool config held before Sluice. A provider of
 * one of these names (a hand edit, an imported profile) never gets them as its key.
 */
export const NON_PROVIDER_ACCOUNTS: readonly string[] = ['anthropic-admin', 'team', 'observe', 'tool-token', 'tool-undo'];
const keychainAllowed = (provider: string) => !NON_PROVIDER_ACCOUNTS.includes(provider);

export function envVarFor(provider: string): string {
  return `SLUICE_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;
}

/**
 * Keys are read from the keychain at most once per `ttlMs` per provider so a hot path never
 * waits on D-Bus, and a `sluice key set` in another process is picked up within the TTL.
 * A keychain that cannot be reached falls back to the env var (headless machines).
 */
export function createProviderKeys(opts: {
  secrets: SecretStore | null;
  env: Record<string, string | undefined>;
  ttlMs?: number;
  now?: () => number;
  onKeychainError?: (err: Error) => void;
}): ProviderKeys {
  const ttl = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<ResolvedKey | null> }>();
  const load = async (provider: string): Promise<ResolvedKey | null> => {
    if (opts.secrets && keychainAllowed(provider)) {
      try {
        const k = await opts.secrets.get(provider);
        if (k) return { key: k, source: 'keychain', hint: keyHint(k) };
      } catch (err) {
        opts.onKeychainError?.(err as Error);
      }
    }
    const e = opts.env[envVarFor(provider)];
    return e ? { key: e, source: 'env', hint: keyHint(e) } : null;
  };
  const loadPool = async (provider: string): Promise<PooledKey[]> => {
    const out: PooledKey[] = [];
    if (opts.secrets && keychainAllowed(provider)) {
      try {
        const accounts = (await opts.secrets.list()).map((a) => a.account)
          .filter((a) => a === provider || a.startsWith(`${provider}:`));
        for (const id of accounts) {
          const k = await opts.secrets.get(id);
          if (k) out.push({ id, key: k, source: 'keychain', hint: keyHint(k) });
        }
      } catch (err) {
        opts.onKeychainError?.(err as Error);
      }
    }
    const one = opts.env[envVarFor(provider)];
    if (one) out.push({ id: `${provider}:env`, key: one, source: 'env', hint: keyHint(one) });
    const many = opts.env[`${envVarFor(provider)}S`];
    if (many) {
      many.split(',').map((k) => k.trim()).filter(Boolean).forEach((k, i) => {
        if (!out.some((o) => o.key === k)) out.push({ id: `${provider}:env${i + 1}`, key: k, source: 'env', hint: keyHint(k) });
      });
    }
    return out;
  };
  const poolCache = new Map<string, { at: number; value: Promise<PooledKey[]> }>();
  return {
    resolve(provider) {
      const hit = cache.get(provider);
      if (hit && now() - hit.at < ttl) return hit.value;
      const value = load(provider);
      cache.set(provider, { at: now(), value });
      return value;
    },
    pool(provider) {
      const hit = poolCache.get(provider);
      if (hit && now() - hit.at < ttl) return hit.value;
      const value = loadPool(provider);
      poolCache.set(provider, { at: now(), value });
      return value;
    },
    invalidate: () => { cache.clear(); poolCache.clear(); },
  };
}
