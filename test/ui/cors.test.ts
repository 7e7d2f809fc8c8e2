// CORS for browser clients, in a real Chromium: a page served from an origin listed in
// security.allowedOrigins streams a message through Sluice with fetch; the same page from
// another origin is refused before any upstream call (preflighted or "simple" request alike).
// Over raw HTTP: the preflight's exact headers, and no CORS header ever on the admin API or
// the dashboard, even for an allowed origin. Off by default: an empty list refuses every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, launchBrowser } from './browser.js';
import { rawRequest, until } from '../helpers.js';
import { anthropicBehavior, messageStreamEvents, streamEvents } from '../mock-upstream.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { CORS_ALLOW_HEADERS } from '../../proxy/pipeline/cors.js';
import { join } from 'node:path';

const noBrowser = browserUnavailable();
const skipBrowser = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const PAGE = '<!doctype html><meta charset="utf-8"><title>a page that calls Sluice</title><p>client</p>';

let s: AdminStack;
let allowed: { server: Server; origin: string };
let other: { server: Server; origin: string };
let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;

async function staticPage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(PAGE) });
    res.end(PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

before(async () => {
  // The upstream tries to answer CORS itself: Sluice's answer must be the one a page sees.
  s = await startAdminStack({
    admin: { uiDir: join(packageRoot(), 'renderer', 'dist') },
    behavior: async (req, res, mock) => {
      if (req.method === 'POST' && req.url.startsWith('/v1/messages')) {
        const parsed = JSON.parse(req.body.toString('utf8')) as { model?: string; stream?: boolean };
        if (parsed.stream) {
          await streamEvents(req, res, messageStreamEvents({ model: parsed.model, text: 'Streamed to a browser page.' }), 0,
            { 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', vary: 'Accept-Encoding' });
          return;
        }
      }
      await anthropicBehavior(req, res, mock);
    },
  });
  allowed = await staticPage();
  other = await staticPage();
});

after(async () => {
  await browser?.close();
  await s?.close();
  for (const p of [allowed, other]) if (p) await new Promise<void>((r) => p.server.close(() => r()));
});

const allow = (origins: string[]) => s.gw.settings.update((st) => { st.security.allowedOrigins = origins; });

const preflight = (origin: string, path = '/v1/messages', requestHeaders = 'anthropic-version,content-type,x-api-key,x-stainless-os') =>
  rawRequest(`${s.gw.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });

test('off by default: no allowed origin, a preflight from any page is refused with no CORS header', async () => {
  assert.deepEqual(s.gw.settings.get().security.allowedOrigins, []);
  const r = await preflight(allowed.origin);
  assert.equal(r.status, 403);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(JSON.parse(r.body.toString()).error.type, 'gateway_forbidden_origin');
  assert.equal(s.mock.requests.length, 0);
});

test('preflight from an allowed origin: exact origin, methods, headers, Vary; nothing forwarded', async () => {
  await allow([allowed.origin]);
  const r = await preflight(allowed.origin);
  assert.equal(r.status, 204);
  assert.equal(r.headers['access-control-allow-origin'], allowed.origin);
  assert.equal(r.headers['access-control-allow-credentials'], undefined);
  assert.equal(r.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
  const allowedHeaders = String(r.headers['access-control-allow-headers']).split(', ');
  for (const h of CORS_ALLOW_HEADERS) assert.ok(allowedHeaders.includes(h), h);
  assert.ok(allowedHeaders.includes('x-stainless-os'), 'a header the page asked for is allowed too');
  assert.match(String(r.headers.vary), /^Origin\b/);
  const exposed = String(r.headers['access-control-expose-headers']).split(', ');
  for (const h of ['request-id', 'retry-after', 'anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-tokens-reset']) assert.ok(exposed.includes(h), h);
  assert.equal(r.body.length, 0);
  // A preflight from a page that is not listed, even a one-character different origin.
  const refused = await preflight(`${allowed.origin}0`);
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
  assert.equal(s.mock.requests.length, 0);
});

test('never on the admin API or the dashboard, even for an allowed origin', async () => {
  await allow([allowed.origin]);
  for (const [method, path] of [['OPTIONS', '/admin/api/settings'], ['GET', '/admin/api/settings'], ['GET', '/ui/'], ['OPTIONS', '/health'], ['GET', '/health']] as const) {
    const r = await rawRequest(`${s.gw.url}${path}`, { method, headers: { origin: allowed.origin, 'access-control-request-method': 'GET' } });
    assert.equal(r.headers['access-control-allow-origin'], undefined, `${method} ${path}`);
    assert.equal(r.headers['access-control-allow-methods'], undefined, `${method} ${path}`);
  }
});

test('without Origin (Claude Code, SDKs, curl) no CORS header is added', async () => {
  await allow([allowed.origin]);
  const before = s.mock.requests.length;
  const r = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': s.toolToken, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(r.status, 200);
  assert.equal(s.mock.requests.length, before + 1);
  for (const k of Object.keys(r.headers)) assert.ok(!k.startsWith('access-control-'), k);
});

test('the answer to an allowed origin is Sluice\'s CORS, not the upstream\'s (exact origin, no credentials, both Vary)', async () => {
  await allow([allowed.origin]);
  const r = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { origin: allowed.origin, 'x-api-key': s.toolToken, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], allowed.origin);
  assert.equal(r.headers['access-control-allow-credentials'], undefined);
  assert.equal(r.headers.vary, 'Origin, Accept-Encoding');
  // An error envelope to an allowed page is readable by it too (here: a bad token).
  const denied = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: { origin: allowed.origin, 'x-api-key': 'nope', 'content-type': 'application/json' }, body: '{}' });
  assert.equal(denied.status, 401);
  assert.equal(denied.headers['access-control-allow-origin'], allowed.origin);
});

async function pageAt(origin: string): Promise<Page> {
  browser ??= await launchBrowser();
  const page = await browser.context.newPage();
  await page.goto(`${origin}/`);
  return page;
}

interface FetchOutcome { ok: true; status: number; requestId: string | null; servedBy: string | null; text: string }
interface FetchFailure { ok: false; error: string }

/** In the page: a streamed Messages call with fetch, the body read as it arrives. */
function streamFromPage(page: Page, gateway: string, token: string): Promise<FetchOutcome | FetchFailure> {
  return page.evaluate(async ({ gateway, token }) => {
    try {
      const r = await fetch(`${gateway}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json',
          'anthropic-dangerous-direct-browser-access': 'true',
        },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hello from a page' }] }),
      });
      const reader = r.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
      return { ok: true as const, status: r.status, requestId: r.headers.get('request-id'), servedBy: r.headers.get('x-sluice-served-by'), text };
    } catch (err) {
      return { ok: false as const, error: String(err) };
    }
  }, { gateway, token });
}

test('Chromium: a page from an allowed origin streams a message through Sluice with fetch', { skip: skipBrowser }, async () => {
  await allow([allowed.origin]);
  const before = s.mock.requests.length;
  const page = await pageAt(allowed.origin);
  const out = await streamFromPage(page, s.gw.url, s.toolToken);
  assert.ok(out.ok, out.ok ? '' : out.error);
  assert.equal(out.status, 200);
  const deltas = [...out.text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join('');
  assert.equal(deltas, 'Streamed to a browser page.');
  assert.match(out.text, /event: message_stop/);
  // Exposed headers are readable by the page; the upstream's own CORS answer was not passed on.
  assert.match(out.requestId ?? '', /^req_mock_/);
  assert.equal(out.servedBy, 'anthropic');
  assert.equal(s.mock.requests.length, before + 1);
  const up = s.mock.requests.at(-1)!;
  assert.equal(up.headers.origin, allowed.origin, 'the request is forwarded as the browser sent it');
  await page.close();
});

test('Chromium: the same page from another origin is refused before any upstream call', { skip: skipBrowser }, async () => {
  await allow([allowed.origin]);
  const before = s.mock.requests.length;
  const refusals = () => s.logs.filter((l) => l.includes('GATEWAY_FORBIDDEN_ORIGIN')).length;
  const refusedBefore = refusals();
  const page = await pageAt(other.origin);
  const out = await streamFromPage(page, s.gw.url, s.toolToken);
  assert.equal(out.ok, false);
  assert.match((out as FetchFailure).error, /TypeError: Failed to fetch/);
  // A "simple" request needs no preflight: the browser sends it, and the gateway must refuse it.
  const simple = await page.evaluate(async ({ gateway }) => {
    try {
      await fetch(`${gateway}/v1/messages`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}' });
      return 'sent';
    } catch (err) {
      return String(err);
    }
  }, { gateway: s.gw.url });
  assert.equal(simple, 'sent', 'an opaque no-cors request resolves in the page whatever the answer');
  // Both reached the gateway (the preflight, then the simple POST) and both were refused there.
  await until(() => refusals() >= refusedBefore + 2, 'the gateway logged both refusals');
  assert.equal(s.mock.requests.length, before, 'the mock upstream recorded nothing');
  await page.close();
});
