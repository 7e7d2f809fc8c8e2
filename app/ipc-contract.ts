// The one IPC contract between the main process and the window's preload: channel names,
// argument schemas and result types. Imports zod only; the preload imports its types, never code.
import { z } from 'zod';

/** What the window may ask the main process for. Every channel is an `invoke` (request/response). */
export const IPC_ARGS = {
  /** The dashboard URL and the admin bearer token, or null when the gateway is off. */
  'sluice:admin-session': z.tuple([]),
  /** Opens an http(s) link in the user's browser; false for any other scheme. */
  'sluice:open-external': z.tuple([z.string().max(2048)]),
  /** Shows a native notification (the window's own alerts); false when the OS has none. */
  'sluice:notify': z.tuple([z.object({ title: z.string().min(1).max(120), body: z.string().max(500) }).strict()]),
} as const;

export type IpcChannel = keyof typeof IPC_ARGS;

export interface AdminSession {
  /** The dashboard's root, e.g. `http://127.0.0.1:7420/ui/`. */
  url: string;
  /** Bearer token for `/admin/api/` (the window also holds the login cookie). */
  token: string;
}

export interface IpcResults {
  'sluice:admin-session': AdminSession | null;
  'sluice:open-external': boolean;
  'sluice:notify': boolean;
}

export type IpcArgs<K extends IpcChannel> = z.infer<(typeof IPC_ARGS)[K]>;

/** The main process's handlers: `satisfies IpcHandlers` makes a missing channel a compile error. */
export type IpcHandlers = {
  [K in IpcChannel]: (...args: IpcArgs<K>) => IpcResults[K] | Promise<IpcResults[K]>;
};

/** What the preload exposes on `window.sluice` (the renderer's whole view of the main process). */
export interface SluiceBridge {
  adminSession(): Promise<AdminSession | null>;
  openExternal(url: string): Promise<boolean>;
  notify(title: string, body: string): Promise<boolean>;
}

/** The key the bridge is exposed under in the renderer's main world. */
export const BRIDGE_KEY = 'sluice';
