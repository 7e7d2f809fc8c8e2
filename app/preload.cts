// The window's preload: exposes the typed bridge of ipc-contract.ts on `window.sluice` and
// nothing else. A sandboxed preload may only require('electron'), so it imports types, never code.
import type { BRIDGE_KEY, IpcArgs, IpcChannel, IpcResults, SluiceBridge } from './ipc-contract.js';
import type { PreloadElectron } from './electron-facade.js';

const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron;

function invoke<K extends IpcChannel>(channel: K, ...args: IpcArgs<K>): Promise<IpcResults[K]> {
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcResults[K]>;
}

const bridge: SluiceBridge = {
  adminSession: () => invoke('sluice:admin-session'),
  openExternal: (url) => invoke('sluice:open-external', String(url)),
  notify: (title, body) => invoke('sluice:notify', { title: String(title), body: String(body) }),
};

const key: typeof BRIDGE_KEY = 'sluice';
contextBridge.exposeInMainWorld(key, bridge);
