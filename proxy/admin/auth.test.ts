// Admin auth without a server: token check, one-time codes (single use, 5-minute expiry on an
// injected clock), session cookies, cookie parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_COOKIE, ADMIN_TOKEN_PREFIX, createAdminAuth, readCookie, safeEqual } from './auth.js';
import { UnauthorizedError } from '../errors.js';
import { AdminError } from './admin-error.js';

test('a generated admin token is 32 random bytes and differs per instance', () => {
  const a = createAdminAuth().token;
  const b = createAdminAuth().token;
  assert.ok(a.startsWith(ADMIN_TOKEN_PREFIX));
  assert.equal(Buffer.from(a.slice(ADMIN_TOKEN_PREFIX.length), 'base64url').length, 32);
  assert.notEqual(a, b);
});

test('Bearer admin token passes; a wrong or malformed one is refused', () => {
  const auth = createAdminAuth({ token: 'admin-test-token-1' });
  assert.equal(auth.check({ authorization: 'Bearer admin-test-token-1' }), 'token');
  assert.equal(auth.check({ authorization: 'bearer admin-test-token-1' }), 'token');
  assert.throws(() => auth.check({ authorization: 'Bearer admin-test-token-2' }), UnauthorizedError);
  assert.throws(() => auth.check({ authorization: 'admin-test-token-1' }), UnauthorizedError);
  assert.throws(() => auth.check({}), UnauthorizedError);
});

test('a login code buys one session, once', () => {
  const auth = createAdminAuth();
  const code = auth.issueLoginCode();
  const session = auth.redeemLoginCode(code);
  assert.equal(auth.check({ cookie: `other=1; ${ADMIN_COOKIE}=${session}` }), 'session');
  assert.throws(() => auth.redeemLoginCode(code), UnauthorizedError, 'second use refused');
  assert.throws(() => auth.check({ cookie: `${ADMIN_COOKIE}=${session}x` }), UnauthorizedError);
  assert.throws(() => auth.redeemLoginCode('never-issued'), UnauthorizedError);
});

test('a login code expires after 5 minutes', () => {
  let t = 1_000_000;
  const auth = createAdminAuth({ now: () => t });
  const fresh = auth.issueLoginCode();
  const stale = auth.issueLoginCode();
  t += 5 * 60_000 - 1;
  assert.ok(auth.redeemLoginCode(fresh));
  t += 1;
  assert.throws(() => auth.redeemLoginCode(stale), (e: unknown) => e instanceof AdminError && e.code === 'ADMIN_LOGIN_EXPIRED' && e.status === 401);
});

test('a wrong bearer is refused even beside a valid session cookie', () => {
  const auth = createAdminAuth();
  const session = auth.redeemLoginCode(auth.issueLoginCode());
  assert.throws(() => auth.check({ authorization: 'Bearer nope', cookie: `${ADMIN_COOKIE}=${session}` }), UnauthorizedError);
});

test('the cookie is HttpOnly, SameSite=Strict, Path=/', () => {
  const auth = createAdminAuth();
  assert.equal(auth.cookieFor('abc'), `${ADMIN_COOKIE}=abc; HttpOnly; SameSite=Strict; Path=/`);
});

test('only the newest sessions are kept past the cap', () => {
  const auth = createAdminAuth({ maxSessions: 2 });
  const s1 = auth.redeemLoginCode(auth.issueLoginCode());
  const s2 = auth.redeemLoginCode(auth.issueLoginCode());
  const s3 = auth.redeemLoginCode(auth.issueLoginCode());
  assert.throws(() => auth.check({ cookie: `${ADMIN_COOKIE}=${s1}` }), UnauthorizedError);
  assert.equal(auth.check({ cookie: `${ADMIN_COOKIE}=${s2}` }), 'session');
  assert.equal(auth.check({ cookie: `${ADMIN_COOKIE}=${s3}` }), 'session');
});

test('readCookie and safeEqual', () => {
  assert.equal(readCookie('a=1; b = 2 ;c=3', 'b'), '2');
  assert.equal(readCookie('a=1', 'b'), null);
  assert.equal(readCookie(undefined, 'b'), null);
  assert.equal(safeEqual('x', 'x'), true);
  assert.equal(safeEqual('x', 'xy'), false);
});
