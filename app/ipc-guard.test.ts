// Tests for IPC sender validation and the one IPC entry point (registerIpc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSender, IpcRefusedError, registerIpc } from './ipc-guard.js';
import { IPC_ARGS, type IpcHandlers } from './ipc-contract.js';
import type { IpcMainApi, IpcMainInvokeEvent, SenderFrame } from './electron-facade.js';

const GW = 'http://127.0.0.1:7420';
const top = (url: string): SenderFrame => ({ url, parent: null });
const ev = (frame: SenderFrame | null): IpcMainInvokeEvent => ({ senderFrame: frame });

test('checkSender accepts only the top frame of a gateway page', () => {
  assert.deepEqual(checkSender(ev(top(`${GW}/ui/`)), GW), { ok: true });
  assert.deepEqual(checkSender(ev(top(`${GW}/ui/#/sessions?x=1`)), GW), { ok: true });
  const refused: [IpcMainInvokeEvent, string | null, RegExp][] = [
    [ev(null), GW, /frame is gone/],
    [ev({ url: `${GW}/ui/`, parent: top(`${GW}/ui/`) }), GW, /subframe/],
    [ev(top(`${GW}/ui/`)), null, /not running/],
    [ev(top('http://127.0.0.1:7421/ui/')), GW, /origin http:\/\/127\.0\.0\.1:7421/],
    [ev(top('http://localhost:7420/ui/')), GW, /origin http:\/\/localhost:7420/],
    [ev(top('https://127.0.0.1:7420/ui/')), GW, /origin https:/],
    [ev(top('https://evil.example/ui/')), GW, /evil\.example/],
    [ev(top('data:text/html,hi')), GW, /origin null/],
    [ev(top('file:///etc/passwd')), GW, /origin null/],
    [ev(top('about:blank')), GW, /origin null/],
    [ev(top('not a url')), GW, /no valid URL/],
  ];
  for (const [e, origin, why] of refused) {
    const v = checkSender(e, origin);
    assert.equal(v.ok, false, `${e.senderFrame?.url} should be refused`);
    assert.match((v as { reason: string }).reason, why);
  }
});

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
  const api: IpcMainApi = {
    handle: (ch, fn) => {
      if (handlers.has(ch)) throw new Error(`second handler for ${ch}`);
      handlers.set(ch, fn);
    },
    removeHandler: (ch) => { handlers.delete(ch); },
  };
  return { api, handlers };
}

function recordingHandlers() {
  const calls: { channel: string; args: unknown[] }[] = [];
  const handlers = {
    'sluice:admin-session': () => { calls.push({ channel: 'sluice:admin-session', args: [] }); return { url: `${GW}/ui/`, token: 'test-admin-token' }; },
    'sluice:open-external': (url) => { calls.push({ channel: 'sluice:open-external', args: [url] }); return true; },
    'sluice:notify': (n) => { calls.push({ channel: 'sluice:notify', args: [n] }); return true; },
  } satisfies IpcHandlers;
  return { calls, handlers };
}

test('registerIpc registers every contract channel and removes them all', () => {
  const ipc = fakeIpcMain();
  const { handlers } = recordingHandlers();
  const off = registerIpc({ ipcMain: ipc.api, handlers, gatewayOrigin: () => GW });
  assert.deepEqual([...ipc.handlers.keys()].sort(), Object.keys(IPC_ARGS).sort());
  off();
  assert.equal(ipc.handlers.size, 0);
});

test('registerIpc runs handlers for the gateway page and drops everything else before the handler', async () => {
  const ipc = fakeIpcMain();
  const { calls, handlers } = recordingHandlers();
  const drops: [string, string][] = [];
  let origin: string | null = GW;
  registerIpc({ ipcMain: ipc.api, handlers, gatewayOrigin: () => origin, onDrop: (c, r) => drops.push([c, r]) });
  const invoke = (ch: string, frame: SenderFrame | null, ...args: unknown[]) => ipc.handlers.get(ch)!(ev(frame), ...args);

  assert.deepEqual(await invoke('sluice:admin-session', top(`${GW}/ui/`)), { url: `${GW}/ui/`, token: 'test-admin-token' });
  assert.equal(await invoke('sluice:open-external', top(`${GW}/ui/`), 'https://docs.anthropic.com/'), true);
  assert.equal(await invoke('sluice:notify', top(`${GW}/ui/`), { title: 'Hi', body: 'there' }), true);
  assert.deepEqual(calls.map((c) => c.channel), ['sluice:admin-session', 'sluice:open-external', 'sluice:notify']);

  assert.throws(() => invoke('sluice:admin-session', top('https://evil.example/')), IpcRefusedError);
  assert.throws(() => invoke('sluice:notify', { url: `${GW}/ui/`, parent: top(`${GW}/ui/`) }, { title: 'x', body: 'y' }), /subframe/);
  origin = null;
  assert.throws(() => invoke('sluice:admin-session', top(`${GW}/ui/`)), /not running/);
  origin = GW;
  // Arguments that break the contract never reach a handler.
  assert.throws(() => invoke('sluice:open-external', top(`${GW}/ui/`), 42), /invalid arguments/);
  assert.throws(() => invoke('sluice:open-external', top(`${GW}/ui/`), 'https://a.example/', 'extra'), /invalid arguments/);
  assert.throws(() => invoke('sluice:notify', top(`${GW}/ui/`), { title: '', body: 'x' }), /invalid arguments/);
  assert.throws(() => invoke('sluice:notify', top(`${GW}/ui/`), { title: 'x', body: 'y', icon: '/etc/passwd' }), /invalid arguments/);
  assert.throws(() => invoke('sluice:admin-session', top(`${GW}/ui/`), 'unexpected'), /invalid arguments/);
  assert.equal(calls.length, 3, 'no refused message reached a handler');
  assert.deepEqual(drops.map((d) => d[0]), [
    'sluice:admin-session', 'sluice:notify', 'sluice:admin-session',
    'sluice:open-external', 'sluice:open-external', 'sluice:notify', 'sluice:notify', 'sluice:admin-session',
  ]);
});
