import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStampReader } from './sse-timing.js';
import { SENT_PREFIX } from './bench-upstream.js';

const ev = (sent: number, type = 'ping') => `${SENT_PREFIX}${sent}\nevent: ${type}\ndata: {"type":"${type}"}\n\n`;

test('pairs each complete event with the arrival of the chunk that completed it', () => {
  const r = createStampReader();
  const text = ev(100) + ev(200);
  const cut = ev(100).length + 10; // second event split across chunks
  assert.deepEqual(r.push(Buffer.from(text.slice(0, cut)), 1_000n), [{ sentNs: 100n, arrivedNs: 1_000n }]);
  assert.deepEqual(r.push(Buffer.from(text.slice(cut)), 2_000n), [{ sentNs: 200n, arrivedNs: 2_000n }]);
  assert.equal(r.unstamped, 0);
});

test('a stamp split inside its digits is read whole', () => {
  const r = createStampReader();
  const text = ev(123456789);
  assert.deepEqual(r.push(Buffer.from(text.slice(0, SENT_PREFIX.length + 4)), 5n), []);
  assert.deepEqual(r.push(Buffer.from(text.slice(SENT_PREFIX.length + 4)), 9n), [{ sentNs: 123456789n, arrivedNs: 9n }]);
});

test('counts events whose stamp a relay dropped', () => {
  const r = createStampReader();
  const out = r.push(Buffer.from('event: ping\ndata: {}\n\n' + ev(7)), 10n);
  assert.deepEqual(out, [{ sentNs: 7n, arrivedNs: 10n }]);
  assert.equal(r.unstamped, 1);
});
