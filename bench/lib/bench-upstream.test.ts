import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { createMessageIds, MESSAGE_JSON, messageJsonWithId, SENT_PREFIX, startBenchUpstream } from './bench-upstream.js';
import { messagesBody } from './bodies.js';
import { createStampReader } from './sse-timing.js';

let clock = 1_000n;
const upstream = await startBenchUpstream({ now: () => (clock += 10n), messageIds: createMessageIds('abcdef') });
const pool = new Pool(upstream.url, { connections: 4 });
after(async () => {
  await pool.close();
  await upstream.close();
});

test('a non-stream request gets the fixed message with a fresh id each time', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const res = await pool.request({ path: '/v1/messages', method: 'POST', body: messagesBody(64 * 1024, false) });
    assert.equal(res.statusCode, 200);
    const buf = Buffer.from(await res.body.arrayBuffer());
    assert.equal(buf.length, MESSAGE_JSON.length);
    const msg = JSON.parse(buf.toString('utf8'));
    assert.equal(msg.type, 'message');
    ids.add(msg.id);
  }
  assert.deepEqual([...ids], ['msg_bench_abcdef0000000000', 'msg_bench_abcdef0000000001', 'msg_bench_abcdef0000000002']);
  assert.ok(MESSAGE_JSON.length >= 450 && MESSAGE_JSON.length <= 600, `about 500 bytes, got ${MESSAGE_JSON.length}`);
});

test('messageJsonWithId refuses an id of another length', () => {
  assert.throws(() => messageJsonWithId('msg_short'), RangeError);
});

test('a stream request gets N stamped events in Anthropic order, as the headers ask', async () => {
  // "stream":true lands in the second chunk only when the body is split; a large body checks
  // the scan across chunks too.
  const res = await pool.request({
    path: '/v1/messages', method: 'POST', body: messagesBody(256 * 1024, true),
    headers: { 'x-bench-events': '8', 'x-bench-gap-ms': '1' },
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  const text = await res.body.text();
  const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  const reader = createStampReader();
  const stamps = reader.push(Buffer.from(text), 0n).map((e) => e.sentNs);
  assert.equal(stamps.length, 8);
  assert.equal(reader.unstamped, 0);
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, 'stamps increase');
  assert.ok(text.startsWith(SENT_PREFIX));
  assert.equal(upstream.openStreams(), 0);
});

test('a client that leaves mid-stream stops the stream', async () => {
  const ac = new AbortController();
  const res = await pool.request({
    path: '/v1/messages', method: 'POST', body: messagesBody(2048, true), signal: ac.signal,
    headers: { 'x-bench-events': '1000', 'x-bench-gap-ms': '50' },
  });
  await new Promise<void>((r) => res.body.once('data', () => r()));
  assert.equal(upstream.openStreams(), 1);
  ac.abort();
  res.body.on('error', () => {});
  for (let i = 0; i < 50 && upstream.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(upstream.openStreams(), 0);
});
