// The one place IPC enters the main process: every handler runs only for the top frame of a page
// served by the gateway, with arguments checked against ipc-contract.ts. Never imports electron.
import type { IpcMainApi, IpcMainInvokeEvent } from './electron-facade.js';
import { IPC_ARGS, type IpcChannel, type IpcHandlers } from './ipc-contract.js';

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether an IPC message comes from a frame we trust: the window's top frame showing a page of
 * the running gateway (same scheme, host and port). Subframes, other origins, data: pages (the
 * "Sluice is off" page) and destroyed frames are refused.
 */
export function checkSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, gatewayOrigin: string | null): SenderVerdict {
  const frame = event.senderFrame;
  if (!frame) return { ok: false, reason: 'the sending frame is gone' };
  if (frame.parent !== null) return { ok: false, reason: 'the sender is a subframe' };
  if (!gatewayOrigin) return { ok: false, reason: 'the gateway is not running' };
  let origin: string;
  try {
    origin = new URL(frame.url).origin;
  } catch {
    return { ok: false, reason: 'the sender has no valid URL' };
  }
  // URL#origin is "null" for data:, file: and about: pages, which never equals an http origin.
  if (origin !== gatewayOrigin) return { ok: false, reason: `origin ${origin} is not the gateway's` };
  return { ok: true };
}

export class IpcRefusedError extends Error {
  override name = 'IpcRefusedError';
}

export interface IpcRouterOptions {
  ipcMain: IpcMainApi;
  handlers: IpcHandlers;
  /** The gateway's origin now (it changes when the port does), or null when it is off. */
  gatewayOrigin: () => string | null;
  /** Told about each dropped message (for the log); never given the arguments. */
  onDrop?: (channel: IpcChannel, reason: string) => void;
}

/** Registers every channel of the contract; returns a function that removes them. */
export function registerIpc(o: IpcRouterOptions): () => void {
  const channels = Object.keys(IPC_ARGS) as IpcChannel[];
  for (const channel of channels) {
    o.ipcMain.handle(channel, (event, ...args) => {
      const verdict = checkSender(event, o.gatewayOrigin());
      if (!verdict.ok) {
        o.onDrop?.(channel, verdict.reason);
        throw new IpcRefusedError(`${channel} refused: ${verdict.reason}`);
      }
      const parsed = IPC_ARGS[channel].safeParse(args);
      if (!parsed.success) {
        o.onDrop?.(channel, 'invalid arguments');
        throw new IpcRefusedError(`${channel} refused: invalid arguments`);
      }
      const handler = o.handlers[channel] as (...a: unknown[]) => unknown;
      return handler(...(parsed.data as unknown[]));
    });
  }
  return () => { for (const c of channels) o.ipcMain.removeHandler(c); };
}
