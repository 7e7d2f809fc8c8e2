// An exclusive lock between processes: `<file>.lock` created with O_EXCL and holding the owner's
// pid. A lock whose pid is no longer alive (a crashed CLI) is taken over. Plain node:fs only.
import { promises as fs, constants as fsc } from 'node:fs';

export class LockTimeoutError extends Error {
  readonly code = 'SETTINGS_LOCKED';
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryTake(lock: string): Promise<boolean> {
  try {
    const fh = await fs.open(lock, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600);
    try { await fh.writeFile(`${process.pid}\n`); } finally { await fh.close(); }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Removes the lock when its owner is gone; true when it did (or the lock vanished). */
async function breakIfStale(lock: string): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(lock, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const pid = Number(text.trim());
  // An empty file is an owner between open and write: give it time unless it stays empty.
  if (text.trim() === '' || pidAlive(pid)) return false;
  await fs.rm(lock, { force: true });
  return true;
}

/**
 * Runs `fn` holding `<path>.lock`. Waits (polling, up to `timeoutMs`) while another live process
 * holds it; a lock left by a dead process, or an empty one older than the timeout, is broken.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let delay = 5;
  for (;;) {
    if (await tryTake(lock)) break;
    if (await breakIfStale(lock)) continue;
    if (Date.now() > deadline) {
      const owner = (await fs.readFile(lock, 'utf8').catch(() => '')).trim();
      if (owner === '') { await fs.rm(lock, { force: true }); continue; }
      throw new LockTimeoutError(`${path} is locked by process ${owner}; try again, or remove ${lock} if that process is not Sluice.`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
