// The extension points later features build on: routes, request stages (refuse, rewrite, finish
// hook with the ledger row), the event bus, and the dashboard's same-origin requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { authHeaders, rawRequest, tempDir, PROVIDER_KEY } from './helpers.js';
import { createGateway, type Gateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { InvalidRequestError } from '../proxy/errors.js';
import type { LedgerRow } from '../proxy/ledger/index.js';

let mock: MockUpstream;
let gw: Gateway;
let dir: Awaited<ReturnType<typeof tempDir>>;
let token: string;
const finished: (LedgerRow | null)[] = [];
const events: string[] = [];

before(async () => {
  mock = await startMockUpstream();
  dir = await tempDir();
  gw = await createGateway({
    dataDir: dir.path, port: 0, secrets: null,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
    logger: createLogger({ level: 'silent' }),
    extensions: [(g) => {
      g.events.on('request:start', (e) => events.push(`start:${e.model}`));
      g.events.on('request:end', (r) => events.push(`end:${r.status}`));
      return {
        name: 'test-ext',
        routes: (app) => { app.get('/ext/ping', (_req, res) => { res.json({ pong: true, url: g.url() }); }); },
        stages: [
          { name: 'refuse', onRequest: (r) => { if (r.info.model === 'forbidden-model') throw new InvalidRequestError('model not allowed here'); } },
          {
            name: 'rewrite',
            onRequest: (r) => {
              if (r.info.model !== 'rewrite-me') return;
              r.body = Buffer.from(r.body!.toString().replace('"rewrite-me"', '"claude-haiku-4-5"'));
              r.notes.rewritten = true;
              return (row) => { finished.push(row); };
            },
          },
        ],
      };
    }],
  });
  token = (await gw.tokens.create('ext')).token;
});
after(async () => { await gw.close(); await mock.close(); await dir.cleanup(); });

test('an extension route is served behind the same host guard', async () => {
  const ok = await rawRequest(`${gw.url}/ext/ping`);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body.toString()), { pong: true, url: gw.url });
  const evil = await rawRequest(`${gw.url}/ext/ping`, { headers: { host: 'evil.example' } });
  assert.equal(evil.status, 403);
});

test('the dashboard origin (the gateway itself) is allowed; others are not', async () => {
  const same = await rawRequest(`${gw.url}/ext/ping`, { headers: { origin: gw.url } });
  assert.equal(same.status, 200);
  const other = await rawRequest(`${gw.url}/ext/ping`, { headers: { origin: 'http://127.0.0.1:1' } });
  assert.equal(other.status, 403);
});

test('a stage refuses with a gateway error before anything is forwarded', async () => {
  const n = mock.requests.length;
  const res = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"forbidden-model","max_tokens":1,"messages":[]}' });
  assert.equal(res.status, 400);
  assert.match(JSON.parse(res.body.toString()).error.message, /model not allowed here/);
  assert.equal(mock.requests.length, n);
});

test('a stage may rewrite the body; its finish hook gets the ledger row; events fire', async () => {
  const res = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"rewrite-me","max_tokens":1,"messages":[]}' });
  assert.equal(res.status, 200);
  assert.equal(mock.requests.at(-1)!.body.toString(), '{"model":"claude-haiku-4-5","max_tokens":1,"messages":[]}');
  await gw.flushUsage();
  assert.equal(finished.length, 1);
  assert.equal(finished[0]!.status, 200);
  assert.ok(events.includes('start:rewrite-me'));
  assert.ok(events.includes('end:200'));
});
