// Tests for request attribution: session ids (header, both metadata.user_id forms), agent ids,
// and client families from real-looking user-agent strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentIdFrom, clientFamilyFrom, headerValue, isSafeId, sessionIdFrom } from './attribution.js';

const SESSION = '3f2a9c1e-7b4d-4e8a-9c21-5d6e7f8a9b0c';
const OTHER = 'aa11bb22-cc33-4d44-8e55-ff6677889900';
const DEVICE = 'd'.repeat(64);

test('header wins over metadata', () => {
  const userId = JSON.stringify({ device_id: DEVICE, account_uuid: '', session_id: OTHER });
  assert.deepEqual(sessionIdFrom({ 'x-claude-code-session-id': SESSION }, userId), { sessionId: SESSION, source: 'header' });
});

test('metadata.user_id JSON form (Claude Code 2.1.78+)', () => {
  const userId = JSON.stringify({ device_id: DEVICE, account_uuid: '', session_id: SESSION });
  assert.deepEqual(sessionIdFrom({}, userId), { sessionId: SESSION, source: 'metadata_json' });
});

test('metadata.user_id legacy form, with and without an account uuid', () => {
  assert.deepEqual(sessionIdFrom({}, `user_${DEVICE}_account_${OTHER}_session_${SESSION}`), { sessionId: SESSION, source: 'metadata_legacy' });
  assert.deepEqual(sessionIdFrom({}, `user_${DEVICE}_account__session_${SESSION}`), { sessionId: SESSION, source: 'metadata_legacy' });
});

test('garbage session ids are rejected at every source', () => {
  const bad = '../../etc/passwd';
  assert.deepEqual(sessionIdFrom({ 'x-claude-code-session-id': bad }, undefined), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, JSON.stringify({ device_id: DEVICE, session_id: 'a b"c' })), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, JSON.stringify({ session_id: 'x'.repeat(129) })), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, JSON.stringify({ session_id: 42 })), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, `user_${DEVICE}_account__session_${SESSION}<script>`), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, '{not json'), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, 'some-random-user'), { sessionId: null, source: null });
  assert.deepEqual(sessionIdFrom({}, undefined), { sessionId: null, source: null });
});

test('an invalid header falls through to valid metadata', () => {
  const userId = JSON.stringify({ device_id: DEVICE, account_uuid: '', session_id: SESSION });
  assert.deepEqual(sessionIdFrom({ 'x-claude-code-session-id': 'not valid!' }, userId), { sessionId: SESSION, source: 'metadata_json' });
});

test('isSafeId accepts UUIDs and short tokens only', () => {
  assert.equal(isSafeId(SESSION), true);
  assert.equal(isSafeId('agent_01-abc'), true);
  assert.equal(isSafeId('x'.repeat(128)), true);
  assert.equal(isSafeId('x'.repeat(129)), false);
  assert.equal(isSafeId(''), false);
  assert.equal(isSafeId('a\nb'), false);
});

test('headerValue: a miss on an all-lowercase bag does not hide a mixed-case bag read later', () => {
  const lower = { 'user-agent': 'x' };
  assert.equal(headerValue(lower, 'x-app'), undefined);
  assert.equal(headerValue(lower, 'X-App'), undefined);
  const mixed = { 'User-Agent': 'x', 'X-App': ' cli ' };
  assert.equal(headerValue(mixed, 'x-app'), 'cli');
  assert.equal(headerValue(mixed, 'x-title'), undefined);
  assert.equal(headerValue(mixed, 'user-agent'), 'x');
  // A name asked for in mixed case is looked up case-insensitively even in a lowercase bag.
  assert.equal(headerValue({ 'x-title': 'Cline' }, 'X-Title'), 'Cline');
});

test('headerValue is case-insensitive and takes the first of repeated values', () => {
  assert.equal(headerValue({ 'X-Claude-Code-Session-Id': ` ${SESSION} ` }, 'x-claude-code-session-id'), SESSION);
  assert.equal(headerValue({ 'x-app': ['cli', 'other'] }, 'x-app'), 'cli');
  assert.equal(headerValue({}, 'x-app'), undefined);
});

test('agent and parent agent ids', () => {
  assert.deepEqual(agentIdFrom({ 'x-claude-code-agent-id': 'a1b2c3', 'x-claude-code-parent-agent-id': SESSION }), {
    agentId: 'a1b2c3',
    parentAgentId: SESSION,
  });
  assert.deepEqual(agentIdFrom({ 'x-claude-code-agent-id': 'bad id' }), { agentId: null, parentAgentId: null });
});

test('client families from real-looking requests', () => {
  const cases: Array<[string | undefined, Record<string, string>, { family: string; version: string | null }]> = [
    ['claude-cli/2.1.197 (external, sdk-cli)', { 'x-app': 'cli', 'x-stainless-lang': 'js', 'anthropic-version': '2023-06-01' }, { family: 'claude-code', version: '2.1.197' }],
    ['claude-cli/2.1.197 (external, cli)', {}, { family: 'claude-code', version: '2.1.197' }],
    ['claude-cli/2.1.197 (external, claude-vscode, agent-sdk/0.2.9)', {}, { family: 'claude-code-vscode', version: '2.1.197' }],
    [undefined, { 'x-app': 'cli' }, { family: 'claude-code', version: null }],
    ['Anthropic/JS 0.71.2', { 'x-stainless-lang': 'js', 'anthropic-version': '2023-06-01' }, { family: 'anthropic-sdk-ts', version: '0.71.2' }],
    ['Anthropic/Python 0.75.0', { 'x-stainless-lang': 'python' }, { family: 'anthropic-sdk-python', version: '0.75.0' }],
    ['OpenAI/JS 6.49.0', { 'x-stainless-lang': 'js' }, { family: 'openai-sdk', version: '6.49.0' }],
    ['OpenAI/Python 1.109.1', {}, { family: 'openai-sdk', version: '1.109.1' }],
    ['node', { 'x-stainless-lang': 'js', 'x-stainless-package-version': '0.71.2', 'anthropic-version': '2023-06-01' }, { family: 'anthropic-sdk-ts', version: '0.71.2' }],
    ['node', { 'x-stainless-lang': 'js', 'x-stainless-package-version': '6.49.0' }, { family: 'openai-sdk', version: '6.49.0' }],
    ['Cline/3.38.1', { 'x-title': 'Cline' }, { family: 'cline', version: '3.38.1' }],
    ['Anthropic/JS 0.37.0', { 'http-referer': 'https://cline.bot', 'x-title': 'Cline' }, { family: 'cline', version: null }],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Cursor/1.7.44 Chrome/132.0.6834.210 Electron/34.5.8 Safari/537.36',
      {},
      { family: 'cursor', version: '1.7.44' },
    ],
    ['connect-es/1.6.1', { 'x-cursor-client-version': '1.7.44' }, { family: 'cursor', version: '1.7.44' }],
    ['Continue/1.2.8', {}, { family: 'continue', version: '1.2.8' }],
    ['curl/8.5.0', {}, { family: 'curl', version: '8.5.0' }],
    ['python-requests/2.32.3', {}, { family: 'other', version: null }],
    [undefined, {}, { family: 'other', version: null }],
  ];
  for (const [ua, headers, expected] of cases) {
    assert.deepEqual(clientFamilyFrom(ua, headers), expected, `${ua} ${JSON.stringify(headers)}`);
  }
});

test('the user-agent header is used when no UA argument is given', () => {
  assert.deepEqual(clientFamilyFrom(undefined, { 'user-agent': 'curl/8.5.0' }), { family: 'curl', version: '8.5.0' });
});

test('a version with odd characters is dropped, the family kept', () => {
  assert.deepEqual(clientFamilyFrom('claude-cli/2.1.197<x> (external, cli)', {}), { family: 'claude-code', version: null });
});
