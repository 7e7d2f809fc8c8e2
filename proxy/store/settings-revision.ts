// Revisions on the admin API: every response names the settings revision it reflects
// (`x-sluice-revision`), and a write that sends `If-Match: <revision>` is applied only when the
// settings are still at that revision (else 409 SETTINGS_REVISION_STALE, nothing written).
// Imports node:http types and the settings store; no express code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withExpectedRevision, type SettingsStore } from './settings.js';

export const REVISION_HEADER = 'x-sluice-revision';

/** The revision in an If-Match header (`"r"`, `W/"r"` or bare), or null when absent or `*`. */
export function ifMatchRevision(header: string | string[] | undefined): string | null {
  const v = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!v || v === '*') return null;
  return v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/**
 * Marks successful responses with the revision current when they are written, then runs
 * `next` so that settings writes made for this request are checked against its If-Match.
 * Call it again after anything that loses the async context (a callback-style body parser).
 */
export function withRequestRevision(settings: SettingsStore, req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const marked = res as ServerResponse & { sluiceRevisionMarked?: boolean };
  if (!marked.sluiceRevisionMarked) {
    marked.sluiceRevisionMarked = true;
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      const status = typeof args[0] === 'number' ? args[0] : this.statusCode;
      // Not on refusals (a 401 tells nothing about the settings).
      if (status < 400 && !this.headersSent && !this.hasHeader(REVISION_HEADER)) this.setHeader(REVISION_HEADER, settings.revision());
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
  }
  const want = req.method === 'GET' || req.method === 'HEAD' ? null : ifMatchRevision(req.headers['if-match']);
  if (want === null) next();
  else withExpectedRevision(want, next);
}
