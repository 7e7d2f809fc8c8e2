import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messagesBody } from './bodies.js';

test('a body has exactly the asked size and is a valid Messages request', () => {
  for (const [bytes, stream] of [[2048, false], [1024 * 1024, true], [200, false]] as const) {
    const b = messagesBody(bytes, stream);
    assert.equal(b.length, bytes);
    const parsed = JSON.parse(b.toString('utf8'));
    assert.equal(parsed.stream, stream);
    assert.equal(parsed.messages[0].role, 'user');
  }
});

test('a size below the JSON skeleton is refused', () => {
  assert.throws(() => messagesBody(50, false), RangeError);
});
