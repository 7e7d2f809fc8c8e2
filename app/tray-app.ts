// The tray app's main-process wiring: gateway lifecycle, tray, window, IPC, notifications,
// autostart and tool restore, over an injected Electron facade. Never imports 'electron' itself.
import { join } from 'node:path';
import { createGateway, type Gateway, type GatewayOptions } from '../proxy/gateway.js';
import type { AlertEvent, ProfileSwitchEvent } from '../proxy/events.js';
import type { Logger } from '../proxy/log.js';
import { localDay, systemTzOffset, type TzOffset } from '../proxy/ledger/index.js';
import { createMemorySecretStore, type SecretStore } from '../proxy/store/secrets.js';
import { openSettings } from '../proxy/store/settings.js';
import { createTokenStore, type TokenStore } from '../proxy/store/tokens.js';
import { listToolAdapters, type ToolAdapter, type ToolId } from '../proxy/tools/index.js';
import { followPort, tokenAccount, toolContext, toolToken, type ToolsCliIo } from '../proxy/cli-tools.js';
import { controlExtension } from '../proxy/control/index.js';
import { currentUtilization, readUsageLimits, type UsageLimitsDoc } from '../proxy/control/unified-limits.js';
import { observeExtension } from '../proxy/observe/index.js';
import { applyProfile, listProfiles } from '../proxy/profiles/index.js';
import { insightsExtension } from '../proxy/insights/index.js';
import { teamExtension } from '../proxy/team/index.js';
import type { AdminLoad } from './admin-adapter.js';
import { breakerTransition, createNotificationGate, notificationFor } from './alerts.js';
import { loadAppState, saveAppState, type AppState } from './app-state.js';
import { readAutostart, writeAutostart } from './autostart.js';
import type { BrowserWindowApi, ElectronFacade, MenuItemOptions, PreventableEvent, TrayApi } from './electron-facade.js';
import { registerIpc } from './ipc-guard.js';
import type { IpcHandlers } from './ipc-contract.js';
import {
  buildTrayMenu, clockTime, profileSwitchNotice, trayIconFile, trayState, trayTooltip,
  type LedgerHealth, type MenuEntry, type SpendToday, type ToolRow, type TrayAction, type TrayState, type TrayView, type UpstreamHealth,
} from './tray-model.js';
import { decideToggleOff, planToggleOff, planToggleOn, rememberSuspended, toggleOffChoice } from './tool-restore.js';
import { attachWindowGuards, isExternalHttpUrl, statusPageUrl, windowOptions, withCsp } from './window-policy.js';

export interface TrayAppDeps {
  electron: ElectronFacade;
  dataDir: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  cwd?: string;
  /** The OS keychain in the app; null for none (tool tokens are then kept in memory only). */
  secrets: SecretStore | null;
  logger: Logger;
  /** dist/app/preload.cjs and the directory holding tray-<state>.png. */
  paths: { preload: string; trayIcons: string };
  /** How to start this app again (start at login). */
  launchCommand: readonly string[];
  /** The admin extension (dashboard); resolved once, on first start. */
  loadAdmin: () => Promise<AdminLoad>;
  /** Listening port; default SLUICE_PORT, else the settings' port. */
  port?: number;
  /** Gateway options tests set (upstream dispatcher, ledger); merged over the defaults. */
  gatewayOptions?: Partial<GatewayOptions>;
  /** Start in the tray only (login item). */
  startHidden?: boolean;
  now?: () => number;
  tzOffset?: TzOffset;
  /** How often spend and tool states are re-read (day rollover, edits by other programs). */
  refreshMs?: number;
}

export interface TrayApp {
  start(): Promise<void>;
  setEnabled(on: boolean): Promise<void>;
  toggle(): Promise<void>;
  openWindow(): Promise<void>;
  dispatch(action: TrayAction): Promise<void>;
  /** Re-reads spend, upstream health and tool states, then redraws the tray. */
  refresh(): Promise<void>;
  quit(): Promise<void>;
  /** For app 'before-quit': holds the quit until the gateway has drained. */
  onBeforeQuit(event: PreventableEvent): void;
  view(): TrayView;
  gateway(): Gateway | null;
  window(): BrowserWindowApi | null;
}

const MAX_ALERTS = 20;
const ADMIN_RUNTIME_FILE = 'admin.json';
const NOTIFY_COOLDOWN_MS = 60_000;
/** Mirrors cli-tools.ts: where `sluice configure` keeps each tool's token in the keychain. */


export function createTrayApp(d: TrayAppDeps): TrayApp {
  const { electron: e, logger } = d;
  const now = d.now ?? Date.now;
  const tz = d.tzOffset ?? systemTzOffset;
  const toolSecrets = d.secrets ?? createMemorySecretStore();
  const io: ToolsCliIo = {
    stdout: (s) => logger.info(s.trimEnd()),
    stderr: (s) => logger.warn(s.trimEnd()),
    env: d.env,
    platform: d.platform,
    home: d.home,
    cwd: d.cwd,
  };
  const toolCtx = toolContext(io, d.dataDir, toolSecrets);
  const adapters = new Map<ToolId, ToolAdapter>(listToolAdapters().map((a) => [a.id, a]));
  const shouldNotify = createNotificationGate(NOTIFY_COOLDOWN_MS, now);

  let appState: AppState | null = null;
  let gw: Gateway | null = null;
  let unsubscribe: (() => void)[] = [];
  let admin: AdminLoad | null = null;
  let startError: string | null = null;
  let breakerOpen = false;
  let lastUpstream: UpstreamHealth | null = null;
  let ledgerHealth: LedgerHealth | null = null;
  let spend: SpendToday | null = null;
  /** The subscription windows line ("5h 42% · 7d 27%"), from what the gateway's control extension recorded. */
  let usage: TrayView['usage'] = null;
  /** The running control extension's usage-limits store (null without the dashboard: then the file). */
  let usageDoc: (() => UsageLimitsDoc) | null = null;
  let tools: ToolRow[] | null = null;
  const alerts: AlertEvent[] = [];
  let autostart: boolean | null = null;
  let busy = false;
  let tray: TrayApi | null = null;
  let shownIcon: TrayState | null = null;
  let win: BrowserWindowApi | null = null;
  let quitting = false;
  let shutDown = false;
  let quitPromise: Promise<void> | null = null;
  let unregisterIpc: (() => void) | null = null;
  let ticker: NodeJS.Timeout | null = null;
  let spendTimer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const origin = () => (gw ? new URL(gw.url).origin : null);
  const state = (): AppState => {
    if (!appState) throw new Error('the tray app has not started');
    return appState;
  };

  /** From the running gateway's settings (the owner a switch writes through); null while off. */
  const profileItems = () => {
    if (!gw) return null;
    try {
      return listProfiles(gw.settings.get()).map((p) => ({ name: p.name, active: p.active, modified: p.modified }));
    } catch {
      return null;
    }
  };

  const view = (): TrayView => {
    const base = { enabled: state().proxyEnabled, running: gw !== null, startError, breakerOpen, lastUpstream, ledger: gw ? ledgerHealth : null };
    return {
      state: trayState(base),
      enabled: base.enabled,
      port: gw?.port ?? null,
      startError, breakerOpen, lastUpstream, spend, tools, ledger: base.ledger,
      usage: gw ? usage : null,
      alerts: [...alerts],
      profiles: profileItems(),
      autostart, busy,
    };
  };

  const toTemplate = (entries: MenuEntry[]): MenuItemOptions[] => entries.map((m) => {
    const item: MenuItemOptions = { id: m.id, label: m.label, enabled: m.enabled };
    if (m.kind === 'separator') return { id: m.id, type: 'separator' };
    if (m.kind === 'checkbox') { item.type = 'checkbox'; item.checked = m.checked === true; }
    if (m.kind === 'submenu') { item.type = 'submenu'; item.submenu = toTemplate(m.submenu ?? []); }
    const action = m.action;
    if (action) item.click = () => { void dispatch(action); };
    return item;
  });

  const render = () => {
    if (!tray || shutDown) return;
    const v = view();
    if (v.state !== shownIcon) {
      tray.setImage(e.nativeImage.createFromPath(join(d.paths.trayIcons, trayIconFile(v.state))));
      shownIcon = v.state;
    }
    tray.setToolTip(trayTooltip(v));
    tray.setContextMenu(e.Menu.buildFromTemplate(toTemplate(buildTrayMenu(v, (ts) => clockTime(ts, tz)))));
  };

  /** One action at a time: a toggle must not race a tool apply or a quit. */
  const exclusive = (fn: () => Promise<void>): Promise<void> => {
    const run = chain.then(async () => {
      busy = true;
      render();
      try {
        await fn();
      } finally {
        busy = false;
        render();
      }
    });
    chain = run.catch(() => {});
    return run;
  };

  const notify = (title: string, body: string) => {
    if (!e.Notification.isSupported()) return false;
    new e.Notification({ title, body }).show();
    return true;
  };

  const showError = async (title: string, err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    logger.warn(`${title}: ${message}`);
    await e.dialog.showMessageBox({ type: 'error', title: 'Sluice', message: title, detail: message, buttons: ['OK'], noLink: true });
  };

  // A switch made in the window, the CLI or settings.json: say so and re-check the menu. The
  // gateway emits the event inside the settings write, so the tray's own switch is still `ownSwitch`.
  let ownSwitch: string | null = null;
  const onProfileSwitch = (e: ProfileSwitchEvent) => {
    const text = profileSwitchNotice(e, ownSwitch);
    if (text) notify(text.title, text.body);
    render();
  };

  const onAlert = (a: AlertEvent) => {
    alerts.unshift(a);
    alerts.length = Math.min(alerts.length, MAX_ALERTS);
    const b = breakerTransition(a);
    if (b !== null) breakerOpen = b === 'open';
    const text = notificationFor(a);
    if (text && shouldNotify(a)) notify(text.title, text.body);
    render();
  };

  const refreshSpend = async () => {
    const g = gw;
    if (!g?.ledger) return;
    try {
      // Rows are written in batches; flush so the menu shows the request that just finished.
      await g.flushUsage();
      if (g !== gw) return;
      const t = g.ledger!.totals({ since: localDay(now(), tz) });
      spend = { costUsd: t.costUsd, billedRequests: t.billedRequests, unpricedRequests: t.unpricedRequests };
    } catch (err) {
      logger.warn(`could not read today's spend: ${(err as Error).message}`);
    }
    // Anthropic's window state as last relayed (OAuth traffic); a window that has reset since is dropped.
    const u = currentUtilization(usageDoc?.() ?? readUsageLimits(d.dataDir), now());
    usage = { fiveHour: u.fiveHour, sevenDay: u.sevenDay };
  };

  const readHealth = () => {
    const h = gw?.health().lastUpstream as { ok: boolean; status: number | null; error: string | null } | null | undefined;
    lastUpstream = h ? { ok: h.ok, status: h.status, error: h.error } : null;
    const l = gw?.ledger?.storage();
    ledgerHealth = l ? { ok: l.ok, pending: l.pending, dropped: l.dropped } : null;
  };

  const toolStatuses = async (): Promise<ToolRow[]> => {
    const rows: ToolRow[] = [];
    for (const a of adapters.values()) {
      try {
        rows.push({ id: a.id, label: a.label, state: (await a.status(toolCtx)).state });
      } catch (err) {
        logger.warn(`could not read ${a.label}'s configuration: ${(err as Error).message}`);
      }
    }
    return rows;
  };

  const refresh = async () => {
    readHealth();
    await refreshSpend();
    tools = await toolStatuses();
    render();
  };

  const scheduleSpendRefresh = () => {
    if (spendTimer) return;
    spendTimer = setTimeout(() => {
      spendTimer = null;
      readHealth();
      void refreshSpend().then(render);
    }, 1000);
    spendTimer.unref();
  };

  const windowUrl = (): string => {
    if (gw) {
      if (admin?.ok) return admin.admin.createLoginUrl(gw.url) ?? `${gw.url}/ui/`;
      return statusPageUrl('The dashboard is not available', `${admin && !admin.ok ? admin.reason : 'it is loading'}. The gateway is running at ${gw.url}.`);
    }
    if (startError !== null) return statusPageUrl('Sluice could not start', startError);
    return statusPageUrl('Sluice is off', 'Turn it on from the tray menu: Proxy on.');
  };

  const reloadWindow = async () => {
    if (!win || win.isDestroyed()) return;
    await win.loadURL(windowUrl()).catch((err: Error) => logger.warn(`the window could not load: ${err.message}`));
  };

  /** Keeps the control extension's live usage-limits store for the tray line (the file lags it by a moment). */
  const withUsageLimits = (make: ReturnType<typeof controlExtension>): ReturnType<typeof controlExtension> => (internals) => {
    const ext = make(internals);
    usageDoc = () => ext.usageLimits.doc();
    return ext;
  };

  const startGateway = async () => {
    usageDoc = null;
    admin ??= await d.loadAdmin();
    if (!admin.ok) logger.info(`dashboard unavailable: ${admin.reason}`);
    try {
      const g = await createGateway({
        dataDir: d.dataDir,
        port: d.port,
        env: d.env,
        secrets: d.secrets,
        logger,
        ...d.gatewayOptions,
        // Control and observe add /admin/api/* routes of their own, so they mount before the
        // admin API (which answers 404 for paths it does not know); they use its credentials.
        extensions: [
          ...(admin.ok ? [observeExtension({ authorize: admin.admin.authorize }), withUsageLimits(controlExtension({ authorize: admin.admin.authorize })), insightsExtension({ authorize: admin.admin.authorize }), teamExtension({ authorize: admin.admin.authorize }), admin.admin.extension] : [teamExtension()]),
          ...(d.gatewayOptions?.extensions ?? []),
        ],
      });
      gw = g;
      startError = null;
      breakerOpen = false;
      lastUpstream = null;
      unsubscribe = [g.events.on('alert', onAlert), g.events.on('request:end', scheduleSpendRefresh), g.events.on('profile:switch', onProfileSwitch)];
      if (admin.ok) {
        // `sluice open` in a terminal finds this gateway through the file the admin extension
        // writes (proxy/admin/cli-open.ts reads `<dataDir>/admin.json`); it is removed on close.
        await admin.admin.publish(join(d.dataDir, ADMIN_RUNTIME_FILE)).catch((err: Error) => logger.warn(`could not publish the dashboard address: ${err.message}`));
      }
    } catch (err) {
      const ex = err as NodeJS.ErrnoException;
      startError = ex.code === 'EADDRINUSE' ? 'the port is in use (another Sluice may be running)' : ex.message;
      logger.error(`the gateway could not start: ${ex.message}`);
    }
  };

  const stopGateway = async () => {
    const g = gw;
    if (!g) return;
    for (const u of unsubscribe) u();
    unsubscribe = [];
    gw = null;
    if (spendTimer) { clearTimeout(spendTimer); spendTimer = null; }
    // Streams in flight (a long Claude Code answer) get time to finish before the port closes.
    await g.close({ drainMs: 10_000 });
  };

  const applyTool = async (id: ToolId) => {
    const a = adapters.get(id);
    if (!a || !gw) throw new Error(`cannot configure ${id} while Sluice is off`);
    const token = await toolToken(id, gw.settings, toolSecrets, (s) => logger.warn(s));
    return a.apply(toolCtx, { baseUrl: gw.url, token });
  };

  const persist = async () => {
    try {
      await saveAppState(d.dataDir, state());
    } catch (err) {
      logger.warn(`could not save the app state: ${(err as Error).message}`);
    }
  };

  const turnOn = async () => {
    const st = state();
    st.proxyEnabled = true;
    await startGateway();
    if (gw && st.suspendedTools.length > 0) {
      const plan = planToggleOn(st.suspendedTools, await toolStatuses());
      const back: string[] = [];
      const failed: ToolId[] = [];
      for (const id of plan.reapply) {
        try {
          await applyTool(id);
          back.push(adapters.get(id)?.label ?? id);
        } catch (err) {
          failed.push(id);
          logger.warn(`could not re-apply Sluice's settings to ${id}: ${(err as Error).message}`);
        }
      }
      for (const s of plan.skipped) logger.info(`${s.tool} ${s.reason}`);
      // Failures stay remembered, so the next turn-on tries them again.
      st.suspendedTools = failed;
      if (back.length) notify('Sluice is on', `${back.join(', ')} use${back.length === 1 ? 's' : ''} Sluice again.`);
    }
    if (gw) {
      // Tools configured for another port follow the gateway, as `sluice serve` does.
      await followPort(io, d.dataDir, toolSecrets, gw.settings, gw.url).catch((err: Error) => logger.warn(`could not update configured tools for this port: ${err.message}`));
    }
    await persist();
  };

  const turnOff = async (): Promise<boolean> => {
    const st = state();
    const rows = await toolStatuses();
    const plan = planToggleOff(rows);
    let choice = null;
    if (plan.prompt) choice = toggleOffChoice((await e.dialog.showMessageBox(plan.prompt)).response);
    const decision = decideToggleOff(plan, choice);
    if (!decision.proceed) return false;
    const undone: ToolId[] = [];
    const failures: string[] = [];
    for (const id of decision.undo) {
      try {
        const r = await adapters.get(id)!.undo(toolCtx);
        if (r.undone) undone.push(id);
      } catch (err) {
        failures.push(`${adapters.get(id)?.label ?? id}: ${(err as Error).message}`);
      }
    }
    st.suspendedTools = rememberSuspended(st.suspendedTools, undone);
    st.proxyEnabled = false;
    await persist();
    await stopGateway();
    startError = null;
    if (failures.length) await showError('Some tools could not be restored; they still point at Sluice', new Error(failures.join('\n')));
    return true;
  };

  const setEnabled = (on: boolean) => exclusive(async () => {
    if (shutDown) return;
    if (on && gw) return;
    if (!on && !state().proxyEnabled && !gw) return;
    if (on) await turnOn();
    else await turnOff();
    await refresh();
    await reloadWindow();
  });

  const revokeToolToken = async (id: ToolId) => {
    let tokens: TokenStore;
    if (gw) tokens = gw.tokens;
    else tokens = createTokenStore(await openSettings(d.dataDir));
    if (tokens.list().some((t) => t.name === id && !t.revokedAt)) await tokens.revoke(id);
    await toolSecrets.delete(tokenAccount(id)).catch(() => false);
  };

  const configureTool = (id: ToolId) => exclusive(async () => {
    const label = adapters.get(id)?.label ?? id;
    try {
      const r = await applyTool(id);
      const st = state();
      st.suspendedTools = st.suspendedTools.filter((t) => t !== id);
      await persist();
      notify(`${label} uses Sluice`, r.warnings[0] ?? `Its requests now go through ${gw?.url ?? 'Sluice'}.`);
      if (r.warnings.length > 1) {
        await e.dialog.showMessageBox({ type: 'warning', title: 'Sluice', message: `${label} is configured, with warnings`, detail: r.warnings.join('\n\n'), buttons: ['OK'], noLink: true });
      }
    } catch (err) {
      await showError(`Could not configure ${label}`, err);
    }
    tools = await toolStatuses();
  });

  const undoTool = (id: ToolId) => exclusive(async () => {
    const label = adapters.get(id)?.label ?? id;
    try {
      const r = await adapters.get(id)!.undo(toolCtx);
      if (r.undone) await revokeToolToken(id);
      const st = state();
      st.suspendedTools = st.suspendedTools.filter((t) => t !== id);
      await persist();
      notify(label, r.undone ? 'Its own settings are restored and its Sluice token is revoked.' : 'Sluice had not configured it; nothing to undo.');
    } catch (err) {
      await showError(`Could not undo ${label}`, err);
    }
    tools = await toolStatuses();
  });

  const setAutostart = (enabled: boolean) => exclusive(async () => {
    try {
      await writeAutostart({ ...autostartDeps(), app: e.app }, enabled);
      autostart = enabled;
    } catch (err) {
      await showError('Could not change start at login', err);
    }
  });

  const autostartDeps = () => ({ platform: d.platform, home: d.home, env: d.env, app: e.app, command: d.launchCommand });

  const openWindow = async () => {
    if (shutDown) return;
    if (win && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
      return;
    }
    const w = new e.BrowserWindow(windowOptions(d.paths.preload));
    win = w;
    attachWindowGuards(w, {
      gatewayOrigin: origin,
      openExternal: (url) => { void e.shell.openExternal(url).catch((err: Error) => logger.warn(`could not open a link: ${err.message}`)); },
      onBlocked: (url, what) => logger.warn(`blocked a ${what} in the window${url ? ` to ${url.slice(0, 120)}` : ''}`),
    });
    // Closing the window keeps Sluice in the tray; only quit ends it.
    w.on('close', (ev) => {
      if (!quitting) {
        ev.preventDefault();
        w.hide();
      }
    });
    w.on('closed', () => { if (win === w) win = null; });
    w.on('ready-to-show', () => w.show());
    await reloadWindow();
  };

  /**
   * One settings write through the running gateway's store: the next request is routed wholly
   * by the new profile (proxy/profiles/index.ts says why), and the choice is in settings.json.
   */
  const useProfile = (name: string) => exclusive(async () => {
    const g = gw;
    if (!g) return;
    ownSwitch = name;
    try {
      await g.settings.update((s) => applyProfile(s, name));
      notify('Sluice: profile switched', `“${name}” is active. The next request uses it.`);
    } catch (err) {
      await showError(`Could not switch to profile “${name}”`, err);
    } finally {
      ownSwitch = null;
    }
  });

  const dispatch = async (a: TrayAction): Promise<void> => {
    switch (a.type) {
      case 'toggle': return setEnabled(!state().proxyEnabled);
      case 'open-window': return openWindow();
      case 'configure-tool': return configureTool(a.tool);
      case 'undo-tool': return undoTool(a.tool);
      case 'set-autostart': return setAutostart(a.enabled);
      case 'use-profile': return useProfile(a.name);
      case 'quit': return quit();
    }
  };

  const handlers = {
    'sluice:admin-session': () => (gw && admin?.ok ? { url: `${gw.url}/ui/`, token: admin.admin.adminToken() } : null),
    'sluice:open-external': async (url) => {
      if (!isExternalHttpUrl(url)) return false;
      await e.shell.openExternal(url);
      return true;
    },
    'sluice:notify': ({ title, body }) => notify(title, body),
  } satisfies IpcHandlers;

  const start = async () => {
    const loaded = await loadAppState(d.dataDir);
    appState = loaded.state;
    if (loaded.problem) {
      logger.warn(`${loaded.problem}; starting with defaults`);
      alerts.unshift({ kind: 'app', level: 'warning', message: `${loaded.problem}; started with defaults`, ts: now() });
    }
    unregisterIpc = registerIpc({
      ipcMain: e.ipcMain,
      handlers,
      gatewayOrigin: origin,
      onDrop: (channel, reason) => logger.warn(`dropped IPC ${channel}: ${reason}`),
    });
    const ses = e.session.defaultSession;
    ses.webRequest.onHeadersReceived((details, cb) => cb({ responseHeaders: withCsp(details.responseHeaders) }));
    // The dashboard needs no camera, notifications API, clipboard or geolocation.
    ses.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
    tray = new e.Tray(e.nativeImage.createFromPath(join(d.paths.trayIcons, trayIconFile('off'))));
    shownIcon = 'off';
    tray.on('click', () => { void openWindow(); });
    autostart = await readAutostart(autostartDeps()).catch((err: Error) => {
      logger.warn(`could not read the start-at-login setting: ${err.message}`);
      return null;
    });
    render();
    if (appState.proxyEnabled) await exclusive(turnOn);
    await refresh();
    const refreshMs = d.refreshMs ?? 60_000;
    if (refreshMs > 0) {
      ticker = setInterval(() => { if (!busy) void refresh(); }, refreshMs);
      ticker.unref();
    }
    if (!d.startHidden) await openWindow();
  };

  const quit = (): Promise<void> => {
    quitPromise ??= (async () => {
      quitting = true;
      if (ticker) clearInterval(ticker);
      await chain;
      await stopGateway().catch((err: Error) => logger.warn(`the gateway did not close cleanly: ${err.message}`));
      shutDown = true;
      unregisterIpc?.();
      tray?.destroy();
      tray = null;
      if (win && !win.isDestroyed()) win.destroy();
      win = null;
      e.app.quit();
    })();
    return quitPromise;
  };

  return {
    start,
    setEnabled,
    toggle: () => setEnabled(!state().proxyEnabled),
    openWindow,
    dispatch,
    refresh: async () => { await chain; await refresh(); },
    quit,
    onBeforeQuit: (ev) => {
      if (shutDown) return;
      ev.preventDefault();
      void quit();
    },
    view,
    gateway: () => gw,
    window: () => win,
  };
}
