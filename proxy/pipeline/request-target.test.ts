// Table-driven tests for the request-target normaliser: what may be forwarded, what is refused,
// and that a base URL with a path prefix is never left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTargetRefusedError } from '../errors.js';
import { isForwardablePath, normalizeRequestTarget, reduceAbsoluteForm, selfAuthorities } from './request-target.js';

const self = selfAuthorities(8787);
const opts = { self, scope: '/v1/' };

const accepted: [string, string][] = [
  ['/v1/messages', '/v1/messages'],
  ['/v1/messages?beta=true', '/v1/messages?beta=true'],
  // Query bytes are kept exactly, dots, escapes and slashes included.
  ['/v1/messages?beta=true&x=%2e%2e/../a?b', '/v1/messages?beta=true&x=%2e%2e/../a?b'],
  ['/v1/messages/count_tokens?beta=true', '/v1/messages/count_tokens?beta=true'],
  ['/v1/messages/batches/msgbatch_1/results', '/v1/messages/batches/msgbatch_1/results'],
  ['/v1/chat/completions', '/v1/chat/completions'],
  ['/v1/models?limit=5', '/v1/models?limit=5'],
  // An encoded slash inside a model id is data, not a dot-segment.
  ['/v1/models/deepseek%2Fdeepseek-chat', '/v1/models/deepseek%2Fdeepseek-chat'],
  ['/v1/models/claude-3.5-sonnet', '/v1/models/claude-3.5-sonnet'],
  ['/v1/models/a...b', '/v1/models/a...b'],
  // Raw dot-segments are resolved (RFC 3986 §5.2.4).
  ['/v1/messages/../models', '/v1/models'],
  ['/v1/./messages', '/v1/messages'],
  ['/v1/messages/./count_tokens?beta=true', '/v1/messages/count_tokens?beta=true'],
  ['/v1/messages/batches/..', '/v1/messages/'],
  ['/v1/a/b/./../../messages', '/v1/messages'],
  // Absolute-form naming the gateway itself is reduced to its path and query.
  ['http://127.0.0.1:8787/v1/messages?beta=true', '/v1/messages?beta=true'],
  ['HTTP://LOCALHOST:8787/v1/messages', '/v1/messages'],
  ['http://[::1]:8787/v1/models', '/v1/models'],
];

for (const [input, want] of accepted) {
  test(`forwards ${input} as ${want}`, () => {
    const got = normalizeRequestTarget(input, opts);
    assert.equal(got, want);
    assert.ok(isForwardablePath(got), `${got} passes the last check`);
  });
}

const refused: [string, string][] = [
  ['http://evil.example/v1/messages', 'absolute-form for another host'],
  ['http://evil.example:8787/v1/messages', 'another host on our port'],
  ['http://127.0.0.1:9999/v1/messages', 'a loopback name on another port'],
  ['http://127.0.0.1/v1/messages', 'our host without our port'],
  ['http://user@127.0.0.1:8787/v1/messages', 'a userinfo'],
  ['https://127.0.0.1:8787/v1/messages', 'another scheme'],
  ['*', 'asterisk-form'],
  ['evil.example:443', 'authority-form'],
  ['/v1/../admin/api/status', 'raw dot-segments out of /v1/'],
  ['/v1/messages/../../internal', 'climbing out of /v1/'],
  ['/v1/../../etc/passwd', 'climbing above the root'],
  ['/v1/%2e%2e/secret', 'percent-encoded ..'],
  ['/v1/%2E%2E/secret', 'upper-case percent-encoded ..'],
  ['/v1/.%2e/secret', 'half-encoded ..'],
  ['/v1/%2e/messages', 'percent-encoded .'],
  ['/v1/..%2fadmin', 'an encoded slash after ..'],
  ['/v1/..%2Fadmin', 'an upper-case encoded slash after ..'],
  ['/v1/..%5cadmin', 'an encoded backslash after ..'],
  ['/v1/..\\admin', 'a raw backslash after ..'],
  ['/v1/%252e%252e/secret', 'double-encoded ..'],
  ['/v1/%25252e%25252e/secret', 'triple-encoded ..'],
  ['/v1/%252e%252e%252fadmin', 'double-encoded ../'],
  ['/v1/..;/admin', 'a servlet path parameter after ..'],
  ['/v1/messages#frag', 'a fragment'],
  ['/admin/api/status', 'a path outside /v1/'],
  ['/v1', 'the bare /v1'],
  ['/V1/messages', 'another case of /v1/'],
  ['http://127.0.0.1:8787/admin/api/status', 'our own authority but outside /v1/'],
  ['http://127.0.0.1:8787/v1/../admin', 'our own authority with dot-segments out of /v1/'],
];

for (const [input, why] of refused) {
  test(`refuses ${input} (${why})`, () => {
    assert.throws(() => normalizeRequestTarget(input, opts), (err: unknown) => {
      assert.ok(err instanceof RequestTargetRefusedError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'GATEWAY_REQUEST_TARGET_REFUSED');
      assert.ok(err.type.startsWith('gateway_'));
      return true;
    });
  });
}

test('the common case returns the very string it was given (no copy on the hot path)', () => {
  const s = '/v1/messages?beta=true';
  assert.equal(normalizeRequestTarget(s, opts), s);
});

test('port 80 also accepts its authority without a port', () => {
  assert.equal(reduceAbsoluteForm('http://localhost/v1/messages', selfAuthorities(80)), '/v1/messages');
  assert.equal(reduceAbsoluteForm('http://localhost:80?x', selfAuthorities(80)), '/?x');
  assert.throws(() => reduceAbsoluteForm('http://localhost/v1/messages', selfAuthorities(8787)), RequestTargetRefusedError);
});

test('the last check refuses what a base URL path prefix could be left through', () => {
  for (const p of ['v1/messages', '//evil.example/v1/messages', 'http://evil.example/v1/messages', '/v1/../x', '/v1/./x',
    '/v1/%2e%2e/x', '/v1/%252e%252e/x', '/v1/..%5cx', '/v1/..;/x', '/v1/x#y']) {
    assert.equal(isForwardablePath(p), false, p);
  }
  for (const p of ['/v1/messages?x=/../..', '/chat/completions', '/models', '/v1/models/a%2Fb']) assert.equal(isForwardablePath(p), true, p);
});

test('with a base URL path prefix, every accepted target stays under the prefix', () => {
  // How upstream.ts joins them: the base path without its trailing slash, then the target.
  const base = new URL('https://relay.example/anthropic/');
  const prefix = base.pathname.replace(/\/$/, '');
  for (const [input] of accepted) {
    const joined = prefix + normalizeRequestTarget(input, opts);
    const resolved = new URL(joined, base.origin);
    assert.equal(resolved.origin, base.origin, input);
    assert.ok(resolved.pathname.startsWith('/anthropic/v1/'), `${input} -> ${resolved.pathname}`);
    // Decoding every escape the resolved path has still stays under the prefix.
    assert.ok(new URL(decodeURIComponent(resolved.pathname), base.origin).pathname.startsWith('/anthropic/'), input);
  }
});
