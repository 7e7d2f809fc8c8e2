// Compile-time only (never imported at run time): the real `electron` module, as typed by the
// installed major's electron.d.ts, must satisfy the facade the app is written against. A call
// that the new major removed or changed fails `npm test`'s type check here, not on a desktop.
import type { ElectronFacade, PreloadElectron } from './electron-facade.js';

type RealElectron = typeof import('electron');
type Image = import('electron').NativeImage;
type Menu = import('electron').Menu;

export const mainProcessFits = (e: RealElectron): ElectronFacade<Image, Menu> => e;
export const preloadFits = (e: RealElectron): PreloadElectron => e;
