// Tests for the Host / Origin guard: the loopback Host table (DNS rebinding) and the browser
// origin rules, asserting the exact error classes, codes and statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestOrigin, createGuard, isLoopbackHost } from './guard.js';
import type { ProxyRequest, Stage } from './types.js';
import type { ResponseSink } from './dispatch.js';
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

const preq = { id: 'r1', notes: {} } as unknown as ProxyRequest;

test('createGuard: no stages is a synchronous no-op and the sink is not wrapped', () => {
  const g = createGuard({ stages: [], warn: () => {} });
  const finish = g.check(preq);
  assert.equal(typeof finish, 'function');
  const sink = {} as ResponseSink;
  assert.equal(g.tap(sink, preq), sink);
});

test('createGuard: stages run in order, sync ones without a promise; finish hooks run once', async () => {
  const order: string[] = [];
  const rows: unknown[] = [];
  const stage = (name: string, async: boolean): Stage => ({
    name,
    onRequest: async
      ? async () => { order.push(name); return (row) => rows.push(`${name}:${String(row)}`); }
      : () => { order.push(name); return (row) => rows.push(`${name}:${String(row)}`); },
  });
  const sync = createGuard({ stages: [stage('a', false), stage('b', false)], warn: () => {} });
  const f1 = sync.check(preq);
  assert.equal(typeof f1, 'function');
  (f1 as (r: null) => void)(null);
  (f1 as (r: null) => void)(null);
  assert.deepEqual(rows, ['a:null', 'b:null']);
  const mixed = createGuard({ stages: [stage('c', false), stage('d', true), stage('e', false)], warn: () => {} });
  const f2 = await mixed.check(preq);
  assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
  f2(null);
  assert.deepEqual(rows.slice(2), ['c:null', 'd:null', 'e:null']);
});

test('createGuard: a refusing stage runs the finish hooks collected so far and stops', async () => {
  const rows: string[] = [];
  const refuse = new Error('refused');
  const g = createGuard({
    stages: [
      { name: 'ok', onRequest: () => () => { rows.push('ok'); } },
      { name: 'no', onRequest: async () => { throw refuse; } },
      { name: 'never', onRequest: () => { rows.push('never'); } },
    ],
    warn: () => {},
  });
  await assert.rejects(Promise.resolve(g.check(preq)), refuse);
  assert.deepEqual(rows, ['ok']);
  const sync = createGuard({ stages: [{ name: 'no', onRequest: () => { throw refuse; } }], warn: () => {} });
  assert.throws(() => sync.check(preq), refuse);
});

test('createGuard: response hooks see headers before the sink and every chunk after it; a throwing hook is only logged', () => {
  const seen: string[] = [];
  const warnings: string[] = [];
  const g = createGuard({
    stages: [
      { name: 'tap', onRequest: () => {}, onResponse: (_r, status, h) => { h['x-added'] = '1'; seen.push(`start ${status}`); return { chunk: (b) => seen.push(`tap ${b}`), end: () => seen.push('tap end') }; } },
      { name: 'bad', onRequest: () => {}, onResponse: () => { throw new Error('boom'); } },
    ],
    warn: (m) => warnings.push(m),
  });
  const sink: ResponseSink = {
    start: (_s, h) => seen.push(`sink start ${h['x-added']}`),
    write: (c) => { seen.push(`sink ${c}`); return true; },
    onDrain: () => {},
    end: () => seen.push('sink end'),
    fail: () => seen.push('sink fail'),
  };
  const t = g.tap(sink, preq);
  t.start(200, {});
  t.write(Buffer.from('x'));
  t.end();
  assert.deepEqual(seen, ['start 200', 'sink start 1', 'sink x', 'tap x', 'sink end', 'tap end']);
  assert.equal(warnings.length, 1);
});
