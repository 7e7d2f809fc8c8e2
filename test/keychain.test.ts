// Provider keys in a real Secret Service (gnome-keyring on a private D-Bus): the library round
// trip, `sluice key set|list|delete` reading the key from stdin, and `sluice serve` using it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKeychainStore } from '../proxy/store/secrets.js';
import { secretServiceUnavailable, startSecretService, type SecretService } from './secret-service.js';
import { runSluice, startSluiceServe } from './cli-process.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { authHeaders, headerMap, rawRequest, tempDir } from './helpers.js';

const why = secretServiceUnavailable();
// In CI the keychain must be tested: a missing Secret Service fails there instead of skipping.
const skip = why && process.env.CI !== 'true' ? `no Secret Service: ${why}` : false;

let ss: SecretService;
let savedBus: string | undefined;
before(async () => {
  if (skip) return;
  ss = await startSecretService();
  savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = ss.env.DBUS_SESSION_BUS_ADDRESS;
});
after(async () => {
  if (skip) return;
  if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
  await ss.stop();
});

test('keychain store round trip through the Secret Service', { skip }, async () => {
  const store = createKeychainStore({ service: `SluiceTest-${randomBytes(4).toString('hex')}` });
  const key = `sk-ant-api03-KEYCHAIN-${randomBytes(8).toString('hex')}`;
  assert.equal(await store.get('anthropic'), null);
  await store.set('anthropic', key);
  assert.equal(await store.get('anthropic'), key);
  assert.deepEqual(await store.list(), [{ account: 'anthropic', hint: key.slice(-4) }]);
  await store.set('anthropic', `${key}-rotated`);
  assert.equal(await store.get('anthropic'), `${key}-rotated`, 'set replaces, never duplicates');
  assert.equal((await store.list()).length, 1);
  assert.equal(await store.delete('anthropic'), true);
  assert.equal(await store.get('anthropic'), null);
  assert.equal(await store.delete('anthropic'), false);
});

test('sluice key set reads stdin; list shows only the last 4; serve uses the keychain key', { skip, timeout: 60_000 }, async () => {
  const dir = await tempDir();
  let mock: MockUpstream | null = null;
  const key = `sk-ant-api03-FROMSTDIN-${randomBytes(10).toString('hex')}`;
  const env = { ...ss.env, SLUICE_DATA_DIR: dir.path };
  try {
    const set = await runSluice(['key', 'set', 'anthropic'], env, `${key}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes(key) && !set.stderr.includes(key), 'key not echoed');
    assert.match(set.stdout, new RegExp(`…${key.slice(-4)}`));

    const list = await runSluice(['key', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`anthropic\\s+…${key.slice(-4)}\\s+keychain`));
    assert.ok(!list.stdout.includes(key.slice(0, -4)), 'only the last 4 characters shown');

    mock = await startMockUpstream();
    const tok = await runSluice(['token', 'create', 'kc'], env);
    const token = tok.stdout.trim().split('\n').at(-1)!;
    const serve = await startSluiceServe({ ...env, SLUICE_ANTHROPIC_BASE_URL: mock.url });
    try {
      const res = await rawRequest(`${serve.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"claude-haiku-4-5","max_tokens":1,"messages":[]}' });
      assert.equal(res.status, 200);
      assert.deepEqual(headerMap(mock.requests.at(-1)!.rawHeaders).get('x-api-key'), [key], 'upstream got the keychain key');
    } finally {
      await serve.stop();
    }
    assert.ok(!serve.output().includes(key), 'the key is in no line the gateway printed');

    // The key is on no file in the data dir either.
    for (const f of await readdir(dir.path)) {
      assert.ok(!(await readFile(join(dir.path, f), 'utf8')).includes(key), `${f} holds no key`);
    }
    const del = await runSluice(['key', 'delete', 'anthropic'], env);
    assert.equal(del.code, 0);
    const after = await runSluice(['key', 'list'], env);
    assert.doesNotMatch(after.stdout, /keychain/);
  } finally {
    await mock?.close();
    await dir.cleanup();
  }
});
