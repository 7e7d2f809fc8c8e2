// End to end, over raw TCP (HTTP clients normalise request lines, so they are written by hand):
// the provider key reaches only the configured base URL, under its path prefix. A recording mock
// sits behind `<mock>/anthropic`; a recording "evil" host and a recording forward proxy prove that
// nothing carrying the key went anywhere else. Also: the data dir's modes after start.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { anthropicBehavior, startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { PROVIDER_KEY, tempDir } from './helpers.js';

const PREFIX = '/anthropic';

interface RawReply { status: number; headers: string; body: string }

/** Writes one request exactly as given (`connection: close`) and reads the reply until the server closes. */
function rawTcp(port: number, requestLine: string, headers: Record<string, string>, body = ''): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.indexOf('\r\n\r\n');
      const head = end === -1 ? raw : raw.slice(0, end);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: end === -1 ? '' : raw.slice(end + 4) });
    });
    const lines = [requestLine, ...Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' }).map(([k, v]) => `${k}: ${v}`)];
    // No half-close: Node's server drops a request whose client ended its side; `connection: close` ends it instead.
    sock.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** A forward proxy as a corporate relay would be: routes absolute-form by its authority (loopback only here), origin-form to `fallback`. */
async function startForwardProxy(fallbackPort: number): Promise<{ port: number; seen: { target: string; key: string | undefined }[]; close(): Promise<void> }> {
  const seen: { target: string; key: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '';
    seen.push({ target, key: typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined });
    let host = '127.0.0.1';
    let port = fallbackPort;
    let path = target;
    if (!target.startsWith('/')) {
      const u = new URL(target);
      if (u.hostname !== '127.0.0.1') { res.writeHead(502).end(); return; } // never leave loopback
      port = Number(u.port);
      path = u.pathname + u.search;
    }
    const up = httpRequest({ host, port, path, method: req.method, headers: req.headers, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

const MESSAGE = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const CHAT = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'hi' }] });

/** The mock answers under the prefix as the real API answers at its root. */
async function startPrefixedMock(): Promise<MockUpstream> {
  return startMockUpstream(async (req, res, mock) => {
    if (!req.url.startsWith(`${PREFIX}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"not_found_error","message":"outside the prefix"}}');
      return;
    }
    await anthropicBehavior({ ...req, url: req.url.slice(PREFIX.length) }, res, mock);
  });
}

function isUnderPrefix(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  if (!path.startsWith(`${PREFIX}/v1/`)) return false;
  const decoded = decodeURIComponent(decodeURIComponent(path)).replace(/\\/g, '/');
  return !decoded.split('/').some((s) => s === '.' || s === '..');
}

describe('request-target hardening behind a path-prefixed base URL', () => {
  let mock: MockUpstream;
  let evil: MockUpstream;
  let gw: Gateway;
  let token: string;
  let dataDir: { path: string; cleanup: () => Promise<void> };
  const logs: string[] = [];
  let h: Record<string, string>;

  before(async () => {
    mock = await startPrefixedMock();
    evil = await startMockUpstream();
    dataDir = await tempDir();
    gw = await createGateway({
      dataDir: dataDir.path, port: 0, secrets: null,
      env: { SLUICE_ANTHROPIC_BASE_URL: `${mock.url}${PREFIX}`, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
      logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    });
    token = (await gw.tokens.create('hostile-tool')).token;
    h = { host: `127.0.0.1:${gw.port}`, 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
  });
  after(async () => {
    await gw.close({ drainMs: 1000 });
    await mock.close();
    await evil.close();
    await dataDir.cleanup();
  });

  /** Sends, then returns what reached the mock for this request (null: nothing did). */
  async function send(line: string, body = '', headers = h): Promise<{ reply: RawReply; got: MockUpstream['requests'][number] | null }> {
    const before = mock.requests.length;
    const reply = await rawTcp(gw.port, line, headers, body);
    assert.ok(mock.requests.length - before <= 1);
    return { reply, got: mock.requests[before] ?? null };
  }

  function assertRefused(reply: RawReply): void {
    assert.equal(reply.status, 400, reply.headers);
    assert.equal(JSON.parse(reply.body).error.type, 'gateway_request_target_refused');
    assert.match(reply.headers, /x-sluice-error-code: GATEWAY_REQUEST_TARGET_REFUSED/i);
  }

  test('origin-form is forwarded under the prefix with the query byte for byte and the provider key', async () => {
    const { reply, got } = await send('POST /v1/messages?beta=true HTTP/1.1', MESSAGE);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(got?.url, `${PREFIX}/v1/messages?beta=true`);
    assert.equal(got?.headers['x-api-key'], PROVIDER_KEY);
    assert.equal(got?.body.toString(), MESSAGE);
  });

  test('a query with dots, escapes and slashes is kept exactly', async () => {
    const { reply, got } = await send('POST /v1/messages/count_tokens?beta=true&q=%2e%2e/../x%2F HTTP/1.1', MESSAGE);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(got?.url, `${PREFIX}/v1/messages/count_tokens?beta=true&q=%2e%2e/../x%2F`);
  });

  test('absolute-form naming another host is refused; nothing reaches the mock or that host', async () => {
    for (const target of [`http://127.0.0.1:${new URL(evil.url).port}/v1/messages`, 'http://evil.example/v1/messages', `http://evil.example:${gw.port}/v1/messages`,
      `http://${token}@127.0.0.1:${gw.port}/v1/messages`, `https://127.0.0.1:${gw.port}/v1/messages`]) {
      const { reply, got } = await send(`POST ${target} HTTP/1.1`, MESSAGE, { ...h, host: '127.0.0.1' });
      assertRefused(reply);
      assert.equal(got, null, target);
    }
    assert.equal(evil.requests.length, 0);
  });

  test('absolute-form naming the gateway itself is served as its origin-form path', async () => {
    for (const authority of [`127.0.0.1:${gw.port}`, `localhost:${gw.port}`, `[::1]:${gw.port}`]) {
      const { reply, got } = await send(`POST http://${authority}/v1/messages?beta=true HTTP/1.1`, MESSAGE);
      assert.equal(reply.status, 200, `${authority}: ${reply.body}`);
      assert.equal(got?.url, `${PREFIX}/v1/messages?beta=true`);
    }
    const { reply, got } = await send(`GET http://localhost:${gw.port}/v1/models?limit=2 HTTP/1.1`);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(got?.url, `${PREFIX}/v1/models?limit=2`);
  });

  test('dot-segments that leave /v1/ are refused, raw or percent-encoded, on every surface', async () => {
    const targets = [
      'POST /v1/../admin/api/status', 'POST /v1/%2e%2e/secret', 'POST /v1/messages/../../internal', 'POST /v1/%252e%252e/secret',
      'POST /v1/..%2f..%2fadmin', 'POST /v1/..%5cadmin', 'POST /v1/..\\admin', 'POST /v1/.%2E/x', 'POST /v1/..;/admin',
      'POST /v1/chat/completions/../../../admin', 'GET /v1/models/%2e%2e/%2e%2e/x', 'POST /v1/messages/count_tokens/%2e%2e/%2e%2e/%2e%2e/x',
      'GET /v1/messages/batches/../../../admin', `POST http://127.0.0.1:${gw.port}/v1/../admin`, 'POST /V1/../admin',
    ];
    for (const t of targets) {
      const { reply, got } = await send(`${t} HTTP/1.1`, t.startsWith('GET') ? '' : MESSAGE);
      assert.equal(got, null, `${t} reached the mock as ${got?.url}`);
      assertRefused(reply);
    }
  });

  test('dot-segments that stay inside /v1/ are resolved before forwarding', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/v1/messages/../messages/count_tokens?beta=true', `${PREFIX}/v1/messages/count_tokens?beta=true`],
      ['POST', '/v1/./messages', `${PREFIX}/v1/messages`],
      ['GET', '/v1/messages/../models', `${PREFIX}/v1/models`],
      ['GET', '/v1/messages/batches/./msgbatch_1', `${PREFIX}/v1/messages/batches/msgbatch_1`],
    ];
    for (const [method, target, want] of cases) {
      const { reply, got } = await send(`${method} ${target} HTTP/1.1`, method === 'POST' ? MESSAGE : '');
      assert.equal(reply.status, 200, `${target}: ${reply.body}`);
      assert.equal(got?.url, want);
    }
  });

  test('the OpenAI-compatible surface forwards under the prefix too', async () => {
    const { reply, got } = await send('POST /v1/chat/completions HTTP/1.1', CHAT);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(got?.url, `${PREFIX}/v1/messages`);
    assert.equal(got?.headers['x-api-key'], PROVIDER_KEY);
    const refused = await send(`POST http://evil.example/v1/chat/completions HTTP/1.1`, CHAT, { ...h, host: '127.0.0.1' });
    assertRefused(refused.reply);
    assert.equal(refused.got, null);
  });

  test('everything that reached the mock was under the prefix, and nothing reached the evil host', () => {
    assert.ok(mock.requests.length >= 10);
    for (const r of mock.requests) assert.ok(isUnderPrefix(r.url), r.url);
    assert.equal(evil.requests.length, 0);
  });

  test('the data dir is 0700 and every file in it 0600 after start', { skip: process.platform === 'win32' }, async () => {
    await gw.flushUsage();
    assert.equal((await fs.stat(dataDir.path)).mode & 0o777, 0o700);
    const names = await fs.readdir(dataDir.path);
    for (const f of ['settings.json', 'ledger.sqlite', 'ledger.sqlite-wal', 'ledger.sqlite-shm']) assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
    for (const n of names) {
      const st = await fs.lstat(join(dataDir.path, n));
      assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, n);
    }
  });
});

describe('behind a forward proxy given as the base URL (a corporate relay)', () => {
  let mock: MockUpstream;
  let evil: MockUpstream;
  let proxy: Awaited<ReturnType<typeof startForwardProxy>>;
  let gw: Gateway;
  let token: string;
  let dataDir: { path: string; cleanup: () => Promise<void> };
  const logs: string[] = [];

  before(async () => {
    mock = await startMockUpstream();
    evil = await startMockUpstream();
    proxy = await startForwardProxy(Number(new URL(mock.url).port));
    dataDir = await tempDir();
    // An older version's data dir: world-readable dir and files.
    await fs.chmod(dataDir.path, 0o755);
    await fs.writeFile(join(dataDir.path, 'admin.json'), '{}\n', { mode: 0o644 });
    await fs.chmod(join(dataDir.path, 'admin.json'), 0o644);
    gw = await createGateway({
      dataDir: dataDir.path, port: 0, secrets: null,
      env: { SLUICE_ANTHROPIC_BASE_URL: `http://127.0.0.1:${proxy.port}`, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
      logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    });
    token = (await gw.tokens.create('hostile-tool')).token;
  });
  after(async () => {
    await gw.close({ drainMs: 1000 });
    await proxy.close();
    await mock.close();
    await evil.close();
    await dataDir.cleanup();
  });

  test('an absolute-form target for another host never reaches the proxy, so the proxy never routes the key there', async () => {
    const h = { host: '127.0.0.1', 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
    const evilTarget = `http://127.0.0.1:${new URL(evil.url).port}/v1/messages`;
    const refused = await rawTcp(gw.port, `POST ${evilTarget} HTTP/1.1`, h, MESSAGE);
    assert.equal(refused.status, 400, refused.body);
    const ok = await rawTcp(gw.port, 'POST /v1/messages HTTP/1.1', h, MESSAGE);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(evil.requests.length, 0);
    assert.deepEqual(proxy.seen, [{ target: '/v1/messages', key: PROVIDER_KEY }]);
    assert.equal(mock.requests.length, 1);
  });

  test('an existing too-open data dir is tightened at start, with one log line', { skip: process.platform === 'win32' }, async () => {
    assert.equal((await fs.stat(dataDir.path)).mode & 0o777, 0o700);
    assert.equal((await fs.stat(join(dataDir.path, 'admin.json'))).mode & 0o777, 0o600);
    const lines = logs.filter((l) => l.includes('made readable by this user only'));
    assert.equal(lines.length, 1, logs.join('\n'));
    assert.match(lines[0]!, /2 existing file\(s\) and folder\(s\)/);
  });
});
