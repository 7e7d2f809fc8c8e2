// `npm start` (scripts/start.mjs): the Electron checks on fake installs, and the headless fallback
// as a real process: it says why, the gateway listens, the dashboard line is printed, SIGTERM ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from '../mock-upstream.js';
import { loadStartScript as load, ROOT, START_SCRIPT as START } from './start-script.js';

async function fakeRoot(layout: { pkg?: boolean; pathTxt?: string; binary?: boolean; main?: boolean; install?: string }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-start-'));
  const pkg = join(root, 'node_modules', 'electron');
  if (layout.pkg) {
    await mkdir(join(pkg, 'dist'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{"name":"electron","version":"45.6.1"}');
  }
  if (layout.install !== undefined) await writeFile(join(pkg, 'install.js'), layout.install);
  if (layout.pathTxt !== undefined) await writeFile(join(pkg, 'path.txt'), layout.pathTxt);
  if (layout.binary) await writeFile(join(pkg, 'dist', 'electron'), '');
  if (layout.main) {
    await mkdir(join(root, 'dist', 'app'), { recursive: true });
    await writeFile(join(root, 'dist', 'app', 'main.js'), '');
  }
  return root;
}

test('electronCheck names the failed check at each step, and finds a complete install', async () => {
  const { electronCheck } = await load();
  const display = { DISPLAY: ':0' };
  const cases: [Parameters<typeof fakeRoot>[0], Record<string, string>, RegExp | null][] = [
    [{}, display, /node_modules\/electron is not installed .*network access/],
    [{ pkg: true }, display, /dist\/app\/main\.js is missing/],
    // No display: said before anything would be downloaded.
    [{ pkg: true, main: true }, {}, /no graphical display: DISPLAY and WAYLAND_DISPLAY are unset/],
    [{ pkg: true, main: true }, display, /path\.txt is missing, so the binary has not been downloaded/],
    [{ pkg: true, pathTxt: 'electron', main: true }, display, /node_modules\/electron\/dist\/electron does not exist/],
    [{ pkg: true, pathTxt: 'electron', binary: true, main: true }, { ...display, SLUICE_HEADLESS: '1' }, /SLUICE_HEADLESS=1/],
    [{ pkg: true, pathTxt: 'electron\n', binary: true, main: true }, display, null],
    [{ pkg: true, pathTxt: 'electron', binary: true, main: true }, { WAYLAND_DISPLAY: 'wayland-0' }, null],
  ];
  for (const [layout, env, why] of cases) {
    const root = await fakeRoot(layout);
    try {
      const r = electronCheck({ root, env, platform: 'linux' });
      if (why === null) assert.deepEqual(r, { ok: true, binary: join(root, 'node_modules', 'electron', 'dist', 'electron') });
      else {
        assert.equal(r.ok, false, JSON.stringify(layout));
        assert.match((r as { why: string }).why, why);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  // macOS and Windows need no DISPLAY.
  const root = await fakeRoot({ pkg: true, pathTxt: 'Electron.app/Contents/MacOS/Electron', main: true });
  try {
    await mkdir(join(root, 'node_modules', 'electron', 'dist', 'Electron.app', 'Contents', 'MacOS'), { recursive: true });
    await writeFile(join(root, 'node_modules', 'electron', 'dist', 'Electron.app', 'Contents', 'MacOS', 'Electron'), '');
    assert.equal(electronCheck({ root, env: {}, platform: 'darwin' }).ok, true);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing Electron binary is fetched with the package\'s own install.js, once a tray could show; a failed fetch says why', async () => {
  const { downloadElectron, electronCheck } = await load();
  const display = { DISPLAY: ':0' };
  // Stand-ins for node_modules/electron/install.js: one that lays the binary out as Electron's
  // does (dist/<binary> + path.txt), one that fails the way an offline machine does.
  const fetches = `const { mkdirSync, writeFileSync } = require('node:fs');
mkdirSync(__dirname + '/dist', { recursive: true });
writeFileSync(__dirname + '/dist/electron', '');
writeFileSync(__dirname + '/path.txt', 'electron');`;
  const offline = "console.error('getaddrinfo ENOTFOUND'); process.exit(1);";
  for (const [install, expectOk] of [[fetches, true], [offline, false]] as const) {
    const root = await fakeRoot({ pkg: true, main: true, install });
    try {
      const first = electronCheck({ root, env: display, platform: 'linux' });
      assert.equal(first.ok, false);
      assert.equal((first as { download?: string }).download, join(root, 'node_modules', 'electron', 'install.js'));
      const after = downloadElectron(first, { root, env: { ...process.env, ...display }, platform: 'linux', timeoutMs: 30_000, stdio: 'ignore' });
      if (expectOk) assert.deepEqual(after, { ok: true, binary: join(root, 'node_modules', 'electron', 'dist', 'electron') });
      else assert.match((after as { why: string }).why, /has not been downloaded.*; the download did not complete \(it exited with 1\)/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  // Without a display nothing is downloaded: the check stops before the binary.
  const root = await fakeRoot({ pkg: true, main: true, install: fetches });
  try {
    const noDisplay = electronCheck({ root, env: {}, platform: 'linux' });
    assert.equal((noDisplay as { download?: string }).download, undefined);
    assert.equal(downloadElectron(noDisplay, { root, env: {}, platform: 'linux', stdio: 'ignore' }), noDisplay);
    assert.equal(existsSync(join(root, 'node_modules', 'electron', 'path.txt')), false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('buildNeeded: missing outputs, then sources newer than the build', async () => {
  const { buildNeeded } = await load();
  const root = await mkdtemp(join(tmpdir(), 'sluice-build-'));
  try {
    await mkdir(join(root, 'proxy'), { recursive: true });
    await mkdir(join(root, 'app'), { recursive: true });
    await writeFile(join(root, 'proxy', 'a.ts'), '');
    await writeFile(join(root, 'app', 'main.ts'), '');
    assert.equal(buildNeeded(root), 'dist/proxy/cli.js is missing');
    await mkdir(join(root, 'dist', 'proxy'), { recursive: true });
    await mkdir(join(root, 'dist', 'app'), { recursive: true });
    await writeFile(join(root, 'dist', 'proxy', 'cli.js'), '');
    assert.equal(buildNeeded(root), 'dist/app/main.js is missing');
    await writeFile(join(root, 'dist', 'app', 'main.js'), '');
    assert.equal(buildNeeded(root), null);
    // A test file changing does not call for a build; a source file does.
    const later = new Date(Date.now() + 60_000);
    await writeFile(join(root, 'proxy', 'a.test.ts'), '');
    const { utimes } = await import('node:fs/promises');
    await utimes(join(root, 'proxy', 'a.test.ts'), later, later);
    assert.equal(buildNeeded(root), null);
    await utimes(join(root, 'app', 'main.ts'), later, later);
    assert.equal(buildNeeded(root), 'app/ changed since dist/app/main.js was built');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('npm start without a usable Electron: says why, serves the gateway, prints the dashboard line, stops on SIGTERM', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'proxy', 'cli.js'))) {
    t.skip('dist/ is not built (npm test builds it first)');
    return;
  }
  const { electronCheck } = await load();
  const here = electronCheck({ root: ROOT, env: process.env, platform: process.platform });
  const mock = await startMockUpstream();
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-npm-start-'));
  // Where Electron could run, the fallback is asked for explicitly; here it is what happens anyway.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dataDir,
    SLUICE_DATA_DIR: dataDir,
    SLUICE_PORT: '0',
    SLUICE_ANTHROPIC_BASE_URL: mock.url,
    SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKE-start',
    SLUICE_NO_BROWSER: '1',
    // The test runs the build that exists; `npm test` has just built it.
    SLUICE_SKIP_BUILD: '1',
    ...(here.ok ? { SLUICE_HEADLESS: '1' } : {}),
    ...(process.env.DISPLAY ? { DISPLAY: process.env.DISPLAY } : {}),
  };
  const proc = spawn(process.execPath, [START], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in 20 s:\n${out}\n${err}`)), 20_000);
      const check = () => {
        const m = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        // The dashboard line comes with (or right after) the banner.
        if (m && (/\/ui\//.test(out) || /dashboard: not part of this build/.test(out))) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      proc.stdout.on('data', check);
      proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`start.mjs exited ${code}:\n${out}\n${err}`)); });
    });
    const reason = here.ok ? /SLUICE_HEADLESS=1 asks for the headless gateway/ : new RegExp(here.why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    assert.match(out, /^Sluice: the tray app cannot start here \(/m);
    assert.match(out, reason);
    assert.match(out, /starting the headless gateway with the browser dashboard instead/);
    if (existsSync(join(ROOT, 'dist', 'proxy', 'admin', 'index.js'))) {
      assert.match(out, new RegExp(`${url.replace(/\./g, '\\.')}/ui/`), 'the dashboard URL of this gateway is printed');
    } else {
      assert.match(out, /dashboard: not part of this build/);
    }
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');

    proc.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.equal(signal, null, `exited by itself, not killed (stderr: ${err})`);
    assert.equal(code, 0, `clean exit (stderr: ${err})`);
    assert.match(err, /SIGTERM, draining/);
    await assert.rejects(fetch(`${url}/health`), 'the port is closed');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await mock.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
