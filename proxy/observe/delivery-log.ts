// The webhook delivery log: an in-memory ring for the status route and `<dataDir>/webhooks.log`,
// JSONL appended one line per attempt, rotated to `webhooks.log.1` past a size cap. Metadata
// only (ids, host, event kind, attempt, status, error), never a payload or secret. Plain node:fs.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { readFileIfExists } from '../store/atomic-file.js';

export const DELIVERY_LOG_FILE = 'webhooks.log';

export interface DeliveryLogEntry {
  /** ISO time the attempt ended. */
  ts: string;
  /** One id per event delivery, shared by its attempts. */
  delivery: string;
  webhook: string;
  /** The URL's host (and port); never its path or query, which may carry a token. */
  host: string;
  event: string;
  attempt: number;
  /** HTTP status; null when no response arrived (or nothing was sent). */
  status: number | null;
  ok: boolean;
  error: string | null;
  durationMs: number;
  /** The last attempt of this delivery (success, refusal or attempts exhausted). */
  final: boolean;
}

export interface DeliveryLog {
  append(e: DeliveryLogEntry): void;
  /** Newest last. */
  recent(limit?: number): DeliveryLogEntry[];
  /** Resolves once every appended line is on disk. */
  settled(): Promise<void>;
}

export function createDeliveryLog(opts: {
  file: string;
  maxBytes: () => number;
  ringSize?: number;
  onError?: (err: Error) => void;
}): DeliveryLog {
  const ringSize = opts.ringSize ?? 200;
  const ring: DeliveryLogEntry[] = [];
  // One write at a time: appends stay whole lines and rotation sees a settled size.
  let chain: Promise<void> = Promise.resolve();

  const write = async (line: string) => {
    await fs.mkdir(dirname(opts.file), { recursive: true, mode: 0o700 });
    let size = 0;
    try {
      size = (await fs.stat(opts.file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Rename is atomic: a reader sees the old file whole under its new name, never a torn one.
    if (size > 0 && size + Buffer.byteLength(line) > opts.maxBytes()) await fs.rename(opts.file, `${opts.file}.1`);
    // Append-only by design (a log, not state): O_APPEND keeps concurrent writers' lines whole.
    await fs.appendFile(opts.file, line, { mode: 0o600 });
  };

  return {
    append(e) {
      ring.push(e);
      if (ring.length > ringSize) ring.splice(0, ring.length - ringSize);
      const line = `${JSON.stringify(e)}\n`;
      chain = chain.then(() => write(line)).catch((err: Error) => opts.onError?.(err));
    },
    recent: (limit = ringSize) => ring.slice(-limit),
    settled: () => chain,
  };
}

/** The newest `limit` entries of a log file (and its rotated predecessor), oldest first. */
export async function readDeliveryLog(file: string, limit = 50): Promise<DeliveryLogEntry[]> {
  const out: DeliveryLogEntry[] = [];
  for (const f of [`${file}.1`, file]) {
    const text = await readFileIfExists(f);
    if (text === null) continue;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as DeliveryLogEntry);
      } catch {
        // A line cut by a crash mid-append; the rest of the log is still good.
      }
    }
  }
  return out.slice(-limit);
}
