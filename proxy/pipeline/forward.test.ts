// Tests for forward's pure helpers: upstream request headers, client response headers and the
// mapping of undici / socket errors into the taxonomy. The dispatch path is covered end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUpstreamHeaders, responseHeadersForClient, upstreamError } from './forward.js';
import { GatewayError, InvalidRequestError, UpstreamClosedError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.js';

const ORIGIN = 'https://api.anthropic.com';

test('buildUpstreamHeaders drops hop-by-hop and undici-owned headers, keeps the rest in order', () => {
  const raw = [
    'Host', '127.0.0.1:7420',
    'Connection', 'keep-alive',
    'Keep-Alive', 'timeout=5',
    'Content-Length', '12',
    'Transfer-Encoding', 'chunked',
    'TE', 'trailers',
    'Trailer', 'x-digest',
    'Upgrade', 'h2c',
    'Proxy-Connection', 'keep-alive',
    'Proxy-Authorization', 'Basic Zm9v',
    'Expect', '100-continue',
    'HTTP2-Settings', 'AAA',
    'anthropic-version', '2023-06-01',
    'Anthropic-Beta', 'claude-code-20250219',
    'x-api-key', 'test-key-1',
    'User-Agent', 'claude-cli/2.1.197 (external, sdk-cli)',
  ];
  assert.deepEqual(buildUpstreamHeaders(raw), [
    'anthropic-version', '2023-06-01',
    'Anthropic-Beta', 'claude-code-20250219',
    'x-api-key', 'test-key-1',
    'User-Agent', 'claude-cli/2.1.197 (external, sdk-cli)',
  ]);
});

test('buildUpstreamHeaders drops headers named in Connection, case-insensitively, from every Connection line', () => {
  const raw = [
    'X-Before', '1',
    'connection', 'X-Trace , x-other',
    'x-trace', 'drop me',
    'X-OTHER', 'drop me too',
    'CONNECTION', 'x-late',
    'X-Late', 'dropped',
    'x-keep', 'kept',
  ];
  assert.deepEqual(buildUpstreamHeaders(raw), ['X-Before', '1', 'x-keep', 'kept']);
});

test('buildUpstreamHeaders keeps case and repeats of ordinary headers', () => {
  const raw = ['X-Stainless-Lang', 'js', 'anthropic-beta', 'a', 'Anthropic-Beta', 'b', 'anthropic-beta', 'c'];
  assert.deepEqual(buildUpstreamHeaders(raw), raw);
  // The input is not mutated.
  assert.equal(raw.length, 8);
});

test('buildUpstreamHeaders without a credential keeps the client credential headers (passthrough)', () => {
  const raw = ['x-api-key', 'sk-ant-api03-FAKE', 'Authorization', 'Bearer sk-ant-oat01-FAKE', 'accept', '*/*'];
  assert.deepEqual(buildUpstreamHeaders(raw), raw);
});

test('buildUpstreamHeaders with a credential replaces x-api-key and authorization in any case', () => {
  const raw = ['X-Api-Key', 'test-key-1', 'accept', '*/*', 'AUTHORIZATION', 'Bearer test-key-1', 'anthropic-version', '2023-06-01'];
  const out = buildUpstreamHeaders(raw, { name: 'x-api-key', value: 'sk-ant-api03-FAKE' });
  assert.deepEqual(out, ['accept', '*/*', 'anthropic-version', '2023-06-01', 'x-api-key', 'sk-ant-api03-FAKE']);
  assert.ok(!out.includes('test-key-1') && !out.includes('Bearer test-key-1'));
});

test('buildUpstreamHeaders with a bearer credential adds exactly one authorization header', () => {
  const out = buildUpstreamHeaders(['authorization', 'Bearer test-key-1'], { name: 'authorization', value: 'Bearer upstream-FAKE' });
  assert.deepEqual(out, ['authorization', 'Bearer upstream-FAKE']);
});

test('responseHeadersForClient drops hop-by-hop headers and those named in Connection', () => {
  const out = responseHeadersForClient({
    connection: 'keep-alive, X-Internal',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    te: 'trailers',
    trailer: 'x-digest',
    upgrade: 'h2c',
    'proxy-connection': 'close',
    'proxy-authenticate': 'Basic',
    'x-internal': 'secret-ish',
    'content-type': 'text/event-stream',
    'request-id': 'req_1',
    'retry-after': '3',
    'anthropic-ratelimit-tokens-remaining': '100',
    'set-cookie': ['a=1', 'b=2'],
    'x-empty': undefined,
  });
  assert.deepEqual(out, {
    'content-type': 'text/event-stream',
    'request-id': 'req_1',
    'retry-after': '3',
    'anthropic-ratelimit-tokens-remaining': '100',
    'set-cookie': ['a=1', 'b=2'],
  });
});

test('responseHeadersForClient without Connection keeps every end-to-end header', () => {
  const headers = { 'content-type': 'application/json', 'content-length': '42', 'content-encoding': 'gzip' };
  assert.deepEqual(responseHeadersForClient(headers), headers);
});

function codeErr(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

test('upstreamError: a headers timeout is a 504 gateway_upstream_timeout, retryable', () => {
  const err = upstreamError(codeErr('UND_ERR_HEADERS_TIMEOUT'), ORIGIN);
  assert.ok(err instanceof UpstreamTimeoutError);
  assert.equal(err.status, 504);
  assert.equal(err.type, 'gateway_upstream_timeout');
  assert.equal(err.code, 'GATEWAY_UPSTREAM_TIMEOUT');
  assert.equal(err.retryable, true);
  assert.match(err.message, /api\.anthropic\.com/);
  assert.match(err.message, /first-byte/);
});

test('upstreamError: a body timeout is a 504 naming the idle timeout', () => {
  const err = upstreamError(codeErr('UND_ERR_BODY_TIMEOUT'), ORIGIN);
  assert.ok(err instanceof UpstreamTimeoutError);
  assert.equal(err.status, 504);
  assert.match(err.message, /idle/);
});

test('upstreamError: ECONNREFUSED is a retryable 502 naming the code, with the cause kept', () => {
  const cause = codeErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
  const err = upstreamError(cause, 'http://127.0.0.1:1');
  assert.ok(err instanceof UpstreamUnreachableError);
  assert.equal(err.status, 502);
  assert.equal(err.type, 'gateway_upstream_unreachable');
  assert.equal(err.retryable, true);
  assert.match(err.message, /http:\/\/127\.0\.0\.1:1/);
  assert.match(err.message, /ECONNREFUSED/);
  assert.equal(err.cause, cause);
});

test('upstreamError: a connect timeout is a retryable 502', () => {
  const err = upstreamError(codeErr('UND_ERR_CONNECT_TIMEOUT'), ORIGIN);
  assert.ok(err instanceof UpstreamUnreachableError);
  assert.equal(err.status, 502);
  assert.equal(err.retryable, true);
  assert.match(err.message, /connect timeout/);
});

test('upstreamError: an invalid-argument error is the client\'s fault (400, not retryable)', () => {
  const err = upstreamError(codeErr('UND_ERR_INVALID_ARG', 'invalid header value'), ORIGIN);
  assert.ok(err instanceof InvalidRequestError);
  assert.equal(err.status, 400);
  assert.equal(err.retryable, false);
  assert.match(err.message, /invalid header value/);
});

test('upstreamError: a GatewayError passes through as the same object', () => {
  const original = new UpstreamTimeoutError(ORIGIN, 'x');
  assert.equal(upstreamError(original, 'other'), original);
});

test('upstreamError: errors without a code, and non-Error values, become 502 with their message', () => {
  const a = upstreamError(new Error('socket hang up'), ORIGIN);
  assert.ok(a instanceof UpstreamUnreachableError);
  assert.match(a.message, /socket hang up/);
  const b = upstreamError('weird', ORIGIN);
  assert.ok(b instanceof GatewayError);
  assert.equal(b.status, 502);
  assert.match(b.message, /weird/);
});

test('upstreamError: connect failure, reset before headers and close mid-response are three different answers', () => {
  const refused = upstreamError(codeErr('ECONNREFUSED'), ORIGIN);
  assert.ok(refused instanceof UpstreamUnreachableError);
  assert.equal(refused.phase, 'connect');
  assert.match(refused.message, /^Could not connect to upstream/);
  const reset = upstreamError(codeErr('ECONNRESET', 'read ECONNRESET'), ORIGIN);
  assert.ok(reset instanceof UpstreamUnreachableError);
  assert.equal(reset.phase, 'before_headers');
  assert.match(reset.message, /closed the connection before sending a response/);
  const mid = upstreamError(codeErr('UND_ERR_SOCKET', 'other side closed'), ORIGIN, { bytes: 321 });
  assert.ok(mid instanceof UpstreamClosedError);
  assert.equal(mid.code, 'GATEWAY_UPSTREAM_CLOSED');
  assert.equal(mid.type, 'gateway_upstream_closed');
  assert.match(mid.message, /mid-response after 321 body bytes/);
  assert.doesNotMatch(mid.message, /reach/);
  assert.equal(new Set([refused.code, upstreamError(codeErr('UND_ERR_HEADERS_TIMEOUT'), ORIGIN).code, mid.code]).size, 3);
});

test('servedHeaders names the target, attempts, fallback and route only when there is something to say', async () => {
  const { servedHeaders } = await import('./forward.js');
  const t = { name: 'anthropic', model: null, fallback: false } as never;
  const plain = { kind: 'upstream' as const, targets: [], forTarget: undefined, route: null, routeHeader: null };
  assert.deepEqual(servedHeaders(plain, t, 1), { 'x-sluice-served-by': 'anthropic' });
  const fb = { name: 'eu', model: 'm', fallback: true } as never;
  assert.deepEqual(servedHeaders({ ...plain, routeHeader: 'r; arm=a' }, fb, 3), {
    'x-sluice-served-by': 'eu; model=m', 'x-sluice-attempts': '3', 'x-sluice-fallback': '1', 'x-sluice-route': 'r; arm=a',
  });
});

test('httpSink writes headers once, flushes SSE headers at once, and ends a failed SSE stream with an error event', async () => {
  const { httpSink } = await import('./forward.js');
  const { UpstreamClosedError } = await import('../errors.js');
  const calls: string[] = [];
  const res = {
    destroyed: false,
    writeHead: (s: number) => { calls.push(`head ${s}`); },
    flushHeaders: () => { calls.push('flush'); },
    write: (c: Buffer) => { calls.push(`write ${c}`); return true; },
    end: (c?: string) => { calls.push(c ? `end ${c.split('\n')[0]}` : 'end'); },
    destroy: () => { calls.push('destroy'); },
    once: () => {},
  };
  const sse = httpSink(res as never, 'req_1');
  sse.start(200, { 'content-type': 'text/event-stream' });
  sse.write(Buffer.from('a'));
  sse.fail(new UpstreamClosedError('x', 'reset', 1));
  assert.deepEqual(calls, ['head 200', 'flush', 'write a', 'end event: error']);
  calls.length = 0;
  const json = httpSink(res as never, 'req_2');
  json.start(200, { 'content-type': 'application/json' });
  json.fail(new UpstreamClosedError('x', 'reset', 1));
  assert.deepEqual(calls, ['head 200', 'destroy']);
});
