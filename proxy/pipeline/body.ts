// The request body, read once: the bytes to forward (retries and fallbacks resend them), with
// the size limit enforced as they arrive. Imports the error taxonomy only.
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from '../errors.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Reads the whole request body (the forwarded bytes), refusing past `limit` bytes. With a
 * declared Content-Length the bytes are copied into one buffer of that size as they arrive
 * (each socket chunk is garbage at once; no list of chunks and no concat at the end); a body
 * longer or shorter than declared falls back to collecting chunks, so the bytes are exact.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const cl = req.headers['content-length'];
  const declared = cl === undefined ? Number.NaN : Number(cl);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    let whole: Buffer | null = Number.isInteger(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null;
    let chunks: Buffer[] | null = whole ? null : [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        cleanup();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (whole) {
        if (size + chunk.length <= whole.length) {
          chunk.copy(whole, size);
          size += chunk.length;
          return;
        }
        // More than declared (node's parser would not let this happen; kept exact anyway).
        chunks = [whole.subarray(0, size)];
        whole = null;
      }
      chunks!.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      if (whole) resolve(size === whole.length ? whole : whole.subarray(0, size));
      else resolve(chunks!.length === 1 ? chunks![0]! : Buffer.concat(chunks!, size));
    };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onAborted = () => { cleanup(); reject(new Error('client closed the connection while sending the body')); };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onClose = () => { if (!req.complete) onAborted(); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
