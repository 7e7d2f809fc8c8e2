// Main-process wiring through a recording fake of the Electron facade, with the REAL gateway
// (and the real admin extension and tool adapters) underneath; only the upstream is a mock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../proxy/log.js';
import { createMemorySecretStore } from '../proxy/store/secrets.js';
import { openSettings } from '../proxy/store/settings.js';
import { ProfilesSettingsSchema } from '../proxy/profiles/index.js';
import { messageJson, sendJson, startMockUpstream, type MockUpstream } from '../test/mock-upstream.js';
import { loadAdminExtension } from './admin-adapter.js';
import { createTrayApp, type TrayApp } from './tray-app.js';
import { HIDDEN_FLAG } from './autostart.js';
import type {
  BrowserWindowOptions, ElectronFacade, IpcMainInvokeEvent, LoginItemSettingsInput, MenuItemOptions, MessageBoxOptions,
  NotificationOptions, PreventableEvent, WindowOpenDetails,
} from './electron-facade.js';

const PROVIDER_KEY = 'sk-ant-api03-FAKE-tray';

interface FakeWindow {
  options: BrowserWindowOptions;
  loaded: string[];
  shown: number;
  hidden: number;
  destroyed: boolean;
  listeners: Map<string, (e?: PreventableEvent, url?: string) => void>;
  webListeners: Map<string, (e: PreventableEvent, url?: string) => void>;
  openHandler: ((d: WindowOpenDetails) => { action: 'deny' }) | null;
  /** Fires 'close' as the user clicking the close button does; true when it was prevented. */
  close(): boolean;
}

/** A fake Electron that records what the app asked of it; dialogs answer from a script. */
function fakeElectron() {
  const rec = {
    trayImages: [] as string[],
    tooltips: [] as string[],
    menus: [] as MenuItemOptions[][],
    trayDestroyed: false,
    windows: [] as FakeWindow[],
    notifications: [] as NotificationOptions[],
    external: [] as string[],
    ipc: new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>(),
    headersListener: null as null | ((d: { url: string; responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void),
    permissionHandler: null as null | ((wc: unknown, p: string, cb: (g: boolean) => void) => void),
    dialogs: [] as MessageBoxOptions[],
    dialogAnswers: [] as number[],
    quitCalls: 0,
    loginItems: [] as LoginItemSettingsInput[],
  };
  class Tray {
    constructor(image: { path: string }) { rec.trayImages.push(image.path); }
    setImage(image: { path: string }) { rec.trayImages.push(image.path); }
    setToolTip(t: string) { rec.tooltips.push(t); }
    setContextMenu(m: { template: MenuItemOptions[] }) { rec.menus.push(m.template); }
    on() {}
    destroy() { rec.trayDestroyed = true; }
  }
  class BrowserWindow {
    w: FakeWindow;
    webContents: unknown;
    constructor(options: BrowserWindowOptions) {
      const w: FakeWindow = {
        options, loaded: [], shown: 0, hidden: 0, destroyed: false, listeners: new Map(), webListeners: new Map(), openHandler: null,
        close: () => {
          let prevented = false;
          w.listeners.get('close')!({ preventDefault: () => { prevented = true; } });
          return prevented;
        },
      };
      this.w = w;
      rec.windows.push(w);
      this.webContents = {
        on: (name: string, fn: (e: PreventableEvent, url?: string) => void) => { w.webListeners.set(name, fn); },
        setWindowOpenHandler: (h: (d: WindowOpenDetails) => { action: 'deny' }) => { w.openHandler = h; },
        getURL: () => w.loaded.at(-1) ?? '',
      };
    }
    async loadURL(url: string) { this.w.loaded.push(url); }
    show() { this.w.shown++; }
    focus() {}
    hide() { this.w.hidden++; }
    isDestroyed() { return this.w.destroyed; }
    isMinimized() { return false; }
    restore() {}
    destroy() { this.w.destroyed = true; }
    on(name: string, fn: (e?: PreventableEvent) => void) { this.w.listeners.set(name, fn); }
  }
  class Notification {
    static isSupported() { return true; }
    constructor(private o: NotificationOptions) {}
    show() { rec.notifications.push(this.o); }
  }
  let openAtLogin = false;
  const electron = {
    app: {
      requestSingleInstanceLock: () => true,
      whenReady: async () => {},
      quit: () => { rec.quitCalls++; },
      exit: () => {},
      setName: () => {},
      setPath: () => {},
      getLoginItemSettings: () => ({ openAtLogin }),
      setLoginItemSettings: (s: LoginItemSettingsInput) => { rec.loginItems.push(s); openAtLogin = s.openAtLogin; },
      on: () => {},
    },
    Tray,
    Menu: { buildFromTemplate: (template: MenuItemOptions[]) => ({ template }) },
    BrowserWindow,
    Notification,
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    shell: { openExternal: async (url: string) => { rec.external.push(url); } },
    ipcMain: {
      handle: (ch: string, fn: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) => { rec.ipc.set(ch, fn); },
      removeHandler: (ch: string) => { rec.ipc.delete(ch); },
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (l: typeof rec.headersListener) => { rec.headersListener = l; } },
        setPermissionRequestHandler: (h: typeof rec.permissionHandler) => { rec.permissionHandler = h; },
      },
    },
    dialog: {
      showMessageBox: async (o: MessageBoxOptions) => {
        rec.dialogs.push(o);
        return { response: rec.dialogAnswers.shift() ?? (o.cancelId ?? 0) };
      },
    },
  } as unknown as ElectronFacade;
  return { electron, rec };
}

const lastMenu = (rec: ReturnType<typeof fakeElectron>['rec']) => rec.menus.at(-1)!;
function item(menu: MenuItemOptions[], id: string): MenuItemOptions | undefined {
  for (const m of menu) {
    if (m.id === id) return m;
    const s = m.submenu ? item(m.submenu, id) : undefined;
    if (s) return s;
  }
  return undefined;
}
const lastIcon = (rec: ReturnType<typeof fakeElectron>['rec']) => rec.trayImages.at(-1)!.split('/').at(-1);

async function listening(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health`);
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

interface Harness {
  app: TrayApp;
  rec: ReturnType<typeof fakeElectron>['rec'];
  home: string;
  dataDir: string;
  mock: MockUpstream;
  cleanup(): Promise<void>;
}

async function harness(o: { port?: number; prepare?: (dataDir: string, home: string) => Promise<void>; withAdmin?: boolean; env?: Record<string, string> } = {}): Promise<Harness> {
  const mock = await startMockUpstream();
  const root = await mkdtemp(join(tmpdir(), 'sluice-tray-'));
  const home = join(root, 'home');
  const dataDir = join(root, 'data');
  await mkdir(join(home, '.claude'), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  await o.prepare?.(dataDir, home);
  const { electron, rec } = fakeElectron();
  const app = createTrayApp({
    electron,
    dataDir,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY, PATH: '', ...o.env },
    platform: 'linux',
    home,
    secrets: createMemorySecretStore(),
    logger: createLogger({ level: 'silent' }),
    paths: { preload: '/app/dist/app/preload.cjs', trayIcons: '/app/build/tray' },
    launchCommand: ['/opt/Sluice/sluice', HIDDEN_FLAG],
    loadAdmin: o.withAdmin === false ? async () => ({ ok: false, reason: 'test without the dashboard' }) : () => loadAdminExtension(),
    port: o.port ?? 0,
    refreshMs: 0,
  });
  return {
    app, rec, home, dataDir, mock,
    async cleanup() {
      await app.quit();
      await mock.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

const frameAt = (url: string): IpcMainInvokeEvent => ({ senderFrame: { url, parent: null } });

test('start: gateway listening, tray on with port and spend, secure window on the login URL, IPC guarded', async () => {
  const h = await harness();
  try {
    await h.app.start();
    const gw = h.app.gateway()!;
    assert.ok(gw, 'gateway started');
    assert.equal(await listening(gw.url), true);
    assert.equal(lastIcon(h.rec), 'tray-on.png');
    const menu = lastMenu(h.rec);
    assert.equal(item(menu, 'status')!.label, `Sluice is on · 127.0.0.1:${gw.port}`);
    assert.equal(item(menu, 'spend')!.label, 'Today: $0.00');
    assert.equal(item(menu, 'toggle')!.checked, true);
    assert.equal(item(menu, 'autostart')!.checked, false);
    assert.equal(item(menu, 'tool-claude-code')!.label, 'Claude Code (CLI) — not set up');
    assert.equal(h.rec.tooltips.at(-1), `Sluice is on · 127.0.0.1:${gw.port}\nToday: $0.00`);

    // The window: secure options; it loads a one-time login URL of this gateway.
    assert.equal(h.rec.windows.length, 1);
    const w = h.rec.windows[0]!;
    assert.equal(w.options.webPreferences.contextIsolation, true);
    assert.equal(w.options.webPreferences.sandbox, true);
    assert.equal(w.options.webPreferences.nodeIntegration, false);
    assert.equal(w.options.webPreferences.preload, '/app/dist/app/preload.cjs');
    assert.match(w.loaded.at(-1)!, new RegExp(`^${gw.url.replace(/\./g, '\\.')}/ui/login\\?code=`));
    // The login URL really signs the window in: a 303 to /ui/ with the session cookie.
    const login = await fetch(w.loaded.at(-1)!, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/ui/');
    assert.match(login.headers.get('set-cookie') ?? '', /^sluice_admin=/);
    w.listeners.get('ready-to-show')!();
    assert.equal(w.shown, 1);

    // Navigation guards are attached: off-origin goes to the browser, never into the window.
    let prevented = false;
    w.webListeners.get('will-navigate')!({ preventDefault: () => { prevented = true; } }, 'https://docs.anthropic.com/');
    assert.equal(prevented, true);
    assert.deepEqual(w.openHandler!({ url: 'https://github.com/' }), { action: 'deny' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.rec.external, ['https://docs.anthropic.com/', 'https://github.com/']);

    // CSP is added to responses; permissions are refused.
    let headers: Record<string, string[]> | undefined;
    h.rec.headersListener!({ url: `${gw.url}/ui/`, responseHeaders: { 'content-type': ['text/html'] } }, (r) => { headers = r.responseHeaders; });
    assert.match(headers!['Content-Security-Policy']![0]!, /script-src 'self'/);
    let granted: boolean | undefined;
    h.rec.permissionHandler!(null, 'media', (g) => { granted = g; });
    assert.equal(granted, false);

    // IPC: the gateway page gets the admin session; any other sender is refused.
    const session = await h.rec.ipc.get('sluice:admin-session')!(frameAt(`${gw.url}/ui/`)) as { url: string; token: string };
    assert.equal(session.url, `${gw.url}/ui/`);
    const status = await fetch(`${gw.url}/admin/api/status`, { headers: { authorization: `Bearer ${session.token}` } });
    assert.equal(status.status, 200, 'the bridged token is the admin token');
    await status.arrayBuffer();
    assert.throws(() => h.rec.ipc.get('sluice:admin-session')!(frameAt('https://evil.example/')), /refused/);
    assert.equal(await h.rec.ipc.get('sluice:open-external')!(frameAt(`${gw.url}/ui/`), 'file:///etc/passwd'), false);
    assert.equal(await h.rec.ipc.get('sluice:open-external')!(frameAt(`${gw.url}/ui/`), 'https://example.com/'), true);
    assert.equal(h.rec.external.at(-1), 'https://example.com/');
    assert.equal(await h.rec.ipc.get('sluice:notify')!(frameAt(`${gw.url}/ui/`), { title: 'From the window', body: 'hello' }), true);
    assert.deepEqual(h.rec.notifications.at(-1), { title: 'From the window', body: 'hello' });

    // Closing the window keeps the app in the tray.
    assert.equal(w.close(), true);
    assert.equal(w.hidden, 1);
    assert.equal(h.rec.quitCalls, 0);
    await h.app.openWindow();
    assert.equal(h.rec.windows.length, 1, 'the same window comes back');
    assert.equal(w.shown, 2);
  } finally {
    await h.cleanup();
  }
});

test('a proxied request shows in today’s spend; alerts notify and set the breaker state', async () => {
  const h = await harness();
  try {
    await h.app.start();
    const gw = h.app.gateway()!;
    const { token } = await gw.tokens.create('test-tool');
    const r = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    await h.app.refresh();
    // Mock usage: 12 in, 100 5m-write, 2000 read, 9 out at Sonnet 4.5 prices ($3 / $3.75 / $0.30 / $15
    // per million) = (36 + 375 + 600 + 135) / 1e6 = $0.001146.
    assert.equal(item(lastMenu(h.rec), 'spend')!.label, 'Today: <$0.01');
    assert.equal(h.app.view().spend!.costUsd, 0.001146);
    assert.equal(h.app.view().spend!.billedRequests, 1);

    gw.events.emit('alert', { kind: 'budget', level: 'warning', message: 'Daily budget at 80% ($4.00 of $5.00)', ts: Date.now() });
    assert.deepEqual(h.rec.notifications.at(-1), { title: 'Sluice: budget alert', body: 'Daily budget at 80% ($4.00 of $5.00)' });
    assert.match(item(lastMenu(h.rec), 'alert-0')!.label ?? '', /Budget: Daily budget at 80%/);
    const before = h.rec.notifications.length;
    gw.events.emit('alert', { kind: 'budget', level: 'warning', message: 'Daily budget at 80% ($4.00 of $5.00)', ts: Date.now() });
    assert.equal(h.rec.notifications.length, before, 'the same alert again within a minute is not re-notified');
    assert.equal(item(lastMenu(h.rec), 'alerts')!.label, 'Recent alerts (2)');

    gw.events.emit('alert', { kind: 'breaker', level: 'critical', message: 'Anthropic circuit open', ts: Date.now(), data: { state: 'open' } });
    assert.equal(lastIcon(h.rec), 'tray-degraded.png');
    assert.equal(h.rec.notifications.at(-1)!.title, 'Sluice: upstream circuit open');
    assert.equal(item(lastMenu(h.rec), 'status')!.label, `Degraded: circuit breaker open · 127.0.0.1:${gw.port}`);
    gw.events.emit('alert', { kind: 'breaker', level: 'info', message: 'Anthropic circuit closed', ts: Date.now(), data: { state: 'closed' } });
    assert.equal(lastIcon(h.rec), 'tray-on.png');

    gw.events.emit('alert', { kind: 'fallback', level: 'info', message: 'answered by claude-sonnet-4-5', ts: Date.now() });
    assert.equal(h.rec.notifications.at(-1)!.title, 'Sluice: using a fallback');
  } finally {
    await h.cleanup();
  }
});

test('the tray shows the subscription windows Anthropic reported on relayed OAuth traffic ("5h 42% · 7d 27%"), and updates with the next response', async () => {
  const h = await harness();
  try {
    await h.app.start();
    const gw = h.app.gateway()!;
    const inFuture = (hours: number) => String(Math.floor(Date.now() / 1000) + hours * 3600);
    const unified = (five: string, seven: string) => ({
      'anthropic-ratelimit-unified-status': 'allowed',
      'anthropic-ratelimit-unified-5h-utilization': five,
      'anthropic-ratelimit-unified-5h-reset': inFuture(3),
      'anthropic-ratelimit-unified-7d-utilization': seven,
      'anthropic-ratelimit-unified-7d-reset': inFuture(100),
    });
    let headers = unified('0.42', '0.274');
    h.mock.setBehavior((req, res) => sendJson(req, res, 200, messageJson({}), headers));
    const ask = async () => {
      const r = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-ant-oat01-FAKE-tray-oauth', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: JSON.stringify({ device_id: 'd', account_uuid: 'acct-tray-1', session_id: 's' }) } }),
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('anthropic-ratelimit-unified-5h-utilization'), headers['anthropic-ratelimit-unified-5h-utilization'], 'the client gets the headers unchanged');
      await r.arrayBuffer();
    };
    // Before any subscription traffic: no line.
    await h.app.refresh();
    assert.equal(item(lastMenu(h.rec), 'usage'), undefined);
    await ask();
    await h.app.refresh();
    assert.equal(item(lastMenu(h.rec), 'usage')!.label, '5h 42% · 7d 27%');
    assert.equal(item(lastMenu(h.rec), 'usage')!.enabled, false);
    headers = unified('0.5', '0.31');
    await ask();
    await h.app.refresh();
    assert.equal(item(lastMenu(h.rec), 'usage')!.label, '5h 50% · 7d 31%');
  } finally {
    await h.cleanup();
  }
});

test('toggle off restores configured tools (after asking), closes the gateway; toggle on re-applies them', async () => {
  const h = await harness();
  try {
    await h.app.start();
    const gw1 = h.app.gateway()!;
    const settingsFile = join(h.home, '.claude', 'settings.json');

    // Configure Claude Code from the tray.
    item(lastMenu(h.rec), 'tool-claude-code-configure')!.click!();
    await h.app.refresh();
    const applied = JSON.parse(await readFile(settingsFile, 'utf8')) as { env: Record<string, string> };
    assert.equal(applied.env.ANTHROPIC_BASE_URL, gw1.url);
    assert.match(applied.env.ANTHROPIC_AUTH_TOKEN!, /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(h.rec.notifications.at(-1)!.title, 'Claude Code (CLI) uses Sluice');
    assert.equal(item(lastMenu(h.rec), 'tool-claude-code')!.label, 'Claude Code (CLI) — uses Sluice');

    // Toggle off: the dialog names the tool; choose "Restore their settings".
    h.rec.dialogAnswers.push(0);
    item(lastMenu(h.rec), 'toggle')!.click!();
    await h.app.refresh();
    assert.equal(h.rec.dialogs.length, 1);
    assert.equal(h.rec.dialogs[0]!.message, 'Claude Code (CLI) is set up to use Sluice and cannot reach the API while it is off.');
    assert.equal(h.app.gateway(), null);
    assert.equal(await listening(gw1.url), false, 'the port is closed');
    assert.equal(lastIcon(h.rec), 'tray-off.png');
    assert.equal(item(lastMenu(h.rec), 'toggle')!.checked, false);
    assert.equal(item(lastMenu(h.rec), 'status')!.label, 'Sluice is off');
    // Sluice created the settings file, so restoring means it is gone again.
    await assert.rejects(stat(settingsFile), { code: 'ENOENT' });
    assert.deepEqual(JSON.parse(await readFile(join(h.dataDir, 'app-state.json'), 'utf8')), { version: 1, proxyEnabled: false, suspendedTools: ['claude-code'] });
    const offPage = decodeURIComponent(h.rec.windows[0]!.loaded.at(-1)!);
    assert.match(offPage, /^data:text\/html/);
    assert.match(offPage, /Sluice is off/);
    // With the gateway off, the old page's origin is no longer trusted over IPC.
    assert.throws(() => h.rec.ipc.get('sluice:admin-session')!(frameAt(`${gw1.url}/ui/`)), /not running/);

    // Toggle on: a gateway listens again and Claude Code points at it again.
    item(lastMenu(h.rec), 'toggle')!.click!();
    await h.app.refresh();
    const gw2 = h.app.gateway()!;
    assert.ok(gw2);
    assert.equal(await listening(gw2.url), true);
    assert.equal(lastIcon(h.rec), 'tray-on.png');
    const reapplied = JSON.parse(await readFile(settingsFile, 'utf8')) as { env: Record<string, string> };
    assert.equal(reapplied.env.ANTHROPIC_BASE_URL, gw2.url);
    assert.equal(reapplied.env.ANTHROPIC_AUTH_TOKEN, applied.env.ANTHROPIC_AUTH_TOKEN, 'the kept token is reused');
    assert.deepEqual(JSON.parse(await readFile(join(h.dataDir, 'app-state.json'), 'utf8')), { version: 1, proxyEnabled: true, suspendedTools: [] });
    assert.deepEqual(h.rec.notifications.at(-1), { title: 'Sluice is on', body: 'Claude Code (CLI) uses Sluice again.' });
    assert.match(h.rec.windows[0]!.loaded.at(-1)!, new RegExp(`^${gw2.url.replace(/\./g, '\\.')}/ui/login\\?code=`));
    // The reused token authenticates against the new gateway.
    const r = await fetch(`${gw2.url}/v1/models`, { headers: { 'x-api-key': reapplied.env.ANTHROPIC_AUTH_TOKEN!, 'anthropic-version': '2023-06-01' } });
    assert.equal(r.status, 200);
    await r.arrayBuffer();

    // Undo from the tray restores and revokes the tool's token.
    item(lastMenu(h.rec), 'tool-claude-code-undo')!.click!();
    await h.app.refresh();
    await assert.rejects(stat(settingsFile), { code: 'ENOENT' });
    const revoked = await fetch(`${gw2.url}/v1/models`, { headers: { 'x-api-key': reapplied.env.ANTHROPIC_AUTH_TOKEN!, 'anthropic-version': '2023-06-01' } });
    assert.equal(revoked.status, 401);
    await revoked.arrayBuffer();
  } finally {
    await h.cleanup();
  }
});

test('toggle off: "Cancel" stays on; "Leave" turns off without touching the tools', async () => {
  const h = await harness({ withAdmin: false });
  try {
    await h.app.start();
    await h.app.dispatch({ type: 'configure-tool', tool: 'claude-code' });
    const settingsFile = join(h.home, '.claude', 'settings.json');
    const before = await readFile(settingsFile, 'utf8');

    h.rec.dialogAnswers.push(2);
    await h.app.toggle();
    assert.ok(h.app.gateway(), 'cancel keeps the gateway running');
    assert.equal(await listening(h.app.gateway()!.url), true);
    assert.equal(item(lastMenu(h.rec), 'toggle')!.checked, true);

    h.rec.dialogAnswers.push(1);
    await h.app.toggle();
    assert.equal(h.app.gateway(), null);
    assert.equal(await readFile(settingsFile, 'utf8'), before, 'left pointing at Sluice, as chosen');
    assert.deepEqual(JSON.parse(await readFile(join(h.dataDir, 'app-state.json'), 'utf8')).suspendedTools, []);
    // Without the dashboard the window says why instead of loading a 404.
    await h.app.toggle();
    assert.match(decodeURIComponent(h.rec.windows[0]!.loaded.at(-1)!), /The dashboard is not available.*test without the dashboard/s);
  } finally {
    await h.cleanup();
  }
});

test('no tools configured: toggle off asks nothing', async () => {
  const h = await harness();
  try {
    await h.app.start();
    await h.app.toggle();
    assert.equal(h.rec.dialogs.length, 0);
    assert.equal(h.app.gateway(), null);
  } finally {
    await h.cleanup();
  }
});

test('starts off when the user left it off; tray shows off and no gateway listens', async () => {
  const h = await harness({
    prepare: async (dataDir) => {
      const { saveAppState } = await import('./app-state.js');
      await saveAppState(dataDir, { version: 1, proxyEnabled: false, suspendedTools: [] });
    },
  });
  try {
    await h.app.start();
    assert.equal(h.app.gateway(), null);
    assert.equal(lastIcon(h.rec), 'tray-off.png');
    assert.equal(item(lastMenu(h.rec), 'spend'), undefined);
    assert.match(decodeURIComponent(h.rec.windows[0]!.loaded.at(-1)!), /Sluice is off/);
  } finally {
    await h.cleanup();
  }
});

test('a port already in use: tray in error state saying why', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const h = await harness({ port });
  try {
    await h.app.start();
    assert.equal(h.app.gateway(), null);
    assert.equal(lastIcon(h.rec), 'tray-error.png');
    assert.equal(item(lastMenu(h.rec), 'status')!.label, 'Sluice could not start: the port is in use (another Sluice may be running)');
    assert.match(decodeURIComponent(h.rec.windows[0]!.loaded.at(-1)!), /Sluice could not start/);
  } finally {
    await h.cleanup();
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('start at login from the tray writes the autostart file (Linux)', async () => {
  const h = await harness();
  try {
    await h.app.start();
    item(lastMenu(h.rec), 'autostart')!.click!();
    await h.app.refresh();
    const text = await readFile(join(h.home, '.config', 'autostart', 'sluice.desktop'), 'utf8');
    assert.match(text, /\nExec=\/opt\/Sluice\/sluice --hidden\n/);
    assert.equal(item(lastMenu(h.rec), 'autostart')!.checked, true);
    item(lastMenu(h.rec), 'autostart')!.click!();
    await h.app.refresh();
    await assert.rejects(stat(join(h.home, '.config', 'autostart', 'sluice.desktop')), { code: 'ENOENT' });
    assert.equal(item(lastMenu(h.rec), 'autostart')!.checked, false);
  } finally {
    await h.cleanup();
  }
});

test('quit closes the gateway, removes IPC handlers and the tray, then quits the app', async () => {
  const h = await harness();
  try {
    await h.app.start();
    const url = h.app.gateway()!.url;
    const w = h.rec.windows[0]!;
    // A quit from the OS (before-quit) is held until the gateway has drained.
    let held = false;
    h.app.onBeforeQuit({ preventDefault: () => { held = true; } });
    assert.equal(held, true);
    await h.app.quit();
    assert.equal(await listening(url), false);
    assert.equal(h.app.gateway(), null);
    assert.equal(h.rec.quitCalls, 1);
    assert.equal(h.rec.trayDestroyed, true);
    assert.equal(h.rec.ipc.size, 0);
    assert.equal(w.destroyed, true);
    let heldAgain = false;
    h.app.onBeforeQuit({ preventDefault: () => { heldAgain = true; } });
    assert.equal(heldAgain, false, 'once shut down, the quit goes through');
  } finally {
    await h.cleanup();
  }
});

test('profiles from the tray: switching under concurrent load never mixes two profiles; the choice survives a restart', async () => {
  const alpha = await startMockUpstream();
  const beta = await startMockUpstream();
  const env = { SLUICE_ALPHA_API_KEY: 'alpha-key-FAKE', SLUICE_BETA_API_KEY: 'beta-key-FAKE' };
  // Each profile routes everything to its own provider and model: a request routed by half of
  // one and half of the other would reach one mock with the other's model.
  const profile = (provider: string, url: string) => ({
    description: `everything on ${provider}`,
    providers: { [provider]: { type: 'anthropic-compatible', baseUrl: url, discoverModels: false } },
    routing: { rules: [{ name: 'all', match: {}, target: { provider, model: `model-${provider}` } }] },
  });
  const seed = async (dataDir: string) => {
    const st = await openSettings(dataDir);
    await st.update((s) => { s.profiles.list = ProfilesSettingsSchema.parse({ list: { Alpha: profile('alpha', alpha.url), Beta: profile('beta', beta.url) } }).list; });
  };
  const h = await harness({ env, prepare: seed });
  let h2: Harness | null = null;
  try {
    await h.app.start();
    const gw = h.app.gateway()!;
    const profiles = () => item(lastMenu(h.rec), 'profiles')!;
    assert.equal(profiles().label, 'Profiles');
    assert.deepEqual(profiles().submenu!.map((m) => [m.label, m.checked]), [['Alpha', false], ['Beta', false]]);
    await h.app.dispatch({ type: 'use-profile', name: 'Alpha' });
    assert.equal(profiles().label, 'Profile: Alpha');
    assert.deepEqual(h.rec.notifications.at(-1), { title: 'Sluice: profile switched', body: '“Alpha” is active. The next request uses it.' });

    const { token } = await gw.tokens.create('load');
    let stop = false;
    let sent = 0;
    const worker = async () => {
      while (!stop) {
        const r = await fetch(`${gw.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
        });
        assert.equal(r.status, 200, await r.text());
        sent++;
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // Switch back and forth through the tray while the requests run, each switch after some of them.
    for (let i = 0; i < 10; i++) {
      const before = sent;
      while (sent < before + 5) await new Promise((r) => setImmediate(r));
      const name = i % 2 === 0 ? 'Beta' : 'Alpha';
      const click = item(lastMenu(h.rec), `profile-${name}`)!.click as () => void;
      click();
      await h.app.refresh();
      while (gw.settings.get().profiles.active !== name) await new Promise((r) => setImmediate(r));
    }
    stop = true;
    await Promise.all(workers);
    const models = (m: MockUpstream) => new Set(m.requests.map((r) => JSON.parse(r.body.toString()).model));
    assert.ok(alpha.requests.length > 0 && beta.requests.length > 0, 'both profiles routed requests');
    assert.deepEqual(models(alpha), new Set(['model-alpha']), 'alpha only ever got the Alpha profile\'s model');
    assert.deepEqual(models(beta), new Set(['model-beta']), 'beta only ever got the Beta profile\'s model');
    assert.equal(alpha.requests.length + beta.requests.length, sent);
    assert.equal(h.mock.requests.length, 0, 'no request fell through to the default provider');
    // Last switch (i = 9) was to Alpha.
    assert.deepEqual(profiles().submenu!.map((m) => [m.label, m.checked]), [['Alpha', true], ['Beta', false]]);
    await h.app.dispatch({ type: 'use-profile', name: 'Beta' });
    await h.app.quit();

    // A new app on the same settings: Beta is still checked and still routes.
    const saved = await readFile(join(h.dataDir, 'settings.json'), 'utf8');
    h2 = await harness({ env, prepare: async (dataDir) => { await writeFile(join(dataDir, 'settings.json'), saved); } });
    await h2.app.start();
    assert.equal(item(lastMenu(h2.rec), 'profiles')!.label, 'Profile: Beta');
    assert.equal(item(lastMenu(h2.rec), 'profile-Beta')!.checked, true);
    const gw2 = h2.app.gateway()!;
    const t2 = (await gw2.tokens.create('after-restart')).token;
    const betaBefore = beta.requests.length;
    const r = await fetch(`${gw2.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': t2, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.equal(beta.requests.length, betaBefore + 1);
    assert.equal(JSON.parse(beta.requests.at(-1)!.body.toString()).model, 'model-beta');
    // Settings never held a key, so neither do the profiles.
    assert.ok(!saved.includes('alpha-key-FAKE') && !saved.includes('beta-key-FAKE'));
  } finally {
    await h.cleanup();
    await h2?.cleanup();
    await alpha.close();
    await beta.close();
  }
});

test('profiles: a switch made outside the tray (the admin API, as the window and the CLI use) notifies and re-checks the menu; the tray\'s own does not notify twice', async () => {
  const profile = (provider: string) => ({ providers: { [provider]: { type: 'anthropic-compatible', baseUrl: 'http://127.0.0.1:9', discoverModels: false } }, routing: { rules: [{ name: 'all', match: {}, target: { provider, model: `model-${provider}` } }] } });
  const h = await harness({
    env: { SLUICE_ALPHA_API_KEY: 'alpha-key-FAKE', SLUICE_BETA_API_KEY: 'beta-key-FAKE' },
    prepare: async (dataDir) => {
      const st = await openSettings(dataDir);
      await st.update((s) => { s.profiles.list = ProfilesSettingsSchema.parse({ list: { Alpha: profile('alpha'), Beta: profile('beta') } }).list; });
    },
  });
  try {
    await h.app.start();
    const gw = h.app.gateway()!;
    await h.app.dispatch({ type: 'use-profile', name: 'Alpha' });
    const switched = () => h.rec.notifications.filter((n) => n.title === 'Sluice: profile switched');
    assert.equal(switched().length, 1, 'the tray\'s own switch notifies once');
    const rt = JSON.parse(await readFile(join(h.dataDir, 'admin.json'), 'utf8')) as { token: string };
    const r = await fetch(`${gw.url}/admin/api/profiles/active`, {
      method: 'POST', headers: { authorization: `Bearer ${rt.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Beta' }),
    });
    assert.equal(r.status, 200, await r.text());
    assert.deepEqual(switched().at(-1), { title: 'Sluice: profile switched', body: '“Beta” is active (switched outside the tray menu). The next request uses it.' });
    assert.equal(switched().length, 2);
    assert.equal(item(lastMenu(h.rec), 'profiles')!.label, 'Profile: Beta', 'the menu follows without a refresh');
    assert.equal(item(lastMenu(h.rec), 'profile-Beta')!.checked, true);
  } finally {
    await h.cleanup();
  }
});
