import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createToolCalls, toolActivity } from './tool-calls.js';

const body = (messages: unknown[]) => Buffer.from(JSON.stringify({ model: 'm', max_tokens: 1, messages }));
const use = (id: string, name: string, input: unknown = { path: '/secret' }) => ({ type: 'tool_use', id, name, input });
const result = (id: string, isError?: boolean) => ({ type: 'tool_result', tool_use_id: id, content: 'file text', ...(isError === undefined ? {} : { is_error: isError }) });

test('the calls a request answers: names from the assistant turn, results and errors from the last message', () => {
  const b = body([
    { role: 'user', content: 'go' },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }, use('a', 'Read'), use('b', 'Bash'), use('c', 'never answered')] },
    { role: 'user', content: [result('a'), result('b', true)] },
  ]);
  assert.deepEqual(toolActivity(b), { names: ['Read', 'Bash'], results: 2, errors: 1 });
});

test('no tool_result in the last message: nothing to count (history is never recounted)', () => {
  assert.equal(toolActivity(body([{ role: 'user', content: 'hi' }])), null);
  assert.equal(toolActivity(body([{ role: 'assistant', content: [use('a', 'Read')] }, { role: 'user', content: 'thanks' }])), null);
  assert.equal(toolActivity(Buffer.from('not json')), null);
});

test('a name that is not a tool name is counted as "other"; inputs never leave', () => {
  const a = toolActivity(body([{ role: 'assistant', content: [use('x', 'rm -rf / secret')] }, { role: 'user', content: [result('x')] }]))!;
  assert.deepEqual(a.names, ['other']);
  const calls = createToolCalls(() => 1000);
  calls.observe('cc', 's1', a);
  calls.observe('cc', 's1', { names: ['Read', 'Read', 'Edit'], results: 3, errors: 0 });
  calls.observe('cc', 's2', { names: ['Read'], results: 1, errors: 1 });
  const rep = calls.report();
  assert.equal(rep.since, 1000);
  assert.deepEqual(rep.byTool, [{ tool: 'cc', session: null, calls: 5, results: 5, errors: 1, errorRate: 0.2, names: [{ name: 'Read', calls: 3 }, { name: 'Edit', calls: 1 }, { name: 'other', calls: 1 }] }]);
  assert.deepEqual(rep.bySession.map((s) => [s.session, s.calls, s.errorRate]), [['s1', 4, 0], ['s2', 1, 1]]);
  assert.ok(!JSON.stringify(rep).includes('secret'));
});
