// Content-Encoding decoding for the usage tap: turns the response bytes the client receives back
// into the body the upstream produced. Imports node:zlib and fzstd only; never the pipeline.
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { Decompress as ZstdDecompress } from 'fzstd';

/** Where decoded bytes go. `end()` resolves once every byte before it has been delivered. */
export interface ByteSink {
  write(chunk: Uint8Array): void;
  end(): Promise<void>;
}

export type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

export interface DecoderHooks {
  /** Called at most once per decoder when it gives up; the decoder then drops its input. */
  onError(message: string): void;
  /** True when the response was cut short, so a truncated compressed stream is expected. */
  isAborted(): boolean;
}

export type ParsedEncoding = { ok: true; codings: Coding[] } | { ok: false; unsupported: string };

const KNOWN: Record<string, Coding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br', zstd: 'zstd' };

/**
 * RFC 9110 8.4: codings are listed in the order they were applied, so "gzip, br" means gzip
 * first and brotli on top; decoding runs in reverse. Returned in header (applied) order.
 */
export function parseContentEncoding(header: string | undefined): ParsedEncoding {
  const codings: Coding[] = [];
  for (const raw of (header ?? '').split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '' || token === 'identity') continue;
    const coding = KNOWN[token];
    if (coding === undefined) return { ok: false, unsupported: token };
    codings.push(coding);
  }
  return { ok: true, codings };
}

/** Wraps `target` so raw bytes written to the result reach it decoded (applied order in). */
export function createDecodingSink(codings: readonly Coding[], target: ByteSink, hooks: DecoderHooks): ByteSink {
  let sink = target;
  // The first-applied coding must be undone last, so it sits next to the target.
  for (const coding of codings) sink = createDecoder(coding, sink, hooks);
  return sink;
}

function createDecoder(coding: Coding, next: ByteSink, hooks: DecoderHooks): ByteSink {
  switch (coding) {
    case 'gzip':
      return zlibDecoder(() => zlib.createGunzip(ZLIB_OPTS), next, hooks, 'gzip');
    case 'deflate':
      return deflateDecoder(next, hooks);
    case 'br':
      return zlibDecoder(() => zlib.createBrotliDecompress(BROTLI_OPTS), next, hooks, 'br');
    case 'zstd': {
      const native = (zlib as { createZstdDecompress?: (o?: object) => Transform }).createZstdDecompress;
      // Node >= 22.15 / 23.8 ships zstd in zlib; Node 20 does not, so fzstd (pure JS) fills in.
      // Flush at the end like gzip and brotli above, so a body cut mid-frame ends quietly
      // (complete: false) instead of "unexpected end of file".
      if (typeof native === 'function') return zlibDecoder(() => native(ZSTD_OPTS), next, hooks, 'zstd');
      return fzstdDecoder(next, hooks);
    }
  }
}

// Sync flush at the end: a stream cut off mid-body then yields what it decoded instead of an
// "unexpected end of file" that could also swallow the last decoded piece. A truncated body
// still shows up in the report as complete: false.
const ZLIB_OPTS: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BROTLI_OPTS: zlib.BrotliOptions = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };
// ZSTD_e_flush (1): the zstd constants exist only on Node builds with zstd in zlib.
const ZSTD_OPTS = { finishFlush: (zlib.constants as Record<string, number>).ZSTD_e_flush ?? 1 };

function zlibDecoder(make: () => Transform, next: ByteSink, hooks: DecoderHooks, name: string): ByteSink {
  const stream = make();
  let failed = false;
  const settled = new Promise<void>((resolve) => stream.once('close', resolve));
  stream.on('data', (out: Buffer) => {
    if (!failed) next.write(out);
  });
  stream.on('error', (err: Error) => {
    if (failed) return;
    failed = true;
    hooks.onError(`${name} decoding failed: ${err.message}`);
  });
  return {
    write(chunk) {
      if (failed) return;
      // zlib streams queue writes internally; the response bytes themselves never wait on this.
      stream.write(chunk);
    },
    async end() {
      if (!stream.destroyed) stream.end();
      await settled;
      await next.end();
    },
  };
}

/**
 * HTTP "deflate" is meant to be zlib-wrapped (RFC 9110 8.4.1.2) but some servers send raw
 * deflate; the zlib header's low nibble is 8 (CM = deflate), which a raw stream's first byte
 * rarely has. The same first-byte test browsers and undici use.
 */
function deflateDecoder(next: ByteSink, hooks: DecoderHooks): ByteSink {
  let inner: ByteSink | null = null;
  return {
    write(chunk) {
      if (chunk.byteLength === 0) return;
      if (inner === null) {
        const wrapped = ((chunk[0] ?? 0) & 0x0f) === 0x08;
        inner = zlibDecoder(() => (wrapped ? zlib.createInflate(ZLIB_OPTS) : zlib.createInflateRaw(ZLIB_OPTS)), next, hooks, 'deflate');
      }
      inner.write(chunk);
    },
    async end() {
      if (inner === null) await next.end();
      else await inner.end();
    },
  };
}

function fzstdDecoder(next: ByteSink, hooks: DecoderHooks): ByteSink {
  let failed = false;
  const d = new ZstdDecompress((out) => {
    if (!failed) next.write(out);
  });
  function guard(fn: () => void, atEnd: boolean): void {
    if (failed) return;
    try {
      fn();
    } catch (err) {
      failed = true;
      // A cut-off stream ends mid-frame by design; only a stream that should be whole is an error.
      if (atEnd && hooks.isAborted()) return;
      hooks.onError(`zstd decoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return {
    write(chunk) {
      guard(() => d.push(chunk), false);
    },
    async end() {
      guard(() => d.push(new Uint8Array(0), true), true);
      await next.end();
    },
  };
}
