// Who is calling: a Sluice tool token (spend attributed to its name) or, when allowed, the
// client's own Anthropic credential passed through unchanged. Imports the token store type only.
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

function bearer(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}

export function authenticate(headers: { 'x-api-key'?: string | string[]; authorization?: string }, policy: AuthPolicy): Caller {
  const apiKey = Array.isArray(headers['x-api-key']) ? headers['x-api-key'][0] : headers['x-api-key'];
  const presented = [apiKey, bearer(headers.authorization)].filter((v): v is string => !!v);
  for (const p of presented) {
    const token = policy.verify(p);
    if (token) return { kind: 'token', token };
  }
  if (policy.allowPassthrough) {
    for (const p of presented) {
      const kind = anthropicCredentialKind(p);
      if (kind) return { kind: 'passthrough', credential: kind };
    }
  }
  throw new UnauthorizedError();
}
