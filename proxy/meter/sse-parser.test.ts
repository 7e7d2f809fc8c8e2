// Tests for the byte-level SSE parser against the WHATWG event-stream rules it implements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSseParser } from './sse-parser.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function collect(input: Uint8Array[] | string, opts: { skip?: string[]; max?: number } = {}) {
  const events: Array<[string, string]> = [];
  const asked: string[] = [];
  const parser = createSseParser({
    onEvent: (type, data) => events.push([type, data]),
    wantsData: (type) => {
      asked.push(type);
      return !(opts.skip ?? []).includes(type);
    },
    maxPendingBytes: opts.max ?? 1024,
  });
  const chunks = typeof input === 'string' ? [utf8(input)] : input;
  for (const c of chunks) parser.push(c);
  parser.finish();
  return { events, asked, failure: parser.failure };
}

test('multiple data lines join with \\n; the default type is message', () => {
  const { events } = collect('data: YHOO\ndata: +2\ndata: 10\n\n');
  assert.deepEqual(events, [['message', 'YHOO\n+2\n10']]);
});

test('field value rules: one leading space stripped, bare field name means empty value', () => {
  const { events } = collect('data:no-space\n\ndata:  two\n\ndata\ndata\n\n');
  assert.deepEqual(events, [
    ['message', 'no-space'],
    ['message', ' two'],
    ['message', '\n'],
  ]);
});

test('comments, id, retry and unknown fields are ignored; an event without data is not dispatched', () => {
  const { events } = collect(': comment\nid: 7\nretry: 100\nfoo: bar\nevent: ping\n\nevent: x\ndata: 1\n\n');
  assert.deepEqual(events, [['x', '1']]);
});

test('a field named like a prefix of data/event is not mistaken for it', () => {
  const { events } = collect('dataX: nope\neventful: nope\ndata: yes\n\n');
  assert.deepEqual(events, [['message', 'yes']]);
});

test('a leading BOM is ignored', () => {
  const { events } = collect([new Uint8Array([0xef, 0xbb]), utf8('\u00bfevent: a\ndata: 1\n\n').subarray(1)]);
  // The second chunk starts with the BOM's last byte (0xbf) followed by the event line.
  assert.deepEqual(events, [['a', '1']]);
});

test('skipped types: data not kept, not dispatched, name decoded once for repeats', () => {
  const { events, asked } = collect('event: big\ndata: 1\n\nevent: big\ndata: 2\n\nevent: small\ndata: 3\n\n', { skip: ['big'] });
  assert.deepEqual(events, [['small', '3']]);
  assert.deepEqual(asked, ['big', 'small']);
});

test('multi-byte UTF-8 split at every byte decodes intact', () => {
  const bytes = utf8('event: t\ndata: é🙂天\n\n');
  const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(collect(chunks).events, [['t', 'é🙂天']]);
});

test('a CR ending one chunk and an LF starting the next are one line break', () => {
  const { events } = collect([utf8('data: a\r'), utf8('\ndata: b\r'), utf8('\n\r'), utf8('\n')]);
  assert.deepEqual(events, [['message', 'a\nb']]);
});

test('lone CR line endings', () => {
  assert.deepEqual(collect('event: a\rdata: 1\r\revent: b\rdata: 2\r\r').events, [
    ['a', '1'],
    ['b', '2'],
  ]);
});

test('an event without its closing blank line is discarded at finish', () => {
  assert.deepEqual(collect('data: done\n\ndata: partial\n').events, [['message', 'done']]);
});

test('a partial line over the cap fails once and ignores later input', () => {
  const { events, failure } = collect([utf8('data: 1\n\n'), utf8('data: ' + 'x'.repeat(20)), utf8('\n\ndata: 2\n\n')], { max: 16 });
  assert.deepEqual(events, [['message', '1']]);
  assert.equal(failure, 'SSE line exceeded 16 bytes without a line break');
});

test('one event whose stored data exceeds the cap fails', () => {
  const lines = 'data: 0123456789\n'.repeat(5) + '\n';
  const { events, failure } = collect(lines, { max: 40 });
  assert.deepEqual(events, []);
  assert.equal(failure, 'SSE event data exceeded 40 bytes');
});

test('many short lines in one chunk with no CR at all', () => {
  const text = Array.from({ length: 500 }, (_, i) => `data: ${i}\n\n`).join('');
  const { events } = collect(text, { max: 64 });
  assert.equal(events.length, 500);
  assert.deepEqual(events[499], ['message', '499']);
});
