import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './api.js';
import { describeError, ERROR_TABLE } from './errors.js';

test('known codes map to a title, message and action', () => {
  const e = describeError(new ApiError('GATEWAY_UNAUTHORIZED', 401, 'server words'));
  assert.equal(e.title, 'You are signed out');
  assert.equal(e.signedOut, true);
  assert.deepEqual(e.action, { kind: 'command', label: 'Get a new login link', command: 'sluice open' });
  assert.equal(e.detail, null, 'the server message is not repeated where the table says enough');
});

test('validation errors carry the server detail (which field)', () => {
  const e = describeError(new ApiError('GATEWAY_INVALID_REQUEST', 400, 'Invalid settings: port: Too big'));
  assert.equal(e.detail, 'Invalid settings: port: Too big');
  assert.equal(e.signedOut, false);
});

test('network failure and unknown codes', () => {
  const n = describeError(new ApiError('NETWORK', 0, 'The gateway did not answer.'));
  assert.equal(n.title, 'Sluice is not answering');
  assert.equal(n.action?.kind, 'command');
  const u = describeError(new ApiError('SOMETHING_NEW', 418, 'teapot'));
  assert.equal(u.title, 'Unexpected error');
  assert.equal(u.detail, 'teapot');
  assert.equal(u.code, 'SOMETHING_NEW');
  const plain = describeError(new TypeError('x is undefined'));
  assert.equal(plain.code, 'UNKNOWN');
  assert.equal(plain.detail, 'x is undefined');
});

test('every code the admin API and the tools library can send has an entry', () => {
  const codes = ['GATEWAY_UNAUTHORIZED', 'ADMIN_LOGIN_EXPIRED', 'GATEWAY_INVALID_REQUEST', 'ADMIN_NOT_FOUND', 'ADMIN_CONFLICT',
    'ADMIN_UNSUPPORTED_MEDIA_TYPE', 'ADMIN_KEYCHAIN_UNAVAILABLE', 'ADMIN_LEDGER_UNAVAILABLE', 'ADMIN_UI_NOT_BUILT', 'GATEWAY_SHUTTING_DOWN',
    'GATEWAY_INTERNAL', 'GATEWAY_FORBIDDEN_ORIGIN', 'GATEWAY_FORBIDDEN_HOST', 'TOOL_CONFIG_UNPARSEABLE', 'TOOL_CONFIG_UNEXPECTED_SHAPE',
    'TOOL_CONFIG_ENCODING', 'TOOL_CONFIG_NOT_INSTALLED', 'TOOL_CONFIG_UNKNOWN_TOOL', 'TOOL_CONFIG_BAD_CONNECTION',
    'TOOL_CONFIG_RECORD_INVALID', 'TOOL_CONFIG_COMMAND_FAILED', 'NETWORK'];
  for (const c of codes) assert.ok(ERROR_TABLE[c], c);
});

test('the control API\'s codes: its 401 signs out, a missing policy and a missing extension are explained', () => {
  const out = describeError(new ApiError('GATEWAY_ADMIN_UNAUTHORIZED', 401, 'The control API needs the admin credential.'));
  assert.equal(out.signedOut, true);
  assert.equal(out.action?.kind, 'command');
  const gone = describeError(new ApiError('GATEWAY_NOT_FOUND', 404, 'DELETE /admin/api/control/policies/x'));
  assert.equal(gone.detail, 'DELETE /admin/api/control/policies/x');
  assert.equal(gone.signedOut, false);
  const none = describeError(new ApiError('CONTROL_UNAVAILABLE', 404, 'not an admin API route'));
  assert.equal(none.title, 'Budgets and guardrails are not running');
  assert.equal(none.detail, null);
});
