// The live feed controller driven by a fake EventSource: start -> end merges into one row,
// connection status follows the source, the list is capped, late ends still show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importRunes } from './testing/runes.js';
import type * as Mod from './feed.svelte.js';
import type { RequestEndEvent, RequestStartEvent } from './api.js';

const { LiveFeed } = await importRunes<typeof Mod>('./feed.svelte.ts', import.meta.url);

class FakeSource {
  onopen: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  readyState = 0;
  closed = false;
  listeners = new Map<string, ((e: { data: string }) => void)[]>();
  addEventListener(type: string, l: (e: { data: string }) => void) { this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]); }
  emit(type: string, data: unknown) { for (const l of this.listeners.get(type) ?? []) l({ data: JSON.stringify(data) }); }
  close() { this.closed = true; this.readyState = 2; }
}

const start = (id: string, ts = 1): RequestStartEvent => ({ id, ts, method: 'POST', path: '/v1/messages', tool: 'claude-code', model: 'claude-sonnet-4-6', sessionId: 's1', stream: true });
const end = (id: string, over: Partial<RequestEndEvent> = {}): RequestEndEvent => ({
  id, tsStart: 1, tsEnd: 2, sessionId: 's1', tool: 'claude-code', method: 'POST', path: '/v1/messages', endpoint: 'messages',
  requestedModel: 'claude-sonnet-4-6', servedModel: 'claude-sonnet-4-6-20260101', stream: true, status: 200, errorType: null,
  ttfbMs: 100, totalMs: 900, inputTokens: 10, outputTokens: 5, cacheWriteTokens: 100, cacheReadTokens: 1000, costUsd: 0.0012, billed: true, ...over,
});

test('a request goes from in flight to done in the same row', () => {
  const ends: string[] = [];
  const feed = new LiveFeed({ onEnd: (e) => ends.push(e.id) });
  const src = new FakeSource();
  feed.connect(() => src);
  assert.equal(feed.status, 'connecting');
  src.onopen!({});
  assert.equal(feed.status, 'live');
  src.emit('request:start', start('a'));
  assert.equal(feed.items.length, 1);
  assert.equal(feed.items[0]!.state, 'in-flight');
  src.emit('request:end', end('a'));
  assert.equal(feed.items.length, 1);
  const row = feed.items[0]!;
  assert.equal(row.state, 'done');
  assert.equal(row.costUsd, 0.0012);
  assert.equal(row.inputTokens, 1110, 'input counts cache writes and reads');
  assert.equal(row.model, 'claude-sonnet-4-6-20260101', 'the served model wins');
  assert.deepEqual(ends, ['a']);
  assert.equal(feed.finished, 1);
});

test('failed requests are marked as errors; unpriced stays null', () => {
  const feed = new LiveFeed();
  const src = new FakeSource();
  feed.connect(() => src);
  src.emit('request:start', start('b'));
  src.emit('request:end', end('b', { status: 529, errorType: 'overloaded_error', costUsd: null, billed: false }));
  assert.equal(feed.items[0]!.state, 'error');
  assert.equal(feed.items[0]!.costUsd, null);
});

test('newest first, capped at max; an end without its start still shows', () => {
  const feed = new LiveFeed({ max: 3 });
  const src = new FakeSource();
  feed.connect(() => src);
  for (const id of ['1', '2', '3', '4']) src.emit('request:start', start(id));
  assert.deepEqual(feed.items.map((i) => i.id), ['4', '3', '2']);
  src.emit('request:end', end('zz'));
  assert.deepEqual(feed.items.map((i) => i.id), ['zz', '4', '3']);
  assert.equal(feed.items[0]!.state, 'done');
});

test('status follows errors and reconnects; close() closes the source', () => {
  const feed = new LiveFeed();
  const src = new FakeSource();
  feed.connect(() => src);
  src.readyState = 0;
  src.onerror!({});
  assert.equal(feed.status, 'reconnecting');
  src.onopen!({});
  assert.equal(feed.status, 'live');
  src.readyState = 2;
  src.onerror!({});
  assert.equal(feed.status, 'closed');
  const next = new FakeSource();
  feed.connect(() => next);
  assert.equal(src.closed, true, 'reconnecting replaces the old source');
  feed.close();
  assert.equal(next.closed, true);
  assert.equal(feed.status, 'closed');
});
