// Shared test plumbing: a real gateway on a free port in front of the mock upstream, a raw
// HTTP client that records exactly what arrived, temp dirs that clean themselves up.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import type { SecretStore } from '../proxy/store/secrets.js';
import { startMockUpstream, type Behavior, type MockUpstream } from './mock-upstream.js';

export const PROVIDER_KEY = 'sk-ant-api03-FAKEPROVIDERKEY';

export async function tempDir(prefix = 'sluice-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface Stack {
  mock: MockUpstream;
  gw: Gateway;
  token: string;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startStack(opts: { behavior?: Behavior; env?: Record<string, string>; secrets?: SecretStore | null; tokenName?: string } = {}): Promise<Stack> {
  const mock = await startMockUpstream(opts.behavior);
  const dir = await tempDir();
  const logs: string[] = [];
  const gw = await createGateway({
    dataDir: dir.path,
    port: 0,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY, ...opts.env },
    secrets: opts.secrets ?? null,
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
  });
  const { token } = await gw.tokens.create(opts.tokenName ?? 'test-tool');
  return {
    mock, gw, token, dataDir: dir.path, logs,
    async close() {
      await gw.close({ drainMs: 2000 });
      await mock.close();
      await dir.cleanup();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** Each body chunk with the time it arrived (performance.now()). */
  chunks: { at: number; data: Buffer }[];
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  onChunk?: (chunk: Buffer, abort: () => void) => void;
}

/** One HTTP/1.1 request with exactly the given headers; resolves with the bytes as received. */
export function rawRequest(url: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: { at: number; data: Buffer }[] = [];
      const abort = () => { req.destroy(); res.destroy(); resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks.map((c) => c.data)), chunks }); };
      res.on('data', (d: Buffer) => {
        chunks.push({ at: performance.now(), data: d });
        opts.onChunk?.(d, abort);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks.map((c) => c.data)), chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export function authHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...extra };
}

/** Lower-cased name -> values, from a raw header list. */
export function headerMap(raw: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), raw[i + 1]!]);
  }
  return m;
}

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after
 * `timeoutMs` naming `what`. For conditions another task or process brings about: a deadline
 * instead of a count of fixed sleeps, so a loaded machine only makes it slower, never red.
 */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago (for a process that must be told its port). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
