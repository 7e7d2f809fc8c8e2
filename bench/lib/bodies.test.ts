import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messagesBody, SHAPED_FROM } from './bodies.js';

test('a body has exactly the asked size and is a valid Messages request', () => {
  for (const [bytes, stream] of [[2048, false], [300 * 1024, false], [1024 * 1024, true], [SHAPED_FROM, false], [200, false]] as const) {
    const b = messagesBody(bytes, stream);
    assert.equal(b.length, bytes);
    const parsed = JSON.parse(b.toString('utf8'));
    assert.equal(parsed.stream, stream);
    assert.equal(parsed.messages[0].role, 'user');
  }
});

test('large bodies are shaped like Claude Code\'s: system, tools, and a tool loop ending on a tool_result turn', () => {
  const parsed = JSON.parse(messagesBody(300 * 1024, true).toString('utf8'));
  assert.equal(parsed.tools.length, 25);
  assert.equal(parsed.system.length, 2);
  assert.ok(parsed.messages.length > 40, `${parsed.messages.length} messages`);
  const last = parsed.messages.at(-1);
  const prev = parsed.messages.at(-2);
  assert.equal(last.content[0].type, 'tool_result');
  assert.equal(prev.content[1].type, 'tool_use');
  assert.equal(last.content[0].tool_use_id, prev.content[1].id);
});

test('a size below the JSON skeleton is refused', () => {
  assert.throws(() => messagesBody(50, false), RangeError);
});
