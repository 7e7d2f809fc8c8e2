// The built app entry (dist/app/main.js, what Electron loads) as a real process under plain
// Node, with `require('electron')` answered by a recording stand-in: the entry takes the
// single-instance lock, starts the gateway (node:sqlite ledger, keys from a real Secret
// Service), builds the tray and window, registers IPC, and on quit drains the gateway before
// exiting. Nothing in the main process may depend on Node's ABI, so this is the process that
// Electron runs, short of Electron itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, rows } from '../../proxy/ledger/fixtures/sql.js';
import { createKeychainStore } from '../../proxy/store/secrets.js';
import { runSluice } from '../cli-process.js';
import { anthropicBehavior, messageStreamEvents, startMockUpstream, streamEvents, type Behavior } from '../mock-upstream.js';
import { secretServiceUnavailable, startSecretService } from '../secret-service.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'app', 'main.js');
const noKeyring = secretServiceUnavailable();
const skipKeyring = noKeyring && process.env.CI !== 'true' ? `no Secret Service: ${noKeyring}` : false;

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
const labels = (t) => t.flatMap((m) => [m.id + '=' + (m.label ?? '') + (m.type === 'checkbox' ? (m.checked ? ' [x]' : ' [ ]') : ''), ...(m.submenu ? labels(m.submenu) : [])]);
const findItem = (t, id) => { for (const m of t) { if (m.id === id) return m; const sub = m.submenu && findItem(m.submenu, id); if (sub) return sub; } return null; };
let lastMenu = [];
class Tray {
  constructor(img) { log('tray.new', { icon: basename(img.path) }); }
  setImage(img) { log('tray.setImage', { icon: basename(img.path) }); }
  setToolTip() {}
  setContextMenu(m) { lastMenu = m.template; log('tray.menu', { items: labels(m.template) }); }
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
// "quit": the OS asks the app to quit; "click <id>": the user clicks that tray menu item.
process.stdin.on('data', (d) => {
  for (const line of d.split('\n')) {
    if (line === 'quit') app.quit();
    const click = /^click (\S+)$/.exec(line);
    if (click) {
      const item = findItem(lastMenu, click[1]);
      log('clicked', { id: click[1], found: !!(item && item.click) });
      if (item && item.click) item.click(item);
    }
  }
});
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
  /** The first event matching `pred` at index `from` or later (default: any, seen or to come). */
  waitFor(pred: (e: { ev: string; [k: string]: unknown }) => boolean, what: string, from?: number): Promise<{ ev: string; [k: string]: unknown }>;
  exited: Promise<number | null>;
  kill(): void;
}

async function runMain(dir: string, env: Record<string, string>): Promise<Run> {
  const fake = join(dir, 'fake-electron.cjs');
  await writeFile(fake, FAKE_ELECTRON);
  await writeFile(join(dir, 'hook.cjs'), HOOK(fake));
  const proc = spawn(process.execPath, ['--require', join(dir, 'hook.cjs'), MAIN], {
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
    waitFor: (pred, what, from = 0) => {
      const seen = events.slice(from).find(pred);
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

/** The gateway's URL from the tray's status line, or null while it is off. */
function statusUrl(items: string[]): string | null {
  const m = /^status=Sluice is on · (127\.0\.0\.1:\d+)$/.exec(items.find((i) => i.startsWith('status=')) ?? '');
  return m ? `http://${m[1]}` : null;
}

test('dist/app/main.js: a request reaches the upstream with the keychain key and is read back from the node:sqlite ledger; the tray toggle stops and restarts the gateway; quitting finishes an in-flight stream', { skip: skipKeyring, timeout: 90_000 }, async () => {
  const ss = await startSecretService();
  const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = ss.env.DBUS_SESSION_BUS_ADDRESS;
  const KEY = 'sk-ant-api03-KEYCHAIN-main-entry';
  // Streams asked for with the marker go slowly, so the quit below lands mid-stream.
  const slow: Behavior = async (req, res, mock) => {
    if (req.body.includes('slow-stream')) return streamEvents(req, res, messageStreamEvents({ text: 'one two three four five six seven eight nine ten' }), 60);
    return anthropicBehavior(req, res, mock);
  };
  const mock = await startMockUpstream(slow);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-main-'));
  const env = { SLUICE_PORT: '0', SLUICE_ANTHROPIC_BASE_URL: mock.url, ...ss.env };
  let run: Run | undefined;
  try {
    await createKeychainStore().set('anthropic', KEY);
    const cliEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), SLUICE_DATA_DIR: join(dir, 'data'), ...ss.env };
    const created = await runSluice(['token', 'create', 'desktop'], cliEnv);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim().split('\n').at(-1)!;
    run = await runMain(dir, env);
    const r = run;
    const menuNow = async (pred: (items: string[]) => boolean, what: string, from = 0) =>
      (await r.waitFor((e) => e.ev === 'tray.menu' && pred(e.items as string[]), what, from)).items as string[];
    const on = await menuNow((items) => statusUrl(items) !== null, 'the tray to say the gateway is on');
    const url = statusUrl(on)!;
    const ask = (base: string, body: Record<string, unknown>) => fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': token, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

    // 1. Through the gateway that main started, with the key from the keychain.
    const first = await ask(url, {});
    assert.equal(first.status, 200, await first.clone().text());
    const msg = await first.json() as { usage: { input_tokens: number } };
    assert.equal(msg.usage.input_tokens, 12);
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0]!.headers['x-api-key'], KEY, 'the upstream saw the keychain key, not the tool token');
    const ledgerPath = join(dir, 'data', 'ledger.sqlite');
    const readRows = () => {
      const db = openDb(ledgerPath, true);
      try {
        return rows(db, 'SELECT tool, status, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cost_pico, complete FROM requests ORDER BY ts_start');
      } finally {
        db.close();
      }
    };
    let stored = readRows();
    for (const until = Date.now() + 15_000; stored.length === 0 && Date.now() < until; stored = readRows()) await new Promise((res) => setTimeout(res, 50));
    assert.equal(stored.length, 1, 'the ledger row is written within its batch interval');
    assert.deepEqual({ ...stored[0], cost_pico: typeof stored[0]!.cost_pico }, {
      tool: 'desktop', status: 200, input_tokens: 12, output_tokens: 9, cache_read_tokens: 2000, cache_write_5m_tokens: 100, cost_pico: 'number', complete: 1,
    });
    assert.ok((stored[0]!.cost_pico as number) > 0);

    // 2. The tray toggle stops the gateway, and starts it again.
    let from = r.events.length;
    r.send('click toggle');
    const off = await menuNow((items) => items.includes('toggle=Proxy on [ ]') && statusUrl(items) === null && !items.some((i) => i.startsWith('status=Starting')), 'the tray to show the proxy off', from);
    assert.ok(off.some((i) => i.startsWith('status=')), off.join('\n'));
    await assert.rejects(fetch(`${url}/health`), 'the gateway stopped listening');
    from = r.events.length;
    r.send('click toggle');
    const again = await menuNow((items) => items.includes('toggle=Proxy on [x]') && statusUrl(items) !== null, 'the tray to show the proxy on again', from);
    const url2 = statusUrl(again)!;
    const second = await ask(url2, {});
    assert.equal(second.status, 200);
    await second.arrayBuffer();

    // 3. Quit while a stream is in flight: the stream finishes whole, then the process exits.
    const stream = await ask(url2, { stream: true, metadata: { user_id: 'slow-stream' } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const dec = new TextDecoder();
    let body = '';
    const firstChunk = await reader.read();
    body += dec.decode(firstChunk.value);
    assert.match(body, /message_start/);
    r.send('quit');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += dec.decode(value, { stream: true });
    }
    assert.match(body, /event: message_stop/, 'the in-flight stream ended normally');
    assert.doesNotMatch(body, /event: error/);
    assert.equal(await r.exited, 0, r.out());
    const after = readRows();
    assert.equal(after.length, 3, 'every request, the drained stream included, is in the ledger after quit');
    assert.equal(after[2]!.output_tokens, 9);
    assert.equal(after[2]!.complete, 1);
  } finally {
    run?.kill();
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
    await mock.close();
    await ss.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
