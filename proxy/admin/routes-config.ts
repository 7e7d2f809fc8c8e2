// Admin routes for configuration: the safe subset of the settings, tool tokens, and provider keys
// (write-only: a key goes into the keychain and only its last 4 characters ever come back).
// Must not import app/ or renderer/.
import type { Request, Response, Router } from 'express';
import { request as undiciRequest } from 'undici';
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { anthropicBaseUrl } from '../gateway.js';
import { parsePriceOverrides, PriceTableError } from '../pricing/index.js';
import { envVarFor, keyHint, SecretStoreError, type SecretStore } from '../store/secrets.js';
import { parseSettings, SettingsError, type Settings, type TokenRecord } from '../store/settings.js';
import { ifMatchRevision } from '../store/settings-revision.js';
import { TokenError } from '../store/tokens.js';
import { AdminError } from './admin-error.js';
import type {
  KeyInfo, KeysResponse, KeyTestResult, SettingsPatch, SettingsView, TokenCreated, TokenView,
} from './api-types.js';
import type { AdminDeps } from './deps.js';
import { parseBody } from './validate.js';

/** The CLI keeps each configured tool's token in the keychain under this prefix (cli-tools.ts). */
export { TOOL_TOKEN_ACCOUNT_PREFIX } from '../cli-tools.js';
import { TOOL_TOKEN_ACCOUNT_PREFIX } from '../cli-tools.js';
const PROVIDER_RE = /^[a-z][a-z0-9-]{0,31}(:[A-Za-z0-9_-]{1,32})?$/;

export function settingsView(s: Settings, env: Record<string, string | undefined>): SettingsView {
  return {
    port: s.port,
    anthropicBaseUrl: s.providers.anthropic.baseUrl,
    anthropicBaseUrlEnv: env.SLUICE_ANTHROPIC_BASE_URL || null,
    security: { allowPassthrough: s.security.allowPassthrough, allowedOrigins: [...s.security.allowedOrigins] },
    metering: { enabled: s.metering.enabled },
    pricing: { overrides: s.pricing.overrides },
    timeouts: { ...s.timeouts },
    restartRequired: ['port', 'timeouts.connectMs'],
  };
}

// Shapes only; the values are then checked by the settings schema itself (SettingsSchema), so
// the API and the settings file accept exactly the same things.
const settingsPatch = z.object({
  port: z.number().optional(),
  anthropicBaseUrl: z.string().max(2048).optional(),
  security: z.object({
    allowPassthrough: z.boolean().optional(),
    allowedOrigins: z.array(z.string().max(2048)).max(100).optional(),
  }).strict().optional(),
  metering: z.object({ enabled: z.boolean().optional() }).strict().optional(),
  pricing: z.object({ overrides: z.record(z.string(), z.unknown()).optional() }).strict().optional(),
  timeouts: z.object({
    connectMs: z.number().optional(),
    firstByteMs: z.number().optional(),
    idleMs: z.number().optional(),
  }).strict().optional(),
}).strict() satisfies z.ZodType<SettingsPatch>;

export function applySettingsPatch(s: Settings, p: SettingsPatch): void {
  if (p.port !== undefined) s.port = p.port;
  if (p.anthropicBaseUrl !== undefined) s.providers.anthropic.baseUrl = p.anthropicBaseUrl.replace(/\/+$/, '');
  if (p.security?.allowPassthrough !== undefined) s.security.allowPassthrough = p.security.allowPassthrough;
  if (p.security?.allowedOrigins !== undefined) s.security.allowedOrigins = p.security.allowedOrigins;
  if (p.metering?.enabled !== undefined) s.metering.enabled = p.metering.enabled;
  if (p.pricing?.overrides !== undefined) s.pricing.overrides = p.pricing.overrides;
  if (p.timeouts) Object.assign(s.timeouts, Object.fromEntries(Object.entries(p.timeouts).filter(([, v]) => v !== undefined)));
}

const tokenView = (t: TokenRecord): TokenView => ({ id: t.id, name: t.name, hint: t.hint, createdAt: t.createdAt, revokedAt: t.revokedAt });

function tokenFailure(err: unknown): never {
  if (err instanceof TokenError) {
    if (err.code === 'TOKEN_NAME_TAKEN') throw new AdminError('ADMIN_CONFLICT', err.message);
    if (err.code === 'TOKEN_NOT_FOUND') throw new AdminError('ADMIN_NOT_FOUND', err.message);
    throw new InvalidRequestError(err.message);
  }
  throw err;
}

function keychainFailure(err: unknown): never {
  if (err instanceof SecretStoreError) throw new AdminError('ADMIN_KEYCHAIN_UNAVAILABLE', err.message, { cause: err });
  throw err;
}

function requireSecrets(s: SecretStore | null): SecretStore {
  if (!s) throw new AdminError('ADMIN_KEYCHAIN_UNAVAILABLE', 'This gateway runs without an OS keychain; set the key in its environment instead (e.g. SLUICE_ANTHROPIC_API_KEY).');
  return s;
}

function checkProvider(p: string): string {
  if (!PROVIDER_RE.test(p) || p.startsWith('tool-token')) {
    throw new InvalidRequestError(`Provider "${p.slice(0, 40)}" is not a provider name (lower-case letters, digits and "-", e.g. "anthropic").`);
  }
  return p;
}

/** Keychain entries that are provider keys (tool tokens live there too), plus env fallbacks. */
export async function listKeys(secrets: SecretStore | null, env: Record<string, string | undefined>): Promise<KeysResponse> {
  let keys: KeyInfo[] = [];
  let error: string | null = secrets ? null : 'no OS keychain in this gateway';
  if (secrets) {
    try {
      keys = (await secrets.list())
        .filter((e) => !e.account.startsWith(TOOL_TOKEN_ACCOUNT_PREFIX))
        .map((e) => ({ provider: e.account, hint: e.hint, source: 'keychain' as const }));
    } catch (err) {
      error = (err as Error).message;
    }
  }
  const envKey = env[envVarFor('anthropic')];
  if (envKey) keys.push({ provider: 'anthropic', hint: keyHint(envKey), source: 'env' });
  return { keys, keychain: { available: error === null, error } };
}

const keyBody = z.object({
  provider: z.string().min(1).max(65),
  key: z.string().min(8, 'is too short to be an API key').max(1000).regex(/^\S+$/, 'must not contain whitespace'),
}).strict();

export function mountConfigRoutes(router: Router, deps: AdminDeps): void {
  const { internals } = deps;

  router.get('/settings', (_req: Request, res: Response) => {
    res.json(settingsView(internals.settings.get(), internals.env));
  });

  router.put('/settings', async (req: Request, res: Response) => {
    const patch = parseBody(settingsPatch, req.body);
    if (patch.pricing?.overrides !== undefined) {
      try {
        parsePriceOverrides(patch.pricing.overrides);
      } catch (err) {
        if (err instanceof PriceTableError) throw new InvalidRequestError(`Invalid pricing.overrides: ${err.problems.join('; ')}.`);
        throw err;
      }
    }
    let next: Settings;
    try {
      next = await internals.settings.update((s) => applySettingsPatch(s, patch));
    } catch (err) {
      if (err instanceof SettingsError) throw new InvalidRequestError(`Invalid settings: ${err.problems.join('; ')}.`);
      throw err;
    }
    res.json(settingsView(next, internals.env));
  });

  // The whole settings document with its revision, for the CLI (admin token only, never the
  // window's cookie): `sluice` edits it and writes it back with If-Match, so a change made
  // meanwhile is never overwritten (the CLI re-reads and re-applies its edit on 409).
  const cliOnly = (req: Request) => {
    if (!req.headers.authorization) throw new AdminError('ADMIN_NOT_FOUND', 'The settings document is for the CLI (admin token); the window uses /admin/api/settings.');
  };
  router.get('/settings/document', (req: Request, res: Response) => {
    cliOnly(req);
    res.json({ revision: internals.settings.revision(), settings: internals.settings.get() });
  });
  router.put('/settings/document', async (req: Request, res: Response) => {
    cliOnly(req);
    if (ifMatchRevision(req.headers['if-match']) === null) throw new InvalidRequestError('PUT /settings/document needs If-Match: <revision> (from GET /settings/document).');
    const body = parseBody(z.object({ settings: z.record(z.string(), z.unknown()) }).strict(), req.body);
    let next: Settings;
    try {
      const parsed = parseSettings(body.settings, 'settings document');
      next = await internals.settings.update((s) => { Object.assign(s, structuredClone(parsed)); });
    } catch (err) {
      if (err instanceof SettingsError) throw new InvalidRequestError(`Invalid settings: ${err.problems.join('; ')}.`);
      throw err;
    }
    res.json({ revision: internals.settings.revision(), settings: next });
  });

  router.get('/tokens', (_req: Request, res: Response) => {
    res.json({ tokens: internals.tokens.list().map(tokenView) });
  });

  router.post('/tokens', async (req: Request, res: Response) => {
    const { name } = parseBody(z.object({ name: z.string().min(1).max(64) }).strict(), req.body);
    const created = await internals.tokens.create(name).catch(tokenFailure);
    const body: TokenCreated = { token: created.token, record: tokenView(created.record) };
    res.status(201).json(body);
  });

  router.delete('/tokens/:id', async (req: Request, res: Response) => {
    const revoked = await internals.tokens.revoke(String(req.params.id)).catch(tokenFailure);
    res.json(tokenView(revoked));
  });

  router.get('/keys', async (_req: Request, res: Response) => {
    res.json(await listKeys(internals.secrets, internals.env));
  });

  router.post('/keys', async (req: Request, res: Response) => {
    const body = parseBody(keyBody, req.body);
    const provider = checkProvider(body.provider);
    await requireSecrets(internals.secrets).set(provider, body.key).catch(keychainFailure);
    internals.keys.invalidate();
    const info: KeyInfo = { provider, hint: keyHint(body.key), source: 'keychain' };
    res.status(201).json(info);
  });

  router.delete('/keys/:provider', async (req: Request, res: Response) => {
    const provider = checkProvider(String(req.params.provider));
    const gone = await requireSecrets(internals.secrets).delete(provider).catch(keychainFailure);
    internals.keys.invalidate();
    if (!gone) throw new AdminError('ADMIN_NOT_FOUND', `No ${provider} key in the OS keychain.`);
    res.json({ provider, deleted: true });
  });

  router.post('/keys/:provider/test', async (req: Request, res: Response) => {
    const provider = checkProvider(String(req.params.provider));
    if (provider !== 'anthropic') throw new InvalidRequestError(`Sluice can test only the anthropic key so far, not "${provider}".`);
    internals.keys.invalidate();
    const key = await internals.keys.resolve(provider);
    if (!key) throw new AdminError('ADMIN_NOT_FOUND', `No ${provider} key in the keychain or in ${envVarFor(provider)}.`);
    res.json(await testAnthropicKey(deps, key.key, key.source));
  });
}

/** A cheap authenticated call (GET /v1/models?limit=1); reports the outcome, never the key. */
async function testAnthropicKey(deps: AdminDeps, key: string, source: 'keychain' | 'env'): Promise<KeyTestResult> {
  const base = anthropicBaseUrl(deps.internals.settings, deps.internals.env);
  const url = `${base.origin}${base.pathname.replace(/\/$/, '')}/v1/models?limit=1`;
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  try {
    const r = await undiciRequest(url, {
      method: 'GET',
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      signal: AbortSignal.timeout(10_000),
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
    const text = await r.body.text();
    // Only Anthropic's error *type* is echoed (a fixed identifier); its message could quote input.
    let type: string | null = null;
    try {
      const t = (JSON.parse(text) as { error?: { type?: unknown } }).error?.type;
      if (typeof t === 'string' && /^[a-z_]{1,40}$/.test(t)) type = t;
    } catch { /* not JSON: the status says enough */ }
    const ok = r.statusCode >= 200 && r.statusCode < 300;
    const message = ok ? `The key works: ${base.host} answered in ${ms()} ms.`
      : r.statusCode === 401 ? `${base.host} refused this key (401${type ? ` ${type}` : ''}). Replace it with a valid key.`
        : r.statusCode === 403 ? `${base.host} accepted the key but refused access (403${type ? ` ${type}` : ''}).`
          : `${base.host} answered ${r.statusCode}${type ? ` ${type}` : ''}; the key could not be confirmed.`;
    return { provider: 'anthropic', ok, status: r.statusCode, latencyMs: ms(), message, source };
  } catch (err) {
    const reason = (err as { name?: string }).name === 'TimeoutError' ? 'no answer within 10 s' : ((err as { code?: string }).code ?? 'connection failed');
    return { provider: 'anthropic', ok: false, status: null, latencyMs: ms(), message: `Could not reach ${base.host}: ${reason}.`, source };
  }
}
