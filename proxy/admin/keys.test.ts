// Provider keys through the admin API are write-only: the key goes into the secret store and
// never comes back in any response, log line or file; the key test calls the upstream with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemorySecretStore, type SecretStore } from '../store/secrets.js';
import { startAdminStack, type AdminStack } from '../../test/ui/admin-stack.js';
import { headerMap } from '../../test/helpers.js';
import { anthropicBehavior, sendJson } from '../../test/mock-upstream.js';

const KEY = 'sk-ant-api03-FAKE-admin-k1';
let s: AdminStack;
let secrets: SecretStore;
const bodies: string[] = [];

before(async () => {
  secrets = createMemorySecretStore();
  await secrets.set('tool-token:claude-code', 'sk-sluice-FAKE-tool-token-0');
  // No env key: the keychain is the only source.
  s = await startAdminStack({ secrets, env: { SLUICE_ANTHROPIC_API_KEY: '' } });
  const orig = s.api;
  s.api = async (...args) => {
    const r = await orig(...args);
    bodies.push(r.body.toString());
    return r;
  };
});
after(() => s.close());

test('adding a key stores it in the keychain and answers with the last 4 only', async () => {
  const r = await s.api('POST', '/keys', { provider: 'anthropic', key: KEY });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json, { provider: 'anthropic', hint: KEY.slice(-4), source: 'keychain' });
  assert.equal(await secrets.get('anthropic'), KEY);
});

test('the key list hides tool tokens and shows hints only', async () => {
  const r = await s.api('GET', '/keys');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.keys, [{ provider: 'anthropic', hint: KEY.slice(-4), source: 'keychain' }]);
  assert.deepEqual(r.json.keychain, { available: true, error: null });
  const status = await s.api('GET', '/status');
  assert.deepEqual(status.json.keys, r.json.keys);
});

test('the key test calls GET /v1/models upstream with the key and reports ok', async () => {
  const n = s.mock.requests.length;
  const r = await s.api('POST', '/keys/anthropic/test', {});
  assert.equal(r.status, 200);
  assert.equal(r.json.ok, true);
  assert.equal(r.json.status, 200);
  assert.equal(r.json.source, 'keychain');
  const up = s.mock.requests.slice(n);
  assert.equal(up.length, 1);
  assert.equal(up[0]!.url, '/v1/models?limit=1');
  assert.deepEqual(headerMap(up[0]!.rawHeaders).get('x-api-key'), [KEY]);
});

test('a refused key is reported as not ok, without the upstream message', async () => {
  s.mock.setBehavior((req, res, mock) => {
    if (req.url.startsWith('/v1/models')) sendJson(req, res, 401, { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${KEY}` } });
    else return anthropicBehavior(req, res, mock);
  });
  try {
    const r = await s.api('POST', '/keys/anthropic/test', {});
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, false);
    assert.equal(r.json.status, 401);
    assert.match(r.json.message, /refused this key \(401 authentication_error\)/);
  } finally {
    s.mock.setBehavior(anthropicBehavior);
  }
});

test('invalid provider names and keys are refused; tool-token accounts cannot be written', async () => {
  for (const body of [
    { provider: 'Anthropic!', key: KEY },
    { provider: 'tool-token:claude-code', key: KEY },
    { provider: 'anthropic', key: 'short' },
    { provider: 'anthropic', key: `${KEY} spaced` },
    { provider: 'anthropic' },
  ]) {
    const r = await s.api('POST', '/keys', body);
    assert.equal(r.status, 400, JSON.stringify(body));
  }
  assert.equal(await secrets.get('tool-token:claude-code'), 'sk-sluice-FAKE-tool-token-0');
  const other = await s.api('POST', '/keys/openai/test', {});
  assert.equal(other.status, 400);
});

test('deleting a key removes it from the keychain; a second delete is a 404', async () => {
  await secrets.set('openai', 'sk-FAKE-openai-key-1');
  const r = await s.api('DELETE', '/keys/openai', {});
  assert.equal(r.status, 200);
  assert.equal(await secrets.get('openai'), null);
  const again = await s.api('DELETE', '/keys/openai', {});
  assert.equal(again.status, 404);
});

test('the key appeared in no response, no log line and no file of the data dir', async () => {
  assert.ok(bodies.length >= 8);
  for (const b of bodies) assert.ok(!b.includes(KEY), `response leaked the key: ${b.slice(0, 120)}`);
  for (const l of s.logs) assert.ok(!l.includes(KEY), `log leaked the key: ${l}`);
  for (const f of await readdir(s.dataDir)) {
    const text = await readFile(join(s.dataDir, f)).catch(() => Buffer.alloc(0));
    assert.ok(!text.includes(KEY), `${f} holds the key`);
  }
});

test('without a keychain, adding a key is a 503 that names the env fallback', async () => {
  const bare = await startAdminStack({ secrets: null });
  try {
    const r = await bare.api('POST', '/keys', { provider: 'anthropic', key: KEY });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-sluice-error-code'], 'ADMIN_KEYCHAIN_UNAVAILABLE');
    assert.match(r.json.error.message, /SLUICE_ANTHROPIC_API_KEY/);
  } finally {
    await bare.close();
  }
});
