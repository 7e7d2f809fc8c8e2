// The window's security policy: BrowserWindow options, CSP, which navigations are allowed, the
// page shown while the gateway is off. Pure apart from attachWindowGuards; never imports electron.
import type { BrowserWindowApi, BrowserWindowOptions } from './electron-facade.js';

/**
 * Added to every response the window receives. The dashboard sends its own CSP too; a second
 * policy can only narrow what the first allows, so this is a floor, never a loosening.
 */
export const WINDOW_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function windowOptions(preloadPath: string): BrowserWindowOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Sluice',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/** Returns the headers with WINDOW_CSP appended to any existing policy (any header-name case). */
export function withCsp(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = { ...(headers ?? {}) };
  const existing = Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy');
  if (existing) out[existing] = [...out[existing]!, WINDOW_CSP];
  else out['Content-Security-Policy'] = [WINDOW_CSP];
  return out;
}

export type NavigationDecision = 'allow' | 'external' | 'block';

/**
 * In-window navigation stays on the gateway's origin. An http(s) link elsewhere opens in the
 * user's browser; every other scheme (file:, javascript:, custom protocols) is dropped.
 */
export function navigationDecision(url: string, gatewayOrigin: string | null): NavigationDecision {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'block';
  }
  if (gatewayOrigin !== null && u.origin === gatewayOrigin) return 'allow';
  return isExternalHttpUrl(url) ? 'external' : 'block';
}

/** True for an absolute http(s) URL without credentials: the only links shell.openExternal gets. */
export function isExternalHttpUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
}

export interface WindowGuardDeps {
  gatewayOrigin: () => string | null;
  openExternal: (url: string) => void;
  onBlocked?: (url: string, why: string) => void;
}

export function attachWindowGuards(win: BrowserWindowApi, d: WindowGuardDeps): void {
  const wc = win.webContents;
  const guard = (event: { preventDefault(): void }, url: string, what: string) => {
    const verdict = navigationDecision(url, d.gatewayOrigin());
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'external') d.openExternal(url);
    else d.onBlocked?.(url, what);
  };
  wc.on('will-navigate', (e, url) => guard(e, url, 'navigation'));
  // A redirect to another origin would load it in the window with the preload attached.
  wc.on('will-redirect', (e, url) => guard(e, url, 'redirect'));
  wc.setWindowOpenHandler(({ url }) => {
    if (isExternalHttpUrl(url) && navigationDecision(url, d.gatewayOrigin()) !== 'allow') d.openExternal(url);
    else d.onBlocked?.(url, 'new window');
    return { action: 'deny' };
  });
  wc.on('will-attach-webview', (e) => {
    e.preventDefault();
    d.onBlocked?.('', 'webview');
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page the window shows while the gateway is off or unavailable: static, no script. */
export function statusPageUrl(title: string, detail: string): string {
  const html = `<!doctype html><html><head><meta charset="utf-8">`
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`
    + `<title>Sluice</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;height:100vh;color:#1f2328;background:#f6f8fa}`
    + `@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}}main{max-width:32rem;padding:2rem}h1{font-size:1.25rem;margin:0 0 .5rem}</style></head>`
    + `<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}
