// Tests for Content-Encoding parsing and the decoding chain the usage tap sits behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createDecodingSink, parseContentEncoding, type ByteSink } from './body-decoder.js';

test('parseContentEncoding keeps applied order, drops identity, normalises x-gzip', () => {
  assert.deepEqual(parseContentEncoding(undefined), { ok: true, codings: [] });
  assert.deepEqual(parseContentEncoding(' Identity '), { ok: true, codings: [] });
  assert.deepEqual(parseContentEncoding('x-gzip'), { ok: true, codings: ['gzip'] });
  assert.deepEqual(parseContentEncoding('gzip, BR,zstd'), { ok: true, codings: ['gzip', 'br', 'zstd'] });
  assert.deepEqual(parseContentEncoding('br, compress'), { ok: false, unsupported: 'compress' });
});

function collector(): ByteSink & { text(): string; ended: boolean } {
  const parts: Buffer[] = [];
  const sink = {
    ended: false,
    write(c: Uint8Array) {
      parts.push(Buffer.from(c));
    },
    async end() {
      sink.ended = true;
    },
    text: () => Buffer.concat(parts).toString('utf8'),
  };
  return sink;
}

test('a three-stage chain (deflate, gzip, br) decodes back to the original', async () => {
  const original = 'événement '.repeat(5000);
  const wire = zlib.brotliCompressSync(zlib.gzipSync(zlib.deflateSync(Buffer.from(original))));
  const target = collector();
  const errors: string[] = [];
  const sink = createDecodingSink(['deflate', 'gzip', 'br'], target, { onError: (m) => errors.push(m), isAborted: () => false });
  for (let i = 0; i < wire.length; i += 7) sink.write(wire.subarray(i, i + 7));
  await sink.end();
  assert.equal(target.text(), original);
  assert.equal(target.ended, true);
  assert.deepEqual(errors, []);
});

test('an inner stage failing reports once and still ends the target', async () => {
  // br wraps something that is not gzip: br succeeds, gzip fails.
  const wire = zlib.brotliCompressSync(Buffer.from('plain text, not gzip'));
  const target = collector();
  const errors: string[] = [];
  const sink = createDecodingSink(['gzip', 'br'], target, { onError: (m) => errors.push(m), isAborted: () => false });
  sink.write(wire);
  await sink.end();
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^gzip decoding failed/);
  assert.equal(target.text(), '');
  assert.equal(target.ended, true);
});

test('an empty encoding list passes bytes straight through', async () => {
  const target = collector();
  const sink = createDecodingSink([], target, { onError: () => assert.fail('no error expected'), isAborted: () => false });
  sink.write(Buffer.from('as is'));
  await sink.end();
  assert.equal(target.text(), 'as is');
});

test('an empty deflate body ends cleanly', async () => {
  const target = collector();
  const sink = createDecodingSink(['deflate'], target, { onError: () => assert.fail('no error expected'), isAborted: () => false });
  await sink.end();
  assert.equal(target.ended, true);
  assert.equal(target.text(), '');
});
