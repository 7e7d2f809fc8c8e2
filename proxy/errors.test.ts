// Tests for the error taxonomy: every class's code, type, status and retryable flag, and the
// one serialiser into Anthropic's error envelope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  asGatewayError, BodyTooLargeError, ForbiddenHostError, ForbiddenOriginError, GatewayError, InternalError,
  InvalidRequestError, NotFoundError, ProviderKeyMissingError, ShuttingDownError, toErrorBody, UnauthorizedError,
  UpstreamClosedError, UpstreamTimeoutError, UpstreamUnreachableError,
} from './errors.js';

const cases: Array<{ make: () => GatewayError; cls: Function; code: string; status: number; type: string }> = [
  { make: () => new UnauthorizedError(), cls: UnauthorizedError, code: 'GATEWAY_UNAUTHORIZED', status: 401, type: 'gateway_authentication_error' },
  { make: () => new ForbiddenHostError('evil.example'), cls: ForbiddenHostError, code: 'GATEWAY_FORBIDDEN_HOST', status: 403, type: 'gateway_forbidden_host' },
  { make: () => new ForbiddenOriginError('https://evil.example'), cls: ForbiddenOriginError, code: 'GATEWAY_FORBIDDEN_ORIGIN', status: 403, type: 'gateway_forbidden_origin' },
  { make: () => new ProviderKeyMissingError('anthropic'), cls: ProviderKeyMissingError, code: 'GATEWAY_PROVIDER_KEY_MISSING', status: 403, type: 'gateway_provider_key_missing' },
  { make: () => new InvalidRequestError('bad'), cls: InvalidRequestError, code: 'GATEWAY_INVALID_REQUEST', status: 400, type: 'gateway_invalid_request_error' },
  { make: () => new BodyTooLargeError(32 * 1024 * 1024), cls: BodyTooLargeError, code: 'GATEWAY_BODY_TOO_LARGE', status: 413, type: 'gateway_request_too_large' },
  { make: () => new NotFoundError('GET', '/nope'), cls: NotFoundError, code: 'GATEWAY_NOT_FOUND', status: 404, type: 'gateway_not_found_error' },
  { make: () => new UpstreamUnreachableError('https://api.anthropic.com', 'ECONNREFUSED'), cls: UpstreamUnreachableError, code: 'GATEWAY_UPSTREAM_UNREACHABLE', status: 502, type: 'gateway_upstream_unreachable' },
  { make: () => new UpstreamTimeoutError('https://api.anthropic.com', 'first byte'), cls: UpstreamTimeoutError, code: 'GATEWAY_UPSTREAM_TIMEOUT', status: 504, type: 'gateway_upstream_timeout' },
  { make: () => new UpstreamClosedError('https://api.anthropic.com', 'ECONNRESET', 120), cls: UpstreamClosedError, code: 'GATEWAY_UPSTREAM_CLOSED', status: 502, type: 'gateway_upstream_closed' },
  { make: () => new ShuttingDownError(), cls: ShuttingDownError, code: 'GATEWAY_SHUTTING_DOWN', status: 503, type: 'gateway_unavailable' },
  { make: () => new InternalError(new Error('x')), cls: InternalError, code: 'GATEWAY_INTERNAL', status: 500, type: 'gateway_internal_error' },
];

for (const c of cases) {
  test(`${c.cls.name}: code ${c.code}, status ${c.status}, type ${c.type}`, () => {
    const err = c.make();
    assert.ok(err instanceof c.cls);
    assert.ok(err instanceof GatewayError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, c.cls.name);
    assert.equal(err.code, c.code);
    assert.match(err.code, /^GATEWAY_[A-Z]+(_[A-Z]+)*$/);
    assert.equal(err.status, c.status);
    assert.equal(err.type, c.type);
    assert.match(err.type, /^gateway_[a-z_]+$/);
    assert.ok(err.message.length > 0);
    // Retrying helps only when the upstream or the gateway itself is briefly unavailable.
    assert.equal(err.retryable, [502, 503, 504].includes(err.status));
  });
}

test('codes are unique across classes', () => {
  const codes = cases.map((c) => c.make().code);
  assert.equal(new Set(codes).size, codes.length);
});

test('toErrorBody produces Anthropic\'s envelope exactly', () => {
  const err = new InvalidRequestError('max_tokens: "x" is not a number');
  assert.equal(
    toErrorBody(err, 'req_sluice_1'),
    '{"type":"error","error":{"type":"gateway_invalid_request_error","message":"max_tokens: \\"x\\" is not a number"},"request_id":"req_sluice_1"}',
  );
  const parsed = JSON.parse(toErrorBody(new UnauthorizedError('who?'), 'req_2')) as unknown;
  assert.deepEqual(parsed, { type: 'error', error: { type: 'gateway_authentication_error', message: 'who?' }, request_id: 'req_2' });
});

test('every error says x-should-retry; ShuttingDownError also carries retry-after', () => {
  assert.deepEqual(new ShuttingDownError().headers, { 'x-should-retry': 'true', 'retry-after': '1' });
  assert.deepEqual(new InvalidRequestError('x').headers, { 'x-should-retry': 'false' });
  for (const c of cases) assert.equal(c.make().headers['x-should-retry'], String(c.make().retryable));
});

test('messages name what the user can act on, truncated for hostile input', () => {
  assert.match(new ForbiddenHostError('evil.example').message, /"evil\.example"/);
  assert.ok(new ForbiddenHostError('h'.repeat(10_000)).message.length < 400);
  assert.ok(new ForbiddenOriginError('o'.repeat(10_000)).message.length < 500);
  assert.match(new ProviderKeyMissingError('open-router').message, /sluice key set open-router.*SLUICE_OPEN_ROUTER_API_KEY/);
  assert.match(new BodyTooLargeError(32 * 1024 * 1024).message, /32 MB/);
  assert.match(new NotFoundError('POST', '/v2/x').message, /POST \/v2\/x/);
});

test('the cause is kept where given', () => {
  const cause = new Error('root');
  assert.equal(new InternalError(cause).cause, cause);
  assert.equal(new UpstreamUnreachableError('t', 'r', cause).cause, cause);
  assert.equal(new InvalidRequestError('x').cause, undefined);
});

test('asGatewayError keeps a GatewayError and wraps anything else as GATEWAY_INTERNAL', () => {
  const ge = new NotFoundError('GET', '/');
  assert.equal(asGatewayError(ge), ge);
  const cause = new TypeError('oops');
  const wrapped = asGatewayError(cause);
  assert.ok(wrapped instanceof InternalError);
  assert.equal(wrapped.status, 500);
  assert.equal(wrapped.cause, cause);
  // The internal message never leaks the cause's text to the client.
  assert.doesNotMatch(wrapped.message, /oops/);
});
