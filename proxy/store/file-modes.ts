// Owner-only permissions for the data dir (0700) and Sluice's files in it (0600) on POSIX: spend,
// session history, settings and captured bodies are nobody else's business on a shared machine.
// Plain node:fs; imports nothing else. Windows is left to its ACLs (the profile dir is private).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/**
 * The files Sluice keeps at the top of its data dir, by name: only these are touched, so a data
 * dir pointed somewhere shared (`--data-dir ~`) never has someone else's files changed.
 * SQLite's `-wal`, `-shm` and `-journal`, `.bak` backups and atomic-write temp files
 * (`.<name>.<pid>.<rand>.tmp`) follow their file's name.
 */
const OWN_FILES = [
  'settings.json', 'ledger.sqlite', 'control.sqlite', 'models-cache.json', 'admin.json',
  'tool-config.json', 'app-state.json', 'webhooks.log', 'team.sqlite', 'usage-limits.json',
  'anthropic-report.json',
];
/** Directories of Sluice's own (request/response captures), tightened with all they hold. */
const OWN_DIRS = ['capture'];

function isOwnFile(name: string): boolean {
  const n = name.startsWith('.') && name.endsWith('.tmp') ? name.slice(1) : name;
  return OWN_FILES.some((f) => n === f || n.startsWith(`${f}.`) || n.startsWith(`${f}-`));
}

export interface TightenResult {
  /** Paths whose mode was changed. */
  changed: string[];
}

/** Clears group/other bits; symlinks are never followed (lstat), only files and dirs are touched. */
async function tighten(path: string, dirMode: number, out: string[], depth: number): Promise<void> {
  let st;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== dirMode) {
      await fs.chmod(path, dirMode);
      out.push(path);
    }
    if (depth > 0) for (const name of await fs.readdir(path)) await tighten(join(path, name), dirMode, out, depth - 1);
  } else if (st.isFile() && (st.mode & 0o077) !== 0) {
    await fs.chmod(path, st.mode & 0o700);
    out.push(path);
  }
}

/**
 * Creates the data dir 0700 when missing, checks a file can be written in it (a DataDirError
 * naming the dir, the reason and the fix when not: read-only, full, no permission) and tightens what is already there: the dir itself to
 * 0700, Sluice's own files and dirs to owner-only. Cheap when nothing needs changing (one
 * readdir, one lstat per entry); run at start and again once the stores have opened their files
 * (SQLite creates `-wal`/`-shm` with the mode of the database file, so later ones inherit 0600).
 */
export async function secureDataDir(dataDir: string, platform: NodeJS.Platform = process.platform): Promise<TightenResult> {
  try {
    return await secure(dataDir, platform);
  } catch (err) {
    throw UNWRITABLE.has((err as NodeJS.ErrnoException).code ?? '') ? new DataDirError(dataDir, err) : err;
  }
}

/** Errors that say the disk, not Sluice, refuses: a read-only mount, a full disk, no permission. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT']);
const WHY: Record<string, string> = {
  EROFS: 'it is on a read-only file system', EACCES: 'permission denied', EPERM: 'permission denied',
  ENOSPC: 'the disk is full', EDQUOT: 'the disk quota is used up',
};

/** The data dir cannot be created or written: what, where and how to fix it, in one line. */
export class DataDirError extends Error {
  readonly code: string;
  constructor(readonly dataDir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    super(`cannot write the data directory ${dataDir}: ${WHY[code] ?? code} (${code}). Sluice keeps its settings, tool tokens and usage ledger there. `
      + 'Make it writable (free disk space, remount it read-write or fix its owner), or start with --data-dir DIR or SLUICE_DATA_DIR=DIR.', { cause });
    this.name = 'DataDirError';
    this.code = code;
  }
}

/**
 * Creates and removes a file in the data dir: a dir whose modes are already right needs no write
 * to secure, so a read-only or full one would otherwise pass the start and fail later, in the
 * words of whichever store opened first ("unable to open database file").
 */
async function probeWritable(dataDir: string): Promise<void> {
  const p = join(dataDir, `.write-probe.${process.pid}.tmp`);
  await fs.writeFile(p, '', { mode: 0o600 });
  await fs.unlink(p);
}

async function secure(dataDir: string, platform: NodeJS.Platform): Promise<TightenResult> {
  try {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A recursive mkdir on a read-only mount reports ENOENT; the plain one gives the real reason.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fs.mkdir(dataDir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => { throw e.code === 'ENOENT' ? err : e; });
  }
  await probeWritable(dataDir);
  const changed: string[] = [];
  if (platform === 'win32') return { changed };
  await tighten(dataDir, 0o700, changed, 0);
  for (const name of await fs.readdir(dataDir)) {
    if (OWN_DIRS.includes(name)) await tighten(join(dataDir, name), 0o700, changed, 4);
    else if (isOwnFile(name)) await tighten(join(dataDir, name), 0o700, changed, 0);
  }
  return { changed };
}
