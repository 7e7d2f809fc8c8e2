// Admin authentication: the admin token (Bearer, for the CLI and the Electron preload), one-time
// login codes (5 minutes, single use) and the session cookie they buy. State lives in the object
// this factory returns, never in the module. Imports node:crypto and the error taxonomy only.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';
import { AdminError } from './admin-error.js';

export const ADMIN_COOKIE = 'sluice_admin';
export const LOGIN_CODE_TTL_MS = 5 * 60_000;
export const ADMIN_TOKEN_PREFIX = 'sluice-admin-';

export interface AdminAuthOptions {
  /** A fixed admin token (the Electron main process passes its own); default 32 random bytes. */
  token?: string;
  now?: () => number;
  codeTtlMs?: number;
  /** Most login sessions kept at once; the oldest is dropped past it (a tab per login). */
  maxSessions?: number;
}

export interface AdminAuth {
  readonly token: string;
  /** A fresh single-use login code. */
  issueLoginCode(): string;
  /** Spends a login code; returns a new session id for the cookie. Throws when unknown, used or expired. */
  redeemLoginCode(code: string): string;
  /** Throws UnauthorizedError unless the headers carry the admin token or a live session cookie. */
  check(headers: { authorization?: string | undefined; cookie?: string | undefined }): 'token' | 'session';
  /** The Set-Cookie value for a session id. */
  cookieFor(sessionId: string): string;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two strings of any length (hashing first equalises the lengths). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

const MESSAGE = 'The admin API needs the dashboard session (open the link from `sluice open`) or the admin token as `Authorization: Bearer`. Tool tokens are not admin tokens.';

export function createAdminAuth(opts: AdminAuthOptions = {}): AdminAuth {
  const token = opts.token ?? ADMIN_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const now = opts.now ?? Date.now;
  const ttl = opts.codeTtlMs ?? LOGIN_CODE_TTL_MS;
  const maxSessions = opts.maxSessions ?? 64;
  // Codes and sessions are kept by their sha256: a map lookup's timing can only reveal a hash.
  const codes = new Map<string, number>();
  const sessions = new Set<string>();

  const sweep = () => {
    const t = now();
    for (const [k, exp] of codes) if (exp <= t) codes.delete(k);
  };

  return {
    token,
    issueLoginCode() {
      sweep();
      const code = randomBytes(32).toString('base64url');
      codes.set(sha256(code).toString('hex'), now() + ttl);
      return code;
    },
    redeemLoginCode(code) {
      const k = sha256(code).toString('hex');
      const exp = codes.get(k);
      codes.delete(k);
      if (exp === undefined) throw new UnauthorizedError('This login link is unknown or was already used. Run `sluice open` for a new one.');
      if (exp <= now()) throw new AdminError('ADMIN_LOGIN_EXPIRED', 'This login link has expired (links are valid for 5 minutes). Run `sluice open` for a new one.');
      const session = randomBytes(32).toString('base64url');
      sessions.add(sha256(session).toString('hex'));
      while (sessions.size > maxSessions) sessions.delete(sessions.values().next().value!);
      return session;
    },
    check(headers) {
      const auth = headers.authorization;
      if (auth !== undefined) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
        if (m && safeEqual(m[1]!, token)) return 'token';
        // A wrong bearer is refused even when a cookie would pass: the caller meant the token.
        throw new UnauthorizedError(MESSAGE);
      }
      const cookie = readCookie(headers.cookie, ADMIN_COOKIE);
      if (cookie && sessions.has(sha256(cookie).toString('hex'))) return 'session';
      throw new UnauthorizedError(MESSAGE);
    },
    cookieFor: (sessionId) => `${ADMIN_COOKIE}=${sessionId}; HttpOnly; SameSite=Strict; Path=/`,
  };
}
