// app/main.ts as a real process under plain Node, with `require('electron')` answered by a
// recording stand-in: the entry takes the single-instance lock, starts the gateway, builds the
// tray and window, registers IPC, and on quit drains the gateway before exiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockUpstream } from '../mock-upstream.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// CommonJS, loaded by the preload hook below in place of the electron package. Each call the
// app makes is printed as `E {json}`; a "quit" line on stdin acts as the OS asking to quit.
const FAKE_ELECTRON = String.raw`
const { basename } = require('node:path');
const log = (ev, data = {}) => process.stdout.write('E ' + JSON.stringify({ ev, ...data }) + '\n');
const listeners = {};
const app = {
  requestSingleInstanceLock: () => process.env.FAKE_LOCK !== 'taken',
  whenReady: async () => {},
  quit() {
    log('app.quit');
    let prevented = false;
    for (const fn of listeners['before-quit'] ?? []) fn({ preventDefault: () => { prevented = true; } });
    if (!prevented) { log('exit'); process.exit(0); }
  },
  exit: (c) => process.exit(c),
  setName: (n) => log('app.setName', { n }),
  setPath: () => {},
  getLoginItemSettings: () => ({ openAtLogin: false }),
  setLoginItemSettings: () => {},
  on: (name, fn) => { (listeners[name] ??= []).push(fn); log('app.on', { name }); },
};
const labels = (t) => t.flatMap((m) => [m.id + '=' + (m.label ?? ''), ...(m.submenu ? labels(m.submenu) : [])]);
class Tray {
  constructor(img) { log('tray.new', { icon: basename(img.path) }); }
  setImage(img) { log('tray.setImage', { icon: basename(img.path) }); }
  setToolTip() {}
  setContextMenu(m) { log('tray.menu', { items: labels(m.template) }); }
  on() {}
  destroy() { log('tray.destroy'); }
}
class BrowserWindow {
  constructor(o) { log('window.new', { webPreferences: o.webPreferences }); this.webContents = { on() {}, setWindowOpenHandler() {}, getURL: () => '' }; }
  async loadURL(url) { log('window.loadURL', { url }); }
  show() {} focus() {} hide() {} restore() {} destroy() { log('window.destroy'); }
  isDestroyed() { return false; } isMinimized() { return false; }
  on() {}
}
class Notification { static isSupported() { return true; } constructor(o) { this.o = o; } show() { log('notification', this.o); } }
module.exports = {
  app, Tray, BrowserWindow, Notification,
  Menu: { buildFromTemplate: (template) => ({ template }) },
  nativeImage: { createFromPath: (path) => ({ path }) },
  shell: { openExternal: async () => {} },
  ipcMain: { handle: (ch) => log('ipc.handle', { ch }), removeHandler: (ch) => log('ipc.remove', { ch }) },
  session: { defaultSession: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {} } },
  dialog: { showMessageBox: async () => ({ response: 0 }) },
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { if (d.includes('quit')) app.quit(); });
`;

const HOOK = (fake: string) => String.raw`
const Module = require('node:module');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? ${JSON.stringify(fake)} : original.call(this, request, ...rest);
};
`;

interface Run {
  events: { ev: string; [k: string]: unknown }[];
  out: () => string;
  send(line: string): void;
  waitFor(pred: (e: { ev: string; [k: string]: unknown }) => boolean, what: string): Promise<{ ev: string; [k: string]: unknown }>;
  exited: Promise<number | null>;
  kill(): void;
}

async function runMain(dir: string, env: Record<string, string>): Promise<Run> {
  const fake = join(dir, 'fake-electron.cjs');
  await writeFile(fake, FAKE_ELECTRON);
  await writeFile(join(dir, 'hook.cjs'), HOOK(fake));
  const proc = spawn(process.execPath, ['--require', join(dir, 'hook.cjs'), '--import', 'tsx', join(ROOT, 'app', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), SLUICE_DATA_DIR: join(dir, 'data'), SLUICE_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: Run['events'] = [];
  let out = '';
  let pending = '';
  const waiters: { pred: (e: Run['events'][number]) => boolean; resolve: (e: Run['events'][number]) => void }[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    out += d;
    pending += d;
    let i;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (!line.startsWith('E ')) continue;
      const e = JSON.parse(line.slice(2)) as Run['events'][number];
      events.push(e);
      for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
    }
  });
  proc.stderr.on('data', (d: Buffer) => { out += d; });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    events,
    out: () => out,
    send: (line) => { proc.stdin.write(`${line}\n`); },
    waitFor: (pred, what) => {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${out}`)), 20_000);
        waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
        void exited.then((code) => { clearTimeout(timer); reject(new Error(`main exited (${code}) before ${what}:\n${out}`)); });
      });
    },
    exited,
    kill: () => { if (proc.exitCode === null) proc.kill('SIGKILL'); },
  };
}

test('main.ts: lock, gateway, tray, window and IPC; an OS quit drains the gateway, then exits', { timeout: 60_000 }, async () => {
  const mock = await startMockUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-main-'));
  const run = await runMain(dir, { SLUICE_PORT: '0', SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKE-main' });
  try {
    const load = await run.waitFor((e) => e.ev === 'window.loadURL', 'the window to load');
    const url = /^(http:\/\/127\.0\.0\.1:\d+)\/ui\/login\?code=/.exec(String(load.url));
    assert.ok(url, `the window loads a login URL, got ${String(load.url).slice(0, 60)}`);
    const health = await fetch(`${url[1]}/health`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();

    assert.ok(run.events.some((e) => e.ev === 'app.setName' && e.n === 'Sluice'));
    assert.deepEqual(run.events.filter((e) => e.ev === 'ipc.handle').map((e) => e.ch), ['sluice:admin-session', 'sluice:open-external', 'sluice:notify']);
    for (const name of ['window-all-closed', 'second-instance', 'before-quit']) {
      assert.ok(run.events.some((e) => e.ev === 'app.on' && e.name === name), `listens to ${name}`);
    }
    assert.equal(run.events.filter((e) => e.ev === 'tray.setImage').at(-1)?.icon, 'tray-on.png');
    const menu = run.events.filter((e) => e.ev === 'tray.menu').at(-1)!.items as string[];
    assert.ok(menu.includes(`status=Sluice is on · 127.0.0.1:${new URL(url[1]!).port}`), menu.join('\n'));
    const prefs = run.events.find((e) => e.ev === 'window.new')!.webPreferences as Record<string, unknown>;
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.contextIsolation, true);
    assert.match(String(prefs.preload), /app[/\\]preload\.cjs$/);

    run.send('quit');
    assert.equal(await run.exited, 0, run.out());
    const order = run.events.map((e) => e.ev);
    // The first quit is held (before-quit prevented) until the gateway is closed; then it goes through.
    assert.deepEqual(order.slice(order.indexOf('app.quit')).filter((e) => ['app.quit', 'tray.destroy', 'window.destroy', 'exit'].includes(e)),
      ['app.quit', 'tray.destroy', 'window.destroy', 'app.quit', 'exit']);
    await assert.rejects(fetch(`${url[1]}/health`), 'the gateway is closed');
  } finally {
    run.kill();
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('main.ts: a second instance quits at once without starting anything', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-main-'));
  const run = await runMain(dir, { FAKE_LOCK: 'taken', SLUICE_PORT: '0' });
  try {
    assert.equal(await run.exited, 0, run.out());
    const order = run.events.map((e) => e.ev);
    assert.deepEqual(order.filter((e) => e !== 'app.setName'), ['app.quit', 'exit']);
  } finally {
    run.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
