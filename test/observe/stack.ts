// End-to-end plumbing for the observe tests: a real gateway with the observe extension (config
// from an in-memory section), the mock upstream, a tagged token, and a local OTLP receiver that
// decodes what arrives. The receiver can answer, fail with a status, or hang.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { observeExtension, type ObserveExtension } from '../../proxy/observe/index.js';
import { ObserveSettingsSchema, type ObserveSettings } from '../../proxy/observe/schema.js';
import { createMemorySecretStore, type SecretStore } from '../../proxy/store/secrets.js';
import { startMockUpstream, type Behavior, type MockUpstream } from '../mock-upstream.js';
import { authHeaders, PROVIDER_KEY, rawRequest, tempDir, type RawResponse } from '../helpers.js';

export const ADMIN_TOKEN = 'test-admin-token-1';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: any;
}

export type ReceiverMode = 'ok' | 'hang' | number;

export interface OtlpReceiver {
  url: string;
  got: Received[];
  mode: ReceiverMode;
  /** Requests that arrived, answered or not. */
  arrived: number;
  close(): Promise<void>;
}

export async function startOtlpReceiver(mode: ReceiverMode = 'ok'): Promise<OtlpReceiver> {
  const r: OtlpReceiver = { url: '', got: [], mode, arrived: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    r.arrived++;
    if (r.mode === 'hang') return; // never answers; the exporter's timeout must end it
    const raw = Buffer.concat(chunks).toString('utf8');
    r.got.push({ path: req.url ?? '', headers: req.headers, raw, json: JSON.parse(raw) });
    if (typeof r.mode === 'number') {
      res.writeHead(r.mode, { 'content-type': 'application/json' });
      res.end('{"code":13,"message":"collector failure"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return r;
}

export interface ObserveStack {
  mock: MockUpstream;
  gw: Gateway;
  ext: ObserveExtension;
  cfg: ObserveSettings;
  secrets: SecretStore;
  token: string;
  dataDir: string;
  logs: string[];
  /** One Messages request through the gateway with the given prompt text. */
  ask(text: string, o?: { stream?: boolean; model?: string; token?: string; sessionId?: string }): Promise<RawResponse>;
  close(): Promise<void>;
}

export async function startObserveStack(o: { observe?: unknown; behavior?: Behavior; tags?: Record<string, string>; secrets?: SecretStore } = {}): Promise<ObserveStack> {
  // Parsed first: a bad test config must not leave a server running.
  const cfg = ObserveSettingsSchema.parse(o.observe ?? {});
  const mock = await startMockUpstream(o.behavior);
  const dir = await tempDir('sluice-observe-');
  const logs: string[] = [];
  const secrets = o.secrets ?? createMemorySecretStore();
  let ext!: ObserveExtension;
  const make = observeExtension({ config: () => cfg, authorize: (req: IncomingMessage) => req.headers.authorization === `Bearer ${ADMIN_TOKEN}` });
  const gw = await createGateway({
    dataDir: dir.path, port: 0, secrets,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    extensions: [(internals) => (ext = make(internals))],
  });
  const { token } = await gw.tokens.create('tool-a', { tags: o.tags ?? { team: 'infra', project: 'apollo' } });
  return {
    mock, gw, ext, cfg, secrets, token, dataDir: dir.path, logs,
    ask: (text, a = {}) => rawRequest(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: authHeaders(a.token ?? token, a.sessionId ? { 'x-claude-code-session-id': a.sessionId } : {}),
      body: JSON.stringify({ model: a.model ?? 'claude-sonnet-4-5-20250929', max_tokens: 64, stream: a.stream ?? true, messages: [{ role: 'user', content: text }] }),
    }),
    async close() {
      await gw.close({ drainMs: 2000 });
      await mock.close();
      await dir.cleanup();
    },
  };
}

/** Polls until `cond` holds or `ms` pass. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
