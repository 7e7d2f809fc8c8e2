// Body capture for debugging (off by default): request and response bodies of matching requests,
// redacted by every built-in detector, written atomically to <dataDir>/capture/ with a retention
// period and a total size cap (oldest evicted first). Imports the atomic writer, the meter's
// content decoder and this folder's redaction; never the pipeline or express.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';
import { createDecodingSink, parseContentEncoding } from '../meter/body-decoder.js';
import { redactForCapture } from './guardrails.js';
import type { CaptureSettings } from './schema.js';

export const CAPTURE_DIR = 'capture';
/** One response is kept up to this many raw bytes; the rest is cut (the file says so). */
export const MAX_RESPONSE_CAPTURE_BYTES = 8 * 1024 * 1024;
const NAME_RE = /^(\d{13})-([A-Za-z0-9_-]{1,80})\.(request|response)\.json$/;

export interface CaptureMeta {
  id: string;
  ts: number;
  tool: string;
  method: string;
  path: string;
}

export interface CaptureStatus {
  enabled: boolean;
  dir: string;
  files: number;
  bytes: number;
  oldestTs: number | null;
  retentionHours: number;
  maxTotalMb: number;
  tokens: string[];
}

/** What the gateway would call for each response chunk (see the proposed `onResponse` hook). */
export interface ResponseTap {
  chunk(b: Buffer): void;
  end(): void;
}

export interface CaptureStore {
  readonly dir: string;
  writeRequest(meta: CaptureMeta, body: Buffer | null): Promise<string>;
  /** A tap that buffers one response and writes it (decoded, redacted) when it ends. */
  tapResponse(meta: CaptureMeta, status: number, headers: Record<string, string | string[] | undefined>): ResponseTap;
  /** Deletes files past retention, then the oldest until under the size cap. */
  sweep(): Promise<{ deleted: number }>;
  status(): Promise<CaptureStatus>;
  /** Resolves when every started write has finished. */
  idle(): Promise<void>;
}

function fileName(meta: CaptureMeta, kind: 'request' | 'response'): string {
  return `${String(meta.ts).padStart(13, '0')}-${meta.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80)}.${kind}.json`;
}

/** `{"meta":...,"body":<the redacted JSON as is, or a string>}`. */
function document(meta: Record<string, unknown>, body: Buffer | null): string {
  if (body === null) return JSON.stringify({ meta, body: null });
  const { body: redacted, redacted: counts } = redactForCapture(body);
  const text = redacted.toString('utf8');
  let isJson = true;
  try { JSON.parse(text); } catch { isJson = false; }
  return `{"meta":${JSON.stringify({ ...meta, redacted: counts })},"body":${isJson ? text : JSON.stringify(text)}}\n`;
}

export function createCaptureStore(opts: { dataDir: string; now: () => number; settings: () => CaptureSettings; onError?: (err: Error) => void }): CaptureStore {
  const dir = join(opts.dataDir, CAPTURE_DIR);
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    p.then(() => pending.delete(p), (err: Error) => { pending.delete(p); opts.onError?.(err); });
    return p;
  };

  const list = async () => {
    let names: string[];
    try { names = await fs.readdir(dir); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { name: string; ts: number; size: number }[] = [];
    for (const name of names) {
      const m = NAME_RE.exec(name);
      if (!m) continue;
      try { out.push({ name, ts: Number(m[1]), size: (await fs.stat(join(dir, name))).size }); } catch { /* removed meanwhile */ }
    }
    return out.sort((a, b) => a.ts - b.ts || a.name.localeCompare(b.name));
  };

  const sweep = async () => {
    const s = opts.settings();
    const files = await list();
    const cutoff = opts.now() - s.retentionHours * 3_600_000;
    const maxBytes = s.maxTotalMb * 1024 * 1024;
    let total = files.reduce((a, f) => a + f.size, 0);
    let deleted = 0;
    for (const f of files) {
      if (f.ts >= cutoff && total <= maxBytes) break;
      await fs.rm(join(dir, f.name), { force: true });
      total -= f.size;
      deleted++;
    }
    return { deleted };
  };

  const write = (meta: CaptureMeta, kind: 'request' | 'response', text: string) => track((async () => {
    const path = join(dir, fileName(meta, kind));
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, text, { backup: false, mode: 0o600 });
    await sweep();
    return path;
  })());

  return {
    dir,
    writeRequest: (meta, body) => write(meta, 'request', document({ ...meta }, body)),
    tapResponse(meta, status, headers) {
      const chunks: Buffer[] = [];
      let size = 0;
      let cut = false;
      return {
        chunk(b) {
          if (size + b.length > MAX_RESPONSE_CAPTURE_BYTES) { cut = true; return; }
          chunks.push(b);
          size += b.length;
        },
        end() {
          const ce = headers['content-encoding'];
          const enc = parseContentEncoding(typeof ce === 'string' ? ce : undefined);
          const finish = (body: Buffer, note: string | null) => void write(meta, 'response', document({ ...meta, status, contentType: headers['content-type'] ?? null, truncated: cut, note }, body)).catch(() => {});
          if (!enc.ok || enc.codings.length === 0) {
            finish(Buffer.concat(chunks), enc.ok ? null : `undecoded ${enc.unsupported}; stored as received`);
            return;
          }
          const out: Buffer[] = [];
          let failed: string | null = null;
          const sink = createDecodingSink(enc.codings, { write: (c) => { out.push(Buffer.from(c)); }, end: async () => {} }, { onError: (m) => { failed = m; }, isAborted: () => cut });
          for (const c of chunks) sink.write(c);
          void track(sink.end().then(() => finish(failed ? Buffer.alloc(0) : Buffer.concat(out), failed)));
        },
      };
    },
    sweep: () => track(sweep()),
    async status() {
      const s = opts.settings();
      const files = await list();
      return {
        enabled: s.enabled, dir, files: files.length, bytes: files.reduce((a, f) => a + f.size, 0), oldestTs: files[0]?.ts ?? null,
        retentionHours: s.retentionHours, maxTotalMb: s.maxTotalMb, tokens: s.tokens,
      };
    },
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
