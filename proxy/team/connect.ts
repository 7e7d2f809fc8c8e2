// Where the team database is and how to reach it: the join URL split into a password-free
// connection record (kept in team.sqlite) and the password (kept in the OS keychain, account
// `team:postgres`, or SLUICE_TEAM_PASSWORD on headless machines), and the `pg` pool built from
// both with the TLS mode honoured. Never logs or returns the password. Imports `pg` only.
import { readFileSync } from 'node:fs';
import pg from 'pg';

export const TEAM_SECRET_ACCOUNT = 'team:postgres';
export const TEAM_PASSWORD_ENV = 'SLUICE_TEAM_PASSWORD';

/** TLS modes as libpq names them (`prefer`/`allow` are not offered: a downgrade must be explicit). */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface TeamConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  ssl: SslMode;
  /** PEM file of the CA to trust (verify-ca / verify-full). */
  sslRootCert: string | null;
}

export class TeamUrlError extends Error {
  readonly code = 'TEAM_BAD_URL';
}

/**
 * Parses `postgres://user[:password]@host[:port]/db[?sslmode=...&sslrootcert=...]`. The password
 * is returned apart, so the caller can put it in the keychain and store the rest.
 */
export function parseTeamUrl(raw: string, overrides: { ssl?: string; sslRootCert?: string } = {}): { conn: TeamConnection; password: string | null } {
  let u: URL;
  try { u = new URL(raw); } catch { throw new TeamUrlError('expected a PostgreSQL URL like postgres://user@host:5432/db'); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new TeamUrlError(`expected a postgres:// URL, got ${u.protocol}//`);
  if (!u.hostname) throw new TeamUrlError('the URL names no host');
  if (!u.username) throw new TeamUrlError('the URL names no user (postgres://USER@host/db)');
  const ssl = (overrides.ssl ?? u.searchParams.get('sslmode') ?? (isLoopback(u.hostname) ? 'disable' : 'verify-full')) as SslMode;
  if (!SSL_MODES.includes(ssl)) throw new TeamUrlError(`unknown TLS mode "${ssl}" (use ${SSL_MODES.join(', ')})`);
  const conn: TeamConnection = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 5432,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username),
    user: decodeURIComponent(u.username),
    ssl,
    sslRootCert: overrides.sslRootCert ?? u.searchParams.get('sslrootcert'),
  };
  return { conn, password: u.password ? decodeURIComponent(u.password) : null };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}

/** The URL without its password, for display. */
export function describeConnection(c: TeamConnection): string {
  return `postgres://${encodeURIComponent(c.user)}@${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}/${encodeURIComponent(c.database)} (TLS ${c.ssl})`;
}

function sslOptions(c: TeamConnection): pg.PoolConfig['ssl'] {
  if (c.ssl === 'disable') return false;
  const ca = c.sslRootCert ? readFileSync(c.sslRootCert, 'utf8') : undefined;
  if (c.ssl === 'require') return { rejectUnauthorized: false };
  // verify-ca: the chain is checked, the host name is not (libpq's meaning).
  if (c.ssl === 'verify-ca') return { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined };
  return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
}

/**
 * A small pool (the gateway syncs in the background; two connections are plenty). Connect and
 * statement timeouts keep a dead server from holding the sync loop; an idle client's error (the
 * server went away) is reported, never thrown: pg would otherwise crash the process.
 */
export function createTeamPool(c: TeamConnection, password: string | null, onError: (err: Error) => void, opts: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    host: c.host, port: c.port, database: c.database, user: c.user,
    ...(password !== null ? { password } : {}),
    ssl: sslOptions(c),
    max: opts.max ?? 2,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 10_000,
    statement_timeout: 15_000,
    query_timeout: 20_000,
    application_name: 'sluice',
  });
  pool.on('error', onError);
  // A checked-out client whose server dies emits 'error' too (besides failing its query);
  // without a listener that would be an uncaught exception in the gateway.
  pool.on('connect', (client) => { client.on('error', onError); });
  return pool;
}
