// Stage 1, auth: who is calling: a Sluice tool token (spend attributed to its name) or, when
// allowed, the client's own Anthropic credential passed through unchanged. Imports the token
// store type only.
import type { IncomingHttpHeaders } from 'node:http';
import { UnauthorizedError } from '../errors.js';
import type { TokenRecord } from '../store/settings.js';

export type Caller =
  | { kind: 'token'; token: TokenRecord }
  | { kind: 'passthrough'; credential: 'api-key' | 'oauth' };

export interface AuthPolicy {
  allowPassthrough: boolean;
  verify(presented: string): TokenRecord | null;
}

/** Anthropic API keys are `sk-ant-api…`; claude.ai subscription OAuth tokens are `sk-ant-oat…`. */
function anthropicCredentialKind(value: string): 'api-key' | 'oauth' | null {
  if (!value.startsWith('sk-ant-')) return null;
  return value.startsWith('sk-ant-oat') ? 'oauth' : 'api-key';
}

/** The credential of `Bearer <credential>` (any case, spaces around), else undefined. No regex. */
function bearer(value: string | undefined): string | undefined {
  if (!value || value.length < 8) return undefined;
  if (value.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const c = value.charCodeAt(6);
  if (c !== 32 && c !== 9) return undefined;
  const rest = value.slice(7).trim();
  if (rest === '') return undefined;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest.charCodeAt(i);
    if (ch === 32 || ch === 9 || ch === 10 || ch === 13 || ch === 12 || ch === 11) return undefined;
  }
  return rest;
}

export function authenticate(headers: { 'x-api-key'?: string | string[]; authorization?: string }, policy: AuthPolicy): Caller {
  const raw = headers['x-api-key'];
  const apiKey = (Array.isArray(raw) ? raw[0] : raw) || undefined;
  const bearerToken = bearer(headers.authorization);
  // In order: x-api-key, then the Bearer credential; a local token wins over a passthrough one.
  let token = apiKey === undefined ? null : policy.verify(apiKey);
  if (!token && bearerToken !== undefined) token = policy.verify(bearerToken);
  if (token) return { kind: 'token', token };
  if (policy.allowPassthrough) {
    const kind = (apiKey === undefined ? null : anthropicCredentialKind(apiKey)) ?? (bearerToken === undefined ? null : anthropicCredentialKind(bearerToken));
    if (kind) return { kind: 'passthrough', credential: kind };
  }
  throw new UnauthorizedError();
}

export interface AuthDeps {
  /** settings.security.allowPassthrough, read per request (settings reload at run time). */
  allowPassthrough(): boolean;
  verify(presented: string): TokenRecord | null;
  /**
   * Re-reads the settings file if it changed on disk; true when it did. A token created in
   * another process in the instant before the file watch saw it is then found.
   */
  reloadIfChanged(): Promise<boolean>;
}

export type AuthStage = (headers: IncomingHttpHeaders) => Caller | Promise<Caller>;

/** The auth stage: synchronous on the common path, async only to retry once after a reload. */
export function createAuth(deps: AuthDeps): AuthStage {
  const policy: AuthPolicy = {
    get allowPassthrough() { return deps.allowPassthrough(); },
    verify: (v) => deps.verify(v),
  };
  const retry = async (headers: IncomingHttpHeaders, err: unknown): Promise<Caller> => {
    if (await deps.reloadIfChanged().catch(() => false)) return authenticate(headers, policy);
    throw err;
  };
  return (headers) => {
    try {
      return authenticate(headers, policy);
    } catch (err) {
      return retry(headers, err);
    }
  };
}
