// Local tool tokens: issued once, stored as sha256 hashes in settings, checked in constant
// time. A token's name identifies the tool that spends with it.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SettingsStore, TokenRecord } from './settings.js';
import { TagsSchema } from '../observe/schema.js';

export const TOKEN_PREFIX = 'sk-sluice-';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class TokenError extends Error {
  constructor(readonly code: 'TOKEN_NAME_INVALID' | 'TOKEN_NAME_TAKEN' | 'TOKEN_NOT_FOUND' | 'TOKEN_TAGS_INVALID', message: string) {
    super(message);
  }
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Local tokens are 256 random bits; sha256 is enough (nothing to brute-force). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The audience Claude Code (2.1.332) looks for in ANTHROPIC_AUTH_TOKEN: with a custom base URL
 * and a token whose JWT payload names it, Claude Code treats the endpoint as a gateway and reads
 * its anthropic-ratelimit-unified-* headers (the 75 %/95 % spend warnings), as it otherwise does
 * only for claude.ai subscriptions. See docs/claude-code-2.1.332.md.
 */
export const GATEWAY_AUDIENCE = 'claude-gateway';
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
const JWT_PAYLOAD = Buffer.from(JSON.stringify({ iss: 'sluice', aud: GATEWAY_AUDIENCE })).toString('base64url');

/**
 * A gateway-shaped token, `header.payload.secret`: a JWT in form only (header and payload are
 * the same constant text in every token, naming no one), its third part the same 256 random
 * bits as a sk-sluice- token. Nothing verifies it as a JWT: Sluice checks the whole string by
 * its sha256 hash like any other token, so an edited payload is simply a wrong token.
 */
export function generateGatewayToken(): string {
  return `${JWT_HEADER}.${JWT_PAYLOAD}.${randomBytes(32).toString('base64url')}`;
}

/** 'sluice': sk-sluice-…; 'gateway': the JWT-shaped form Claude Code treats as a gateway's. */
export type TokenShape = 'sluice' | 'gateway';

/** Billing tags, checked before anything is written so the error names the tag, not a settings path. */
function checkTags(tags: Record<string, string>): Record<string, string> {
  const r = TagsSchema.safeParse(tags);
  if (!r.success) throw new TokenError('TOKEN_TAGS_INVALID', `Invalid tags: ${r.error.issues.map((i) => `${i.path.join('.') || '(tags)'}: ${i.message}`).join('; ')}.`);
  return r.data;
}

export interface TokenStore {
  create(name: string, opts?: { tags?: Record<string, string>; shape?: TokenShape }): Promise<{ token: string; record: TokenRecord }>;
  /** Replaces the billing tags of an active token; later requests carry the new ones. */
  setTags(nameOrId: string, tags: Record<string, string>): Promise<TokenRecord>;
  list(): TokenRecord[];
  revoke(nameOrId: string): Promise<TokenRecord>;
  /** The active record whose hash matches, or null. Compares every candidate in constant time. */
  verify(presented: string): TokenRecord | null;
}

export function createTokenStore(settings: SettingsStore, now: () => Date = () => new Date()): TokenStore {
  // Cached decoded hashes, rebuilt when the settings object changes (e.g. reloaded from disk).
  let cacheFor: unknown = null;
  let cache: { record: TokenRecord; hash: Buffer }[] = [];
  // Tokens already verified against this settings object, by the presented text: a tool sends
  // the same token on every request, and hashing it each time was ~2.5 % of the gateway's busy
  // time at 2 KB. Only matches are kept (a wrong token always takes the constant-time path, so
  // the cache cannot be filled from outside), and they go whenever settings change (revoke,
  // tag edits, a reload). A hit answers faster than a miss, which tells a caller no more than
  // the 200 vs 401 it gets anyway; the lookup never compares a stored token prefix by prefix
  // (the Map compares strings only on a full hash match).
  let verified = new Map<string, TokenRecord>();
  const active = () => {
    const s = settings.get();
    if (cacheFor !== s) {
      cache = s.tokens.filter((t) => !t.revokedAt).map((record) => ({ record, hash: Buffer.from(record.hash, 'hex') }));
      cacheFor = s;
      verified = new Map();
    }
    return cache;
  };

  return {
    async create(name, opts = {}) {
      if (!NAME_RE.test(name)) {
        throw new TokenError('TOKEN_NAME_INVALID', `Token name "${name.slice(0, 80)}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
      }
      const tags = checkTags(opts.tags ?? {});
      const token = opts.shape === 'gateway' ? generateGatewayToken() : generateToken();
      const record: TokenRecord = {
        id: randomUUID(),
        name,
        hash: hashToken(token).toString('hex'),
        hint: token.slice(-4),
        createdAt: now().toISOString(),
        revokedAt: null,
        tags,
      };
      await settings.update((s) => {
        if (s.tokens.some((t) => t.name === name && !t.revokedAt)) {
          throw new TokenError('TOKEN_NAME_TAKEN', `An active token named "${name}" exists; revoke it first or pick another name.`);
        }
        s.tokens.push(record);
      });
      return { token, record };
    },
    list: () => settings.get().tokens,
    async revoke(nameOrId) {
      let found: TokenRecord | undefined;
      await settings.update((s) => {
        const t = s.tokens.find((x) => !x.revokedAt && (x.id === nameOrId || x.name === nameOrId));
        if (!t) throw new TokenError('TOKEN_NOT_FOUND', `No active token named or with id "${nameOrId.slice(0, 80)}".`);
        t.revokedAt = now().toISOString();
        found = t;
      });
      return found!;
    },
    async setTags(nameOrId, tags) {
      const checked = checkTags(tags);
      let found: TokenRecord | undefined;
      await settings.update((s) => {
        const t = s.tokens.find((x) => !x.revokedAt && (x.id === nameOrId || x.name === nameOrId));
        if (!t) throw new TokenError('TOKEN_NOT_FOUND', `No active token named or with id "${nameOrId.slice(0, 80)}".`);
        t.tags = { ...checked };
        found = t;
      });
      return found!;
    },
    verify(presented) {
      const candidates = active();
      const known = verified.get(presented);
      if (known !== undefined) return known;
      const h = hashToken(presented);
      let match: TokenRecord | null = null;
      // No early exit: the time taken does not depend on which token (if any) matched.
      for (const c of candidates) {
        if (timingSafeEqual(c.hash, h) && match === null) match = c.record;
      }
      if (match !== null) {
        // Bounded: a few tools' tokens in practice; a flood of distinct valid tokens just resets it.
        if (verified.size >= 256) verified.clear();
        verified.set(presented, match);
      }
      return match;
    },
  };
}
