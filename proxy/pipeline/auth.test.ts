// Tests for caller authentication: local Sluice tokens via x-api-key or Bearer, and passthrough
// of the client's own Anthropic credential only when policy allows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate, createAuth, type AuthPolicy } from './auth.js';
import { UnauthorizedError } from '../errors.js';
import type { TokenRecord } from '../store/settings.js';

const record: TokenRecord = {
  id: 'id-1',
  name: 'claude-code',
  hash: 'a'.repeat(64),
  hint: 'k-1',
  createdAt: '2026-01-01T00:00:00.000Z',
  revokedAt: null,
};
const LOCAL = 'test-key-1';
const API_KEY = 'sk-ant-api03-FAKE';
const OAUTH = 'sk-ant-oat01-FAKE';

function policy(allowPassthrough: boolean): AuthPolicy & { seen: string[] } {
  const seen: string[] = [];
  return {
    allowPassthrough,
    seen,
    verify(presented) {
      seen.push(presented);
      return presented === LOCAL ? record : null;
    },
  };
}

test('a local token in x-api-key identifies the token', () => {
  const p = policy(false);
  assert.deepEqual(authenticate({ 'x-api-key': LOCAL }, p), { kind: 'token', token: record });
  assert.deepEqual(p.seen, [LOCAL]);
});

test('a local token as a Bearer credential, with any case of the scheme', () => {
  for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
    const caller = authenticate({ authorization: `${scheme} ${LOCAL}` }, policy(false));
    assert.equal(caller.kind, 'token', scheme);
    assert.equal(caller.kind === 'token' && caller.token.id, 'id-1');
  }
});

test('Bearer tolerates extra spaces and a trailing space, but not another scheme', () => {
  assert.equal(authenticate({ authorization: `Bearer   ${LOCAL} ` }, policy(false)).kind, 'token');
  assert.throws(() => authenticate({ authorization: `Basic ${LOCAL}` }, policy(false)), UnauthorizedError);
  assert.throws(() => authenticate({ authorization: LOCAL }, policy(false)), UnauthorizedError);
  assert.throws(() => authenticate({ authorization: `Bearer ${LOCAL} extra` }, policy(false)), UnauthorizedError);
});

test('an unknown token or no credential at all throws UnauthorizedError (401)', () => {
  for (const headers of [{ 'x-api-key': 'test-key-2' }, { authorization: 'Bearer test-key-2' }, {}, { 'x-api-key': '' }]) {
    assert.throws(() => authenticate(headers, policy(true)), (err: unknown) =>
      err instanceof UnauthorizedError && err.status === 401 && err.code === 'GATEWAY_UNAUTHORIZED');
  }
});

test('passthrough: an Anthropic API key is recognised only when allowed', () => {
  assert.deepEqual(authenticate({ 'x-api-key': API_KEY }, policy(true)), { kind: 'passthrough', credential: 'api-key' });
  assert.throws(() => authenticate({ 'x-api-key': API_KEY }, policy(false)), UnauthorizedError);
});

test('passthrough: an OAuth token is recognised only when allowed', () => {
  assert.deepEqual(authenticate({ authorization: `Bearer ${OAUTH}` }, policy(true)), { kind: 'passthrough', credential: 'oauth' });
  assert.throws(() => authenticate({ authorization: `Bearer ${OAUTH}` }, policy(false)), UnauthorizedError);
});

test('passthrough: something that merely starts with sk- is not an Anthropic credential', () => {
  assert.throws(() => authenticate({ 'x-api-key': 'sk-proj-FAKE' }, policy(true)), UnauthorizedError);
  assert.throws(() => authenticate({ 'x-api-key': 'sk-antFAKE' }, policy(true)), UnauthorizedError);
});

test('a local token wins over a passthrough credential sent alongside, in either header', () => {
  const a = authenticate({ 'x-api-key': API_KEY, authorization: `Bearer ${LOCAL}` }, policy(true));
  assert.equal(a.kind, 'token');
  const b = authenticate({ 'x-api-key': LOCAL, authorization: `Bearer ${OAUTH}` }, policy(true));
  assert.equal(b.kind, 'token');
});

test('an array-valued x-api-key uses its first value', () => {
  assert.equal(authenticate({ 'x-api-key': [LOCAL, 'test-key-2'] }, policy(false)).kind, 'token');
  assert.throws(() => authenticate({ 'x-api-key': ['test-key-2', LOCAL] }, policy(false)), UnauthorizedError);
});

test('createAuth: synchronous on the common path, reads allowPassthrough per request', () => {
  let allow = false;
  let reloads = 0;
  const auth = createAuth({
    allowPassthrough: () => allow,
    verify: (p) => (p === LOCAL ? record : null),
    reloadIfChanged: async () => { reloads++; return false; },
  });
  const caller = auth({ 'x-api-key': LOCAL });
  assert.ok(!(caller instanceof Promise));
  assert.equal((caller as { kind: string }).kind, 'token');
  allow = true;
  assert.deepEqual(auth({ 'x-api-key': API_KEY }), { kind: 'passthrough', credential: 'api-key' });
  assert.equal(reloads, 0);
});

test('createAuth: an unknown token retries once after the settings file changed, else 401', async () => {
  const tokens = new Set<string>();
  let changed = false;
  const auth = createAuth({
    allowPassthrough: () => false,
    verify: (p) => (tokens.has(p) ? record : null),
    reloadIfChanged: async () => { if (!changed) return false; tokens.add(LOCAL); return true; },
  });
  await assert.rejects(Promise.resolve(auth({ 'x-api-key': LOCAL })), UnauthorizedError);
  changed = true;
  assert.equal((await auth({ 'x-api-key': LOCAL })).kind, 'token');
});

test('createAuth: a failing reload is a 401, not a 500', async () => {
  const auth = createAuth({ allowPassthrough: () => false, verify: () => null, reloadIfChanged: async () => { throw new Error('EACCES'); } });
  await assert.rejects(Promise.resolve(auth({ authorization: 'Bearer x' })), UnauthorizedError);
});
