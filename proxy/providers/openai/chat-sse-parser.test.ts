// Tests for the incremental OpenAI SSE parser: every byte split, CRLF, comments, multi-line data,
// [DONE], and a non-JSON data line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChatSseParser } from './chat-sse-parser.js';
import { UpstreamResponseError } from './upstream-error.js';

const chunkA = { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'héllo 👋' }, finish_reason: null }] };
const chunkB = { id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
const body = `: OPENROUTER PROCESSING\n\ndata: ${JSON.stringify(chunkA)}\n\ndata: ${JSON.stringify(chunkB)}\n\ndata: [DONE]\n\ndata: {"after":"done"}\n\n`;

test('every split of the byte stream yields the same chunks (multi-byte characters included)', () => {
  const bytes = new TextEncoder().encode(body);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = createChatSseParser();
    const got = [...p.push(bytes.slice(0, cut)), ...p.push(bytes.slice(cut)), ...p.end()];
    assert.deepStrictEqual(got, [chunkA, chunkB], `cut at ${cut}`);
    assert.equal(p.done, true);
  }
});

test('byte-at-a-time feeding works and [DONE] flips done', () => {
  const bytes = new TextEncoder().encode(body);
  const p = createChatSseParser();
  const got: unknown[] = [];
  for (let i = 0; i < bytes.length; i++) {
    got.push(...p.push(bytes.slice(i, i + 1)));
    if (i < body.indexOf('[DONE]')) assert.equal(p.done, false);
  }
  assert.deepStrictEqual(got, [chunkA, chunkB]);
  assert.equal(p.done, true);
});

test('CRLF and CR line endings, a data field without a space, event lines and multi-line data', () => {
  const p = createChatSseParser();
  const got = p.push('event: message\r\ndata:{"a":\r\ndata: 1}\r\n\r\ndata: {"b":2}\r\rdata: [DONE]\r\n\r\n');
  assert.deepStrictEqual(got, [{ a: 1 }, { b: 2 }]);
  assert.equal(p.done, true);
});

test('a CRLF split between \\r and \\n is not a blank line', () => {
  const p = createChatSseParser();
  const got = [...p.push('data: {"x":1}\r'), ...p.push('\n'), ...p.push('\r\n')];
  assert.deepStrictEqual(got, [{ x: 1 }]);
});

test('a final event without its blank line is flushed by end()', () => {
  const p = createChatSseParser();
  assert.deepStrictEqual(p.push('data: {"z":9}'), []);
  assert.deepStrictEqual(p.end(), [{ z: 9 }]);
  assert.equal(p.done, false);
});

test('a data line that is not JSON is an upstream error', () => {
  const p = createChatSseParser();
  assert.throws(() => p.push('data: <html>502 Bad Gateway</html>\n\n'), (err: unknown) => err instanceof UpstreamResponseError && err.message.includes('<html>502'));
});
