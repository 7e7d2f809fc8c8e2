// Tests for prompt-prefix fingerprints: which positions get a point, and that each hash is the
// SHA-256/16 of exactly the cumulative bytes a cache breakpoint there would cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createPrefixHasher, prefixPoints, MAX_MESSAGES } from './prefixes.js';
import { arrayElements } from '../control/json-spans.js';

const msg = (i: number) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'x'.repeat(i * 7)}` });
const bodyWith = (n: number, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', ...extra, messages: Array.from({ length: n }, (_, i) => msg(i)) }));

/** The points computed the long way: every element of every array, cumulative hashes. */
function expected(body: Buffer, spans: { position: string; start: number; end: number }[]) {
  const h = createHash('sha256');
  let bytes = 0;
  return spans.map((s) => {
    h.update(body.subarray(s.start, s.end));
    bytes += s.end - s.start;
    return { position: s.position, hash: h.copy().digest('hex').slice(0, 16), bytes };
  });
}

test('the last message is never fingerprinted, and at most MAX_MESSAGES leading ones are', () => {
  for (const n of [0, 1, 2, MAX_MESSAGES, MAX_MESSAGES + 1, MAX_MESSAGES + 2, 20]) {
    const body = bodyWith(n);
    const text = body.toString();
    const start = text.indexOf('"messages":') + '"messages":'.length;
    const all = arrayElements(body, start);
    assert.equal(all.length, n);
    const want = expected(body, all.slice(0, Math.min(MAX_MESSAGES, Math.max(0, n - 1))).map((e, i) => ({ position: `messages[${i}]`, ...e })));
    assert.deepEqual(prefixPoints(body), want, `${n} messages`);
  }
});

test('tools and system come first; a body with none of them has no points', () => {
  const body = bodyWith(3, { tools: [{ name: 't', input_schema: { type: 'object' } }], system: 'be brief' });
  const points = prefixPoints(body);
  assert.deepEqual(points.map((p) => p.position), ['tools', 'system', 'messages[0]', 'messages[1]']);
  assert.deepEqual(prefixPoints(Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}]}')), []);
  assert.deepEqual(prefixPoints(Buffer.from('not json')), []);
});

test('arrayElements with a limit reads only that many elements', () => {
  const buf = Buffer.from('[1, {"a":[2]}, "three", 4]');
  assert.deepEqual(arrayElements(buf, 0, 2).map((e) => buf.toString('utf8', e.start, e.end)), ['1', '{"a":[2]}']);
  assert.equal(arrayElements(buf, 0).length, 4);
  assert.equal(arrayElements(buf, 0, 10).length, 4);
  // What lies past the limit is not read.
  const broken = Buffer.from('[1, 2, }');
  assert.equal(arrayElements(broken, 0, 2).length, 2);
});

test('a hasher with memory gives exactly the uncached points over a changing sequence of bodies', () => {
  const tools = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `t${i}`, input_schema: { type: 'object' } }));
  // An agent loop and the ways its next request differs: a new turn, a grown prefix that moves
  // every offset, a changed system prompt, changed tools, an edited early message, fewer
  // messages (compaction), a body that is not JSON, and back.
  const sequence = [
    bodyWith(2, { tools: tools(3), system: 'be brief' }),
    bodyWith(3, { tools: tools(3), system: 'be brief' }),
    bodyWith(3, { tools: tools(3), system: 'be brief' }),
    bodyWith(5, { max_tokens: 100000, tools: tools(3), system: 'be brief' }),
    bodyWith(5, { tools: tools(3), system: 'be terse' }),
    bodyWith(5, { tools: tools(4), system: 'be terse' }),
    Buffer.from(bodyWith(5, { tools: tools(4), system: 'be terse' }).toString().replace('turn 1 ', 'turn 1!')),
    bodyWith(9, { tools: tools(4), system: 'be terse' }),
    bodyWith(2, { tools: tools(4), system: 'be terse' }),
    Buffer.from('not json'),
    bodyWith(2, { tools: tools(4), system: 'be terse' }),
    bodyWith(2, { system: 'be terse', tools: tools(4) }),
  ];
  const hasher = createPrefixHasher(2);
  for (const [i, body] of sequence.entries()) {
    const want = prefixPoints(body);
    assert.deepEqual(hasher.points(body, 'claude-code\u0000s1'), want, `body ${i}`);
    // Another stream in between must not disturb s1's memory, and gets its own right answer.
    assert.deepEqual(hasher.points(sequence[(i + 5) % sequence.length]!, 'cline\u0000'), prefixPoints(sequence[(i + 5) % sequence.length]!), `other stream, body ${i}`);
  }
  // A returned list is the caller's: changing it does not change the next answer.
  const first = hasher.points(sequence[0]!, 'x');
  first.length = 0;
  assert.deepEqual(hasher.points(sequence[0]!, 'x'), prefixPoints(sequence[0]!));
});

test('a hasher keeps only the most recent streams', () => {
  const body = bodyWith(3, { system: 'be brief' });
  const hasher = createPrefixHasher(2);
  for (const k of ['a', 'b', 'c', 'a']) assert.deepEqual(hasher.points(body, k), prefixPoints(body));
});

test('a hasher keeps at most maxBytes of prefixes, and does not keep one larger than a quarter of that', () => {
  const body = (n: number) => bodyWith(3, { system: 's'.repeat(n) });
  const hasher = createPrefixHasher(32, 4000);
  // About 1,100 bytes of spans: above 4000 / 4, so hashed and not kept.
  assert.deepEqual(hasher.points(body(1000), 'big'), prefixPoints(body(1000)));
  assert.equal(hasher.keptBytes, 0);
  // About 600 bytes each: six would be 3,600, seven pass the cap and the oldest goes.
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(hasher.points(body(500 + i), `s${i}`), prefixPoints(body(500 + i)));
    assert.ok(hasher.keptBytes <= 4000, `${hasher.keptBytes} bytes kept after ${i + 1} streams`);
  }
  assert.ok(hasher.keptBytes > 3000, `${hasher.keptBytes}`);
  // A stream whose prefix grows past the cap is forgotten, not left holding its old prefix.
  const before = hasher.keptBytes;
  assert.deepEqual(hasher.points(body(2000), 's9'), prefixPoints(body(2000)));
  assert.ok(hasher.keptBytes < before, `${hasher.keptBytes} vs ${before}`);
});
