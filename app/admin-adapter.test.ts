// Tests for the seam to the admin extension: a missing, broken or wrong-shaped module, and the
// real proxy/admin extension mounted on a real gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { DEFAULT_ADMIN_MODULE, loadAdminExtension, wrapAdmin } from './admin-adapter.js';
import type { GatewayInternals } from '../proxy/gateway.js';

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-admin-adapter-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('a module that does not exist means "not part of this build"', async () => {
  await withDir(async (dir) => {
    const r = await loadAdminExtension(pathToFileURL(join(dir, 'admin', 'index.js')).href);
    assert.deepEqual(r, { ok: false, reason: 'the dashboard (proxy/admin) is not part of this build' });
  });
});

test('a module that fails to import, or lacks adminExtension, is reported as such', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'broken.mjs'), 'throw new Error("boom at import");\n');
    const broken = await loadAdminExtension(pathToFileURL(join(dir, 'broken.mjs')).href);
    assert.equal(broken.ok, false);
    assert.match((broken as { reason: string }).reason, /^the dashboard failed to load: boom at import/);
    await writeFile(join(dir, 'shapeless.mjs'), 'export const somethingElse = 1;\n');
    assert.deepEqual(await loadAdminExtension(pathToFileURL(join(dir, 'shapeless.mjs')).href), { ok: false, reason: 'proxy/admin does not export adminExtension()' });
  });
});

test('wrapAdmin passes our token and finds createLoginUrl on the factory or the extension', () => {
  const seen: string[] = [];
  const internals = {} as GatewayInternals;
  // Shape 1: the handle hangs off the extension object only; it returns a path.
  const onExtension = wrapAdmin((opts) => {
    seen.push(opts.adminToken);
    return () => ({ name: 'admin', adminToken: opts.adminToken, createLoginUrl: () => '/ui/login?code=one' });
  });
  assert.match(seen[0]!, /^sluice-admin-[A-Za-z0-9_-]{43}$/);
  assert.equal(onExtension.createLoginUrl('http://127.0.0.1:1234'), null, 'nothing to ask before the gateway mounted it');
  onExtension.extension(internals);
  assert.equal(onExtension.createLoginUrl('http://127.0.0.1:1234'), 'http://127.0.0.1:1234/ui/login?code=one');
  assert.equal(onExtension.adminToken(), seen[0]);

  // Shape 2: the factory carries the handle and chose its own token.
  const factory = Object.assign(() => ({ name: 'admin' }), { adminToken: 'sluice-admin-their-own', createLoginUrl: () => 'http://127.0.0.1:9/ui/login?code=two' });
  const onFactory = wrapAdmin(() => factory);
  assert.equal(onFactory.adminToken(), 'sluice-admin-their-own');
  assert.equal(onFactory.createLoginUrl('http://127.0.0.1:9'), 'http://127.0.0.1:9/ui/login?code=two');

  assert.throws(() => wrapAdmin(() => ({ not: 'a function' })), /did not return an extension factory/);
});

test('the real admin extension: loads, mounts, issues a login URL, and the token opens the API', async () => {
  const loaded = await loadAdminExtension(DEFAULT_ADMIN_MODULE);
  assert.ok(loaded.ok, `admin extension should load from the sources: ${(loaded as { reason?: string }).reason}`);
  await withDir(async (dir) => {
    const gw = await createGateway({
      dataDir: dir, port: 0, env: {}, secrets: null,
      logger: createLogger({ level: 'silent' }),
      extensions: [loaded.admin.extension],
    });
    try {
      const login = loaded.admin.createLoginUrl(gw.url)!;
      assert.match(login, new RegExp(`^${gw.url.replace(/\./g, '\\.')}/ui/login\\?code=[A-Za-z0-9_-]+$`));
      const ok = await fetch(`${gw.url}/admin/api/status`, { headers: { authorization: `Bearer ${loaded.admin.adminToken()}` } });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { port: number }).port, gw.port);
      const refused = await fetch(`${gw.url}/admin/api/status`, { headers: { authorization: 'Bearer sluice-admin-wrong' } });
      assert.equal(refused.status, 401);
      await refused.arrayBuffer();
      assert.equal(await loaded.admin.publish(join(dir, 'admin.json')), true);
    } finally {
      await gw.close({ drainMs: 1000 });
    }
  });
});
