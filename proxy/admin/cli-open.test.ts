// `sluice open` against a running gateway: reads the published file, gets a fresh one-time URL
// with the admin token, prints it and hands it to the launcher; clear errors otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawRequest, tempDir } from '../../test/helpers.js';
import { startAdminStack } from '../../test/ui/admin-stack.js';
import { ADMIN_RUNTIME_FILE, OpenError, openDashboard, platformLauncher } from './cli-open.js';

test('prints and launches a working one-time login URL; the file goes away on shutdown', async () => {
  const s = await startAdminStack();
  const file = join(s.dataDir, ADMIN_RUNTIME_FILE);
  let closed = false;
  try {
    await s.admin.publish(file);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const published = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(published.url, s.gw.url);
    assert.equal(published.token, s.admin.adminToken);
    const out: string[] = [];
    const launched: string[] = [];
    const code = await openDashboard({ stdout: (x) => out.push(x), stderr: () => {}, env: {}, platform: 'linux', launch: (u) => launched.push(u) }, s.dataDir);
    assert.equal(code, 0);
    const url = out.join('').trim();
    assert.match(url, new RegExp(`^${s.gw.url}/ui/login\\?code=`));
    assert.deepEqual(launched, [url]);
    const login = await rawRequest(url);
    assert.equal(login.status, 303);
    assert.match(String(login.headers['set-cookie']), /^sluice_admin=/);
    await s.close();
    closed = true;
    await assert.rejects(stat(file), /ENOENT/);
  } finally {
    if (!closed) await s.close();
  }
});

test('no published gateway, or a stale one, is a clear error', async () => {
  const dir = await tempDir();
  try {
    const io = { stdout: () => {}, stderr: () => {}, env: {}, platform: 'linux' as const, launch: null };
    await assert.rejects(openDashboard(io, dir.path), (e: unknown) => e instanceof OpenError && /sluice serve/.test(e.message));
    await writeFile(join(dir.path, ADMIN_RUNTIME_FILE), JSON.stringify({ url: 'http://127.0.0.1:9', token: 'sluice-admin-FAKE' }));
    await assert.rejects(openDashboard(io, dir.path), (e: unknown) => e instanceof OpenError && /does not answer/.test(e.message));
  } finally {
    await dir.cleanup();
  }
});

test('no browser is launched on a headless Linux or when SLUICE_NO_BROWSER is set', () => {
  assert.equal(platformLauncher('linux', {}), null);
  assert.equal(platformLauncher('darwin', { SLUICE_NO_BROWSER: '1' }), null);
  assert.equal(typeof platformLauncher('linux', { DISPLAY: ':0' }), 'function');
});
