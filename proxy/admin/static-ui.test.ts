// The dashboard's static serving: /ui redirect, CSP and nosniff on every page, hashed assets
// cached forever, unknown paths and traversal attempts answered with index.html.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawRequest, tempDir } from '../../test/helpers.js';
import { startAdminStack, type AdminStack } from '../../test/ui/admin-stack.js';
import { packageRoot, UI_CSP } from './static-ui.js';

let s: AdminStack;
let ui: Awaited<ReturnType<typeof tempDir>>;
const INDEX = '<!doctype html><title>Sluice test index</title>';

before(async () => {
  ui = await tempDir('sluice-ui-');
  await mkdir(join(ui.path, 'assets'));
  await writeFile(join(ui.path, 'index.html'), INDEX);
  await writeFile(join(ui.path, 'assets', 'app-abc123.js'), 'console.log(1)');
  await writeFile(join(ui.path, '..', 'secret-beside-ui.txt'), 'not for the browser');
  s = await startAdminStack({ admin: { uiDir: ui.path } });
});
after(async () => { await s.close(); await ui.cleanup(); });

test('/ui redirects to /ui/', async () => {
  const r = await rawRequest(`${s.gw.url}/ui`);
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, '/ui/');
});

test('index.html with the strict CSP and nosniff', async () => {
  const r = await rawRequest(`${s.gw.url}/ui/`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), INDEX);
  assert.equal(r.headers['content-security-policy'], UI_CSP);
  assert.equal(UI_CSP, "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'");
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.match(String(r.headers['content-type']), /^text\/html/);
});

test('hashed assets are served with their type and cached as immutable', async () => {
  const r = await rawRequest(`${s.gw.url}/ui/assets/app-abc123.js`);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'console.log(1)');
  assert.match(String(r.headers['content-type']), /^text\/javascript/);
  assert.match(String(r.headers['cache-control']), /immutable/);
  assert.equal(r.headers['content-security-policy'], UI_CSP);
});

test('unknown paths and traversal get index.html, never a file outside the folder', async () => {
  for (const p of ['/ui/sessions/abc', '/ui/..%2Fsecret-beside-ui.txt', '/ui/%2e%2e%2fsecret-beside-ui.txt', '/ui/assets%2f..%2f..%2fsecret-beside-ui.txt']) {
    const r = await rawRequest(`${s.gw.url}${p}`);
    assert.equal(r.status, 200, p);
    assert.equal(r.body.toString(), INDEX, p);
  }
});

test('the static UI needs no admin auth, but a foreign Host is refused', async () => {
  const r = await rawRequest(`${s.gw.url}/ui/`, { headers: { host: 'evil.example' } });
  assert.equal(r.status, 403);
});

test('a gateway without a built UI says how to build it', async () => {
  const empty = await tempDir('sluice-noui-');
  const bare = await startAdminStack({ admin: { uiDir: empty.path } });
  try {
    const r = await rawRequest(`${bare.gw.url}/ui/`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-sluice-error-code'], 'ADMIN_UI_NOT_BUILT');
    assert.match(JSON.parse(r.body.toString()).error.message, /npm run build:ui/);
  } finally {
    await bare.close();
    await empty.cleanup();
  }
});

test('packageRoot finds the sluice package from source and from dist', () => {
  const root = packageRoot();
  assert.equal(packageRoot(join(root, 'dist', 'proxy', 'admin', 'static-ui.js')), root);
  assert.equal(packageRoot(join(root, 'proxy', 'admin', 'static-ui.ts')), root);
});
