// Electron main-process entry: the only module that loads 'electron'. Takes the single-instance
// lock and hands the facade to createTrayApp; everything else lives in tested modules.
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tuneGcForBodies } from '../proxy/gc-tuning.js';
import { createLogger, parseLogLevel } from '../proxy/log.js';
import { createKeychainStore } from '../proxy/store/secrets.js';
import { defaultDataDir } from '../proxy/store/paths.js';
import { loadAdminExtension } from './admin-adapter.js';
import { HIDDEN_FLAG, launchCommand } from './autostart.js';
import type { ElectronFacade } from './electron-facade.js';
import { createTrayApp } from './tray-app.js';

const electron = createRequire(import.meta.url)('electron') as ElectronFacade;
const { app } = electron;
const here = dirname(fileURLToPath(import.meta.url));
// dist/app/main.js -> the package root (inside app.asar once packaged).
const root = resolve(here, '..', '..');
const env = process.env;

app.setName('Sluice');
app.setAppUserModelId?.('dev.sluice.app');
// Tests (and a second profile) get their own Chromium profile; the gateway's data dir is separate.
if (env.SLUICE_USER_DATA_DIR) app.setPath('userData', env.SLUICE_USER_DATA_DIR);

if (!app.requestSingleInstanceLock()) {
  // Another Sluice owns the tray and the port; it opens its window on 'second-instance'.
  app.quit();
} else {
  // Without this listener Electron quits when the last window closes; Sluice lives in the tray.
  app.on('window-all-closed', () => {});
  await app.whenReady();
  // The gateway runs in this process: apply its GC setting for large request bodies here, as
  // `sluice serve` does (a process-wide V8 flag is the process owner's choice).
  tuneGcForBodies();
  const logger = createLogger({ level: parseLogLevel(env.SLUICE_LOG_LEVEL) });
  const tray = createTrayApp({
    electron,
    dataDir: defaultDataDir({ platform: process.platform, home: homedir(), env }),
    env,
    platform: process.platform,
    home: homedir(),
    secrets: createKeychainStore(),
    logger,
    paths: { preload: join(here, 'preload.cjs'), trayIcons: join(root, 'build', 'tray') },
    launchCommand: launchCommand({
      execPath: process.execPath,
      argv: process.argv,
      defaultApp: (process as { defaultApp?: boolean }).defaultApp === true,
      env,
    }),
    loadAdmin: () => loadAdminExtension(),
    startHidden: process.argv.includes(HIDDEN_FLAG),
  });
  app.on('second-instance', () => { void tray.openWindow(); });
  app.on('activate', () => { void tray.openWindow(); });
  app.on('before-quit', (event) => tray.onBeforeQuit(event));
  // A tray app: no Dock icon on macOS.
  app.dock?.hide();
  // The Playwright test drives the toggle through this handle; nothing else reads it.
  if (env.SLUICE_E2E === '1') (globalThis as { sluiceTray?: unknown }).sluiceTray = tray;
  await tray.start();
}
