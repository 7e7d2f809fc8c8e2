// Tests for the Host / Origin guard: the loopback Host table (DNS rebinding) and the browser
// origin rules, asserting the exact error classes, codes and statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestOrigin, isLoopbackHost } from './guard.js';
import { ForbiddenHostError, ForbiddenOriginError } from '../errors.js';

const accepted = [
  'localhost',
  'LOCALHOST:80',
  'localhost:7420',
  'localhost.',
  ' localhost ',
  '127.0.0.1',
  '127.0.0.1:7420',
  '127.255.255.254:1',
  '127.1.2.3',
  '[::1]',
  '[::1]:7420',
  '[0:0:0:0:0:0:0:1]:80',
];

const refused: Array<[string, string | undefined]> = [
  ['0.0.0.0', '0.0.0.0'],
  ['private address', '10.0.0.1'],
  ['LAN address with port', '192.168.1.2:7420'],
  ['suffix attack', 'localhost.evil.com'],
  ['loopback-looking subdomain', '127.0.0.1.evil.com'],
  ['prefix attack', 'evil-localhost'],
  ['short form 127.1 (not a dotted quad)', '127.1'],
  ['octet above 255', '127.256.0.1'],
  ['first octet 256', '256.0.0.1'],
  ['IPv4-mapped IPv6 loopback', '[::ffff:127.0.0.1]'],
  ['another IPv6 address', '[::2]'],
  ['unbracketed IPv6', '::1'],
  ['IPv6 without closing bracket', '[::1'],
  ['IPv6 with junk after the bracket', '[::1]x'],
  ['IPv6 with empty port', '[::1]:'],
  ['non-numeric port', 'localhost:abc'],
  ['empty port', 'localhost:'],
  ['six-digit port', 'localhost:123456'],
  ['two ports', '127.0.0.1:80:80'],
  ['empty string', ''],
  ['missing', undefined],
];

for (const host of accepted) {
  test(`isLoopbackHost accepts ${JSON.stringify(host)}`, () => {
    assert.equal(isLoopbackHost(host), true);
  });
}

for (const [why, host] of refused) {
  test(`isLoopbackHost refuses ${why} (${JSON.stringify(host)})`, () => {
    assert.equal(isLoopbackHost(host), false);
  });
}

const policy = { allowedOrigins: ['http://localhost:5173', 'https://dash.example'] };

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

test('checkRequestOrigin: a non-loopback Host throws ForbiddenHostError (403, GATEWAY_FORBIDDEN_HOST)', () => {
  const err = thrown(() => checkRequestOrigin({ host: 'attacker.example:7420' }, policy));
  assert.ok(err instanceof ForbiddenHostError);
  assert.equal(err.status, 403);
  assert.equal(err.code, 'GATEWAY_FORBIDDEN_HOST');
  assert.equal(err.type, 'gateway_forbidden_host');
  assert.match(err.message, /attacker\.example:7420/);
});

test('checkRequestOrigin: a missing Host is refused', () => {
  assert.throws(() => checkRequestOrigin({}, policy), ForbiddenHostError);
});

test('checkRequestOrigin: the Host check runs before the Origin check', () => {
  // An allowed origin must not excuse a rebinding Host.
  assert.throws(() => checkRequestOrigin({ host: 'evil.example', origin: 'http://localhost:5173' }, policy), ForbiddenHostError);
});

test('checkRequestOrigin: passes without Origin (Claude Code, SDKs, curl)', () => {
  assert.doesNotThrow(() => checkRequestOrigin({ host: '127.0.0.1:7420' }, policy));
  assert.doesNotThrow(() => checkRequestOrigin({ host: 'localhost:7420' }, { allowedOrigins: [] }));
});

test('checkRequestOrigin: passes for an allowed Origin, even when the request is cross-site', () => {
  assert.doesNotThrow(() => checkRequestOrigin({ host: 'localhost', origin: 'http://localhost:5173' }, policy));
  assert.doesNotThrow(() => checkRequestOrigin({ host: 'localhost', origin: 'https://dash.example', 'sec-fetch-site': 'cross-site' }, policy));
});

test('checkRequestOrigin: a disallowed Origin throws ForbiddenOriginError (403, GATEWAY_FORBIDDEN_ORIGIN)', () => {
  for (const origin of ['https://evil.example', 'null', '', 'http://localhost:5174', 'https://dash.example/']) {
    const err = thrown(() => checkRequestOrigin({ host: '127.0.0.1', origin }, policy));
    assert.ok(err instanceof ForbiddenOriginError, `origin ${JSON.stringify(origin)} passed`);
    assert.equal(err.status, 403);
    assert.equal(err.code, 'GATEWAY_FORBIDDEN_ORIGIN');
    assert.equal(err.type, 'gateway_forbidden_origin');
  }
});

test('checkRequestOrigin: with no allowed origins every browser Origin is refused', () => {
  assert.throws(() => checkRequestOrigin({ host: 'localhost', origin: 'http://localhost:5173' }, { allowedOrigins: [] }), ForbiddenOriginError);
});

test('checkRequestOrigin: cross-site and same-site fetches without Origin are refused', () => {
  for (const site of ['cross-site', 'same-site']) {
    const err = thrown(() => checkRequestOrigin({ host: 'localhost', 'sec-fetch-site': site }, policy));
    assert.ok(err instanceof ForbiddenOriginError, `${site} passed`);
    assert.equal(err.code, 'GATEWAY_FORBIDDEN_ORIGIN');
    assert.equal(err.status, 403);
    assert.match(err.message, new RegExp(site));
  }
});

test('checkRequestOrigin: same-origin and none fetches without Origin pass', () => {
  for (const site of ['same-origin', 'none']) {
    assert.doesNotThrow(() => checkRequestOrigin({ host: 'localhost', 'sec-fetch-site': site }, policy));
  }
});
