// The typed subset of Electron's API the tray app uses. Types only: nothing here loads
// 'electron', so app/ compiles and is tested without it (main.ts casts the real module to this).

/** An image handle; the app only creates and passes them on. */
export type NativeImageLike = object;

export interface NativeImageApi<Image = NativeImageLike> {
  createFromPath(path: string): Image;
}

/** The fields of Electron's MenuItemConstructorOptions the tray menu sets. */
export interface MenuItemOptions {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  toolTip?: string;
  submenu?: MenuItemOptions[];
  click?: () => void;
}

export type MenuLike = object;

export interface MenuApi<Menu = MenuLike> {
  buildFromTemplate(template: MenuItemOptions[]): Menu;
}

export interface TrayApi<Image = NativeImageLike, Menu = MenuLike> {
  setImage(image: Image): void;
  setToolTip(text: string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click' | 'double-click', listener: () => void): void;
  destroy(): void;
}

export interface TrayConstructor<Image = NativeImageLike, Menu = MenuLike> {
  new (image: Image): TrayApi<Image, Menu>;
}

export interface WebPreferences {
  preload: string;
  contextIsolation: boolean;
  sandbox: boolean;
  nodeIntegration: boolean;
  nodeIntegrationInSubFrames: boolean;
  webSecurity: boolean;
  allowRunningInsecureContent: boolean;
  webviewTag: boolean;
  spellcheck: boolean;
}

export interface BrowserWindowOptions<Image = NativeImageLike> {
  width: number;
  height: number;
  minWidth?: number;
  minHeight?: number;
  show: boolean;
  title: string;
  icon?: Image;
  autoHideMenuBar?: boolean;
  webPreferences: WebPreferences;
}

/** The event Electron passes to will-navigate / will-redirect / will-attach-webview. */
export interface PreventableEvent {
  preventDefault(): void;
}

export interface WindowOpenDetails {
  url: string;
}

export interface WebContentsApi {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: PreventableEvent, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): void;
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'deny' }): void;
  getURL(): string;
}

export interface BrowserWindowApi {
  readonly webContents: WebContentsApi;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  hide(): void;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  destroy(): void;
  on(event: 'close', listener: (event: PreventableEvent) => void): void;
  on(event: 'closed' | 'ready-to-show', listener: () => void): void;
}

export interface BrowserWindowConstructor<Image = NativeImageLike> {
  new (options: BrowserWindowOptions<Image>): BrowserWindowApi;
}

export interface NotificationOptions {
  title: string;
  body: string;
  silent?: boolean;
}

export interface NotificationApi {
  show(): void;
}

export interface NotificationConstructor {
  new (options: NotificationOptions): NotificationApi;
  isSupported(): boolean;
}

export interface ShellApi {
  openExternal(url: string): Promise<void>;
}

/** The sender's frame: Electron's WebFrameMain, of which only the URL and parent matter here. */
export interface SenderFrame {
  readonly url: string;
  readonly parent: SenderFrame | null;
}

export interface IpcMainInvokeEvent {
  /** Null once the frame has navigated away or been destroyed. */
  readonly senderFrame: SenderFrame | null;
}

export interface IpcMainApi {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface HeadersReceivedDetails {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionApi {
  webRequest: {
    onHeadersReceived(listener: (details: HeadersReceivedDetails, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
}

export interface MessageBoxOptions {
  type: 'none' | 'info' | 'error' | 'question' | 'warning';
  title: string;
  message: string;
  detail?: string;
  buttons: string[];
  defaultId?: number;
  cancelId?: number;
  noLink?: boolean;
}

export interface DialogApi {
  showMessageBox(options: MessageBoxOptions): Promise<{ response: number }>;
}

export interface LoginItemSettingsInput {
  openAtLogin: boolean;
  openAsHidden?: boolean;
  args?: string[];
}

export interface AppApi {
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<void>;
  quit(): void;
  exit(code?: number): void;
  setName(name: string): void;
  setAppUserModelId?(id: string): void;
  setPath(name: 'userData', path: string): void;
  getLoginItemSettings(options?: { args?: string[] }): { openAtLogin: boolean };
  setLoginItemSettings(settings: LoginItemSettingsInput): void;
  on(event: 'second-instance' | 'window-all-closed' | 'activate', listener: () => void): void;
  on(event: 'before-quit', listener: (event: PreventableEvent) => void): void;
  readonly dock?: { hide(): void; show(): Promise<void> | void };
}

/**
 * What `require('electron')` provides in the main process, narrowed to what Sluice calls. The
 * image and menu handles are opaque to the app; app/electron-typings.check.ts instantiates them
 * with Electron's own NativeImage and Menu to check the facade against electron.d.ts.
 */
export interface ElectronFacade<Image = NativeImageLike, Menu = MenuLike> {
  app: AppApi;
  Tray: TrayConstructor<Image, Menu>;
  Menu: MenuApi<Menu>;
  BrowserWindow: BrowserWindowConstructor<Image>;
  Notification: NotificationConstructor;
  nativeImage: NativeImageApi<Image>;
  shell: ShellApi;
  ipcMain: IpcMainApi;
  session: { readonly defaultSession: SessionApi };
  dialog: DialogApi;
}

/** The preload's side: `require('electron')` in a sandboxed preload. */
export interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
}
