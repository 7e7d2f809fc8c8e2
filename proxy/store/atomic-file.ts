// Atomic file writes with a backup of the previous version: the one way Sluice writes any file
// (its own settings and state, and a user's tool config). Plain node:fs; imports nothing else.
import { promises as fs, constants as fsc } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** Copy the current file to `<path>.bak` (or `backupPath`) before replacing it. Default true. */
  backup?: boolean;
  backupPath?: string;
  /** File mode for a file that does not exist yet (an existing file keeps its mode). Default 0o600. */
  mode?: number;
}

/**
 * Writes `data` to `path` so that a reader sees either the old file or the new one, never a
 * torn write: temp file in the same directory, fsync, rename over, fsync the directory.
 * An existing file's permission bits are kept (a user's 0644 settings stay 0644).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  let mode = opts.mode ?? 0o600;
  try {
    const st = await fs.stat(path);
    mode = st.mode & 0o777;
    if (opts.backup !== false) await fs.copyFile(path, opts.backupPath ?? `${path}.bak`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, mode);
  try {
    // open()'s mode is narrowed by the umask; the file must keep the mode it had.
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // Persist the rename itself; not supported on every platform (Windows), where it is skipped.
  try {
    const dh = await fs.open(dir, fsc.O_RDONLY);
    try { await dh.sync(); } finally { await dh.close(); }
  } catch { /* directory fsync unsupported here */ }
}

/** Reads a file as UTF-8, or returns null when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
