// A private PostgreSQL server for tests: Debian's binaries (`postgresql` package), `initdb` into a
// temp dir, `pg_ctl` on a free port on 127.0.0.1 (no Unix socket), trust auth for the one local
// superuser. initdb and postgres refuse to run as root, so under root (CI containers) they run as
// `nobody` through `setpriv` (util-linux, always present on Debian), with the temp dir chowned.
// Without the binaries the tests skip with the reason, except under CI=true where they fail.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NOBODY = { uid: 65534, gid: 65534 };

/** Directory holding initdb and pg_ctl: Debian's /usr/lib/postgresql/<newest>/bin, else PATH. */
export function findPgBin(): string | null {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'pg_ctl'))) return join(base, v, 'bin');
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  return null;
}

/** Why PostgreSQL tests cannot run here (null: they can). Under CI=true a missing server is a failure, not a skip. */
export function pgSkipReason(): string | false {
  if (findPgBin()) return false;
  const why = 'PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; install Debian\'s `postgresql` package';
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: required)`);
  return why;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  port: number;
  /** postgres://sluice@127.0.0.1:<port>/postgres (trust auth, no password). */
  url: string;
  /** Stops the server at once, like a crash or a pulled cable (`pg_ctl stop -m immediate`). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  start(): Promise<void>;
  /** Stops it and removes the data dir. */
  close(): Promise<void>;
}

export async function startPg(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const root = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const data = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) { chownSync(root, NOBODY.uid, NOBODY.gid); chmodSync(root, 0o700); }
  const exec = (file: string, args: string[]) => (asRoot
    ? run('setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', join(bin, file), ...args], { cwd: root })
    : run(join(bin, file), args, { cwd: root }));
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'sluice', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=100`;
  const start = async () => { await exec('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', opts, '-w', '-t', '60', 'start']); };
  await start();
  let stopped = false;
  return {
    port,
    url: `postgres://sluice@127.0.0.1:${port}/postgres`,
    kill: async () => { await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); },
    start,
    async close() {
      if (stopped) return;
      stopped = true;
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
