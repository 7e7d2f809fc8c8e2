// Tests for the window's security policy: options, CSP, navigation, window-open and the guards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attachWindowGuards, isExternalHttpUrl, navigationDecision, statusPageUrl, windowOptions, withCsp, WINDOW_CSP,
} from './window-policy.js';
import type { BrowserWindowApi, PreventableEvent, WindowOpenDetails } from './electron-facade.js';

const GW = 'http://127.0.0.1:7420';

test('windowOptions: isolated, sandboxed, no node, hidden until ready', () => {
  const o = windowOptions('/app/dist/app/preload.cjs');
  assert.equal(o.show, false);
  assert.deepEqual(o.webPreferences, {
    preload: '/app/dist/app/preload.cjs',
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  });
});

test('WINDOW_CSP allows only the page’s own origin for scripts and connections', () => {
  const directives = new Map(WINDOW_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives.get('default-src'), "'self'");
  assert.equal(directives.get('script-src'), "'self'");
  assert.equal(directives.get('connect-src'), "'self'");
  assert.equal(directives.get('object-src'), "'none'");
  assert.equal(directives.get('frame-ancestors'), "'none'");
  assert.ok(!WINDOW_CSP.includes('unsafe-eval'));
});

test('withCsp adds the policy, appending to an existing one whatever its case', () => {
  assert.deepEqual(withCsp(undefined), { 'Content-Security-Policy': [WINDOW_CSP] });
  assert.deepEqual(withCsp({ 'content-type': ['text/html'] }), { 'content-type': ['text/html'], 'Content-Security-Policy': [WINDOW_CSP] });
  const merged = withCsp({ 'content-security-policy': ["default-src 'self'"] });
  assert.deepEqual(merged, { 'content-security-policy': ["default-src 'self'", WINDOW_CSP] });
  assert.equal(Object.keys(merged).length, 1);
});

test('navigationDecision: gateway origin stays, http(s) elsewhere goes to the browser, the rest is blocked', () => {
  assert.equal(navigationDecision(`${GW}/ui/#/sessions`, GW), 'allow');
  assert.equal(navigationDecision(`${GW}/ui/login?code=abc`, GW), 'allow');
  assert.equal(navigationDecision('https://docs.anthropic.com/en/api', GW), 'external');
  assert.equal(navigationDecision('http://127.0.0.1:9999/', GW), 'external');
  assert.equal(navigationDecision(`${GW}/ui/`, null), 'external', 'with the gateway off nothing is in-window');
  assert.equal(navigationDecision('file:///etc/passwd', GW), 'block');
  assert.equal(navigationDecision('javascript:alert(1)', GW), 'block');
  assert.equal(navigationDecision('vscode://settings', GW), 'block');
  assert.equal(navigationDecision('not a url', GW), 'block');
});

test('isExternalHttpUrl refuses credentials in the URL and non-http schemes', () => {
  assert.equal(isExternalHttpUrl('https://example.com/x'), true);
  assert.equal(isExternalHttpUrl('http://example.com'), true);
  assert.equal(isExternalHttpUrl('https://user:pw@example.com/'), false);
  assert.equal(isExternalHttpUrl('mailto:a@b.c'), false);
  assert.equal(isExternalHttpUrl('smb://host/share'), false);
  assert.equal(isExternalHttpUrl('/relative'), false);
});

function fakeWindow() {
  const listeners = new Map<string, (e: PreventableEvent, url?: string) => void>();
  let openHandler: ((d: WindowOpenDetails) => { action: 'deny' }) | null = null;
  const win = {
    webContents: {
      on: (name: string, fn: (e: PreventableEvent, url?: string) => void) => { listeners.set(name, fn); },
      setWindowOpenHandler: (h: (d: WindowOpenDetails) => { action: 'deny' }) => { openHandler = h; },
      getURL: () => '',
    },
  } as unknown as BrowserWindowApi;
  const fire = (name: string, url?: string) => {
    let prevented = false;
    listeners.get(name)!({ preventDefault: () => { prevented = true; } }, url);
    return prevented;
  };
  return { win, fire, open: (url: string) => openHandler!({ url }) };
}

test('attachWindowGuards: blocks off-origin navigation and redirects, denies every new window', () => {
  const { win, fire, open } = fakeWindow();
  const opened: string[] = [];
  const blocked: string[] = [];
  attachWindowGuards(win, { gatewayOrigin: () => GW, openExternal: (u) => opened.push(u), onBlocked: (u, what) => blocked.push(`${what}:${u}`) });

  assert.equal(fire('will-navigate', `${GW}/ui/#/spend`), false);
  assert.equal(fire('will-navigate', 'https://docs.anthropic.com/'), true);
  assert.equal(fire('will-redirect', 'https://evil.example/'), true);
  assert.equal(fire('will-navigate', 'file:///etc/passwd'), true);
  assert.equal(fire('will-attach-webview'), true);
  assert.deepEqual(open('https://github.com/'), { action: 'deny' });
  assert.deepEqual(open(`${GW}/ui/#/x`), { action: 'deny' });
  assert.deepEqual(open('javascript:alert(1)'), { action: 'deny' });

  assert.deepEqual(opened, ['https://docs.anthropic.com/', 'https://evil.example/', 'https://github.com/']);
  assert.deepEqual(blocked, ['navigation:file:///etc/passwd', 'webview:', `new window:${GW}/ui/#/x`, 'new window:javascript:alert(1)']);
});

test('statusPageUrl: a script-free data page with escaped text', () => {
  const url = statusPageUrl('Sluice is off', 'Turn it <b>on</b> & go');
  assert.ok(url.startsWith('data:text/html;charset=utf-8,'));
  const html = decodeURIComponent(url.slice('data:text/html;charset=utf-8,'.length));
  assert.ok(html.includes('<h1>Sluice is off</h1>'));
  assert.ok(html.includes('Turn it &#60;b&#62;on&#60;/b&#62; &#38; go'));
  assert.ok(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'"`));
  assert.ok(!/<script/i.test(html));
});
