// Tests for the usage tap: hand-built Messages SSE fixtures (PROTOCOL.md event order) fed whole,
// byte by byte and in seeded random splits, plain and compressed, plus JSON bodies and caps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createUsageTap, type UsageReport, type UsageTapOptions } from './usage-tap.js';
import { createRng as prng } from '../../test/prng.js';

const SSE = 'text/event-stream; charset=utf-8';

function ev(type: string, data: object | string): string {
  return `event: ${type}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

const MESSAGE_START = {
  type: 'message_start',
  message: {
    id: 'msg_01FAKEFIXTURE',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: 12,
      cache_creation_input_tokens: 2048,
      cache_read_input_tokens: 30000,
      cache_creation: { ephemeral_5m_input_tokens: 1536, ephemeral_1h_input_tokens: 512 },
      output_tokens: 1,
      service_tier: 'standard',
    },
  },
};

// Cumulative usage: no cache_creation split and no service_tier here, so message_start's stay.
const MESSAGE_DELTA = {
  type: 'message_delta',
  delta: { stop_reason: 'tool_use', stop_sequence: null },
  usage: {
    input_tokens: 12,
    cache_creation_input_tokens: 2048,
    cache_read_input_tokens: 30000,
    output_tokens: 345,
    server_tool_use: { web_search_requests: 2 },
  },
};

const EXPECTED_USAGE = {
  input_tokens: 12,
  output_tokens: 345,
  cache_creation_input_tokens: 2048,
  cache_read_input_tokens: 30000,
  cache_creation: { ephemeral_5m_input_tokens: 1536, ephemeral_1h_input_tokens: 512 },
  server_tool_use: { web_search_requests: 2 },
  service_tier: 'standard',
};

function delta(index: number, d: object): string {
  return ev('content_block_delta', { type: 'content_block_delta', index, delta: d });
}

/** A full tool-using turn with thinking, multi-byte text, ping, a comment and an unknown event. */
function fullStream(): string {
  return [
    ev('message_start', MESSAGE_START),
    ev('ping', { type: 'ping' }),
    ': keep-alive comment from a proxy\n\n',
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    delta(0, { type: 'thinking_delta', thinking: 'The user wants the weather… ünïcödé 🙂' }),
    delta(0, { type: 'thinking_delta', thinking: ' 天气 so call the tool.' }),
    delta(0, { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxFAKESIGNATURE' }),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    delta(1, { type: 'text_delta', text: 'Let me check — 🌦️ ' }),
    delta(1, { type: 'text_delta', text: 'the forecast.' }),
    ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
    ev('ping', { type: 'ping' }),
    ev('content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_01FAKE', name: 'get_weather', input: {} } }),
    delta(2, { type: 'input_json_delta', partial_json: '' }),
    delta(2, { type: 'input_json_delta', partial_json: '{"location": "Zür' }),
    delta(2, { type: 'input_json_delta', partial_json: 'ich"}' }),
    ev('content_block_stop', { type: 'content_block_stop', index: 2 }),
    ev('some_future_event', { type: 'some_future_event', detail: { nested: true } }),
    ev('message_delta', MESSAGE_DELTA),
    ev('message_stop', { type: 'message_stop' }),
  ].join('');
}

const EXPECTED_FULL: UsageReport = {
  kind: 'message',
  streamed: true,
  status: 200,
  usage: EXPECTED_USAGE,
  countTokens: null,
  servedModel: 'claude-sonnet-4-5-20250929',
  messageId: 'msg_01FAKEFIXTURE',
  stopReason: 'tool_use',
  complete: true,
  aborted: false,
  error: null,
  parseError: null,
  bytes: 0, // replaced per feed with the wire length
  // Two thinking, two text and two non-empty input_json deltas; the signature and the empty
  // opening partial_json carry no output.
  contentDeltas: 6,
};


function randomSplit(bytes: Uint8Array, rand: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    // Mostly tiny pieces (to land inside UTF-8 sequences and CRLF pairs), sometimes large ones.
    const size = rand() < 0.8 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * 400);
    out.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

function byteByByte(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes.subarray(i, i + 1));
  return out;
}

async function feed(opts: UsageTapOptions, chunks: Uint8Array[], endOpts?: { aborted?: boolean }): Promise<UsageReport> {
  const tap = createUsageTap(opts);
  for (const c of chunks) tap.write(c);
  return tap.end(endOpts);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('full SSE stream fed whole yields merged cumulative usage and identity', async () => {
  const body = utf8(fullStream());
  const report = await feed({ contentType: SSE, status: 200 }, [body]);
  assert.deepEqual(report, { ...EXPECTED_FULL, bytes: body.length });
});

test('byte-by-byte and 200 seeded random splits give the identical report', async () => {
  const body = utf8(fullStream());
  const expected = { ...EXPECTED_FULL, bytes: body.length };
  assert.deepEqual(await feed({ contentType: SSE, status: 200 }, byteByByte(body)), expected);
  const rand = prng(0x5eed);
  for (let i = 0; i < 200; i++) {
    assert.deepEqual(await feed({ contentType: SSE, status: 200 }, randomSplit(body, rand)), expected, `split #${i}`);
  }
});

test('CRLF and CR line endings parse the same, even split inside a CRLF pair', async () => {
  for (const eol of ['\r\n', '\r']) {
    const body = utf8(fullStream().replace(/\n/g, eol));
    const expected = { ...EXPECTED_FULL, bytes: body.length };
    assert.deepEqual(await feed({ contentType: SSE, status: 200 }, [body]), expected);
    assert.deepEqual(await feed({ contentType: SSE, status: 200 }, byteByByte(body)), expected);
    const rand = prng(eol.length);
    for (let i = 0; i < 50; i++) assert.deepEqual(await feed({ contentType: SSE, status: 200 }, randomSplit(body, rand)), expected);
  }
});

test('events without an event: line are recognised by their JSON type', async () => {
  const body = utf8(fullStream().replace(/^event: .*\n/gm, ''));
  assert.deepEqual(await feed({ contentType: SSE, status: 200 }, [body]), { ...EXPECTED_FULL, bytes: body.length });
});

test('message_delta JSON spread over several data: lines is joined with newlines', async () => {
  const json = JSON.stringify(MESSAGE_DELTA, null, 1); // multi-line JSON, one data: line per line
  const multi = `event: message_delta\n${json.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`;
  const body = utf8(fullStream().replace(ev('message_delta', MESSAGE_DELTA), multi));
  assert.deepEqual(await feed({ contentType: SSE, status: 200 }, [body]), { ...EXPECTED_FULL, bytes: body.length });
});

test('content_block_delta and unknown events are never JSON-parsed', async () => {
  // Invalid JSON in skipped events would set parseError if the tap parsed them.
  const body = utf8(
    ev('message_start', MESSAGE_START) +
      ev('content_block_delta', '{"type":"content_block_delta", not json at all') +
      ev('brand_new_event', '<<< not json >>>') +
      ev('message_delta', MESSAGE_DELTA) +
      ev('message_stop', { type: 'message_stop' }),
  );
  const report = await feed({ contentType: SSE, status: 200 }, [body]);
  assert.equal(report.parseError, null);
  assert.equal(report.complete, true);
  assert.deepEqual(report.usage, EXPECTED_USAGE);
});

test('malformed JSON in a metered event is reported but does not stop parsing', async () => {
  const body = utf8(
    ev('message_start', MESSAGE_START) + ev('message_delta', '{"type":"message_delta",') + ev('message_stop', { type: 'message_stop' }),
  );
  const report = await feed({ contentType: SSE, status: 200 }, [body]);
  assert.equal(report.parseError, 'malformed JSON in SSE message_delta event');
  assert.equal(report.complete, true);
  assert.equal(report.usage?.output_tokens, 1);
});

test('an error event inside a 200 stream is reported with what came before', async () => {
  const body = utf8(
    ev('message_start', MESSAGE_START) +
      ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
      delta(0, { type: 'text_delta', text: 'Hello' }) +
      ev('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  );
  const report = await feed({ contentType: SSE, status: 200 }, randomSplit(body, prng(7)));
  assert.equal(report.kind, 'message');
  assert.deepEqual(report.error, { type: 'overloaded_error', message: 'Overloaded' });
  assert.equal(report.complete, false);
  assert.equal(report.usage?.input_tokens, 12);
  assert.equal(report.usage?.output_tokens, 1);
  assert.equal(report.stopReason, null);
});

test('a stream holding only an error event is kind error', async () => {
  const body = utf8(ev('error', { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }));
  const report = await feed({ contentType: SSE, status: 200 }, [body]);
  assert.equal(report.kind, 'error');
  assert.deepEqual(report.error, { type: 'api_error', message: 'Internal server error' });
  assert.equal(report.usage, null);
});

test('an aborted stream reports what it saw; a half-received event does not count', async () => {
  const full = fullStream();
  const cut = full.indexOf('event: message_delta') + 40; // inside the message_delta data line
  const body = utf8(full.slice(0, cut));
  const report = await feed({ contentType: SSE, status: 200 }, randomSplit(body, prng(11)), { aborted: true });
  assert.equal(report.aborted, true);
  assert.equal(report.complete, false);
  assert.equal(report.stopReason, null);
  assert.equal(report.messageId, 'msg_01FAKEFIXTURE');
  assert.deepEqual(report.usage, {
    input_tokens: 12,
    output_tokens: 1,
    cache_creation_input_tokens: 2048,
    cache_read_input_tokens: 30000,
    cache_creation: { ephemeral_5m_input_tokens: 1536, ephemeral_1h_input_tokens: 512 },
    service_tier: 'standard',
  });
  assert.equal(report.parseError, null);
  assert.equal(report.bytes, body.length);
});

test('a stream that ends without message_stop is incomplete even when not aborted', async () => {
  const body = utf8(ev('message_start', MESSAGE_START) + ev('message_delta', MESSAGE_DELTA));
  const report = await feed({ contentType: SSE, status: 200 }, [body]);
  assert.equal(report.complete, false);
  assert.equal(report.aborted, false);
  assert.deepEqual(report.usage, EXPECTED_USAGE);
});

const COMPRESSORS: Record<string, (b: Uint8Array) => Uint8Array> = {
  gzip: (b) => zlib.gzipSync(b),
  'x-gzip': (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
};

for (const [encoding, compress] of Object.entries(COMPRESSORS)) {
  test(`${encoding}-encoded stream: whole and in 50 random splits`, async () => {
    const wire = compress(utf8(fullStream()));
    const expected = { ...EXPECTED_FULL, bytes: wire.length };
    const opts = { contentType: SSE, contentEncoding: encoding, status: 200 };
    assert.deepEqual(await feed(opts, [wire]), expected);
    assert.deepEqual(await feed(opts, byteByByte(wire)), expected);
    const rand = prng(encoding.length * 31);
    for (let i = 0; i < 50; i++) assert.deepEqual(await feed(opts, randomSplit(wire, rand)), expected);
  });
}

test('raw deflate (no zlib wrapper) is decoded too', async () => {
  const wire = zlib.deflateRawSync(utf8(fullStream()));
  assert.deepEqual(await feed({ contentType: SSE, contentEncoding: 'deflate', status: 200 }, [wire]), { ...EXPECTED_FULL, bytes: wire.length });
});

test('chained "gzip, br" is decoded in reverse order', async () => {
  const wire = zlib.brotliCompressSync(zlib.gzipSync(utf8(fullStream())));
  const opts = { contentType: SSE, contentEncoding: 'gzip, br', status: 200 };
  assert.deepEqual(await feed(opts, randomSplit(wire, prng(3))), { ...EXPECTED_FULL, bytes: wire.length });
});

const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

// short-stream.sse.zst was made with `zstd -19 short-stream.sse` (zstd CLI v1.5.4).
test('zstd fixture made by the zstd CLI decodes (fzstd on Node 20)', async () => {
  const wire = readFileSync(fixturesDir + 'short-stream.sse.zst');
  const expected: UsageReport = {
    kind: 'message',
    streamed: true,
    status: 200,
    usage: { input_tokens: 21, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 4096 },
    countTokens: null,
    servedModel: 'claude-haiku-4-5-20251001',
    messageId: 'msg_01ZSTDFIXTURE',
    stopReason: 'end_turn',
    complete: true,
    aborted: false,
    error: null,
    parseError: null,
    bytes: wire.length,
    contentDeltas: 1,
  };
  const opts = { contentType: SSE, contentEncoding: 'zstd', status: 200 };
  assert.deepEqual(await feed(opts, [wire]), expected);
  assert.deepEqual(await feed(opts, byteByByte(wire)), expected);
  // The committed .zst must be the committed .sse, so the fixture pair cannot drift apart.
  const plain = readFileSync(fixturesDir + 'short-stream.sse');
  assert.deepEqual(await feed({ contentType: SSE, status: 200 }, [plain]), { ...expected, bytes: plain.length });
});

function zstdCli(input: Uint8Array, args: string[]): Buffer | null {
  try {
    return execFileSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

test('full stream compressed by the zstd CLI: whole, byte by byte, random splits', async (t) => {
  const wire = zstdCli(utf8(fullStream()), ['-3']);
  if (wire === null) {
    t.skip('zstd CLI not installed; the committed fixture test covers the zstd path');
    return;
  }
  const expected = { ...EXPECTED_FULL, bytes: wire.length };
  const opts = { contentType: SSE, contentEncoding: 'zstd', status: 200 };
  assert.deepEqual(await feed(opts, [wire]), expected);
  assert.deepEqual(await feed(opts, byteByByte(wire)), expected);
  const rand = prng(0x25d);
  for (let i = 0; i < 50; i++) assert.deepEqual(await feed(opts, randomSplit(wire, rand)), expected);
});

test('a large multi-block zstd stream (several frames) decodes in splits', async (t) => {
  const deltas = Array.from({ length: 4000 }, (_, i) => delta(1, { type: 'text_delta', text: `word${i} ` })).join('');
  const text = fullStream().replace(ev('message_delta', MESSAGE_DELTA), deltas + ev('message_delta', MESSAGE_DELTA));
  const half = Math.floor(text.length / 2);
  const a = zstdCli(utf8(text.slice(0, half)), ['-1']);
  const b = zstdCli(utf8(text.slice(half)), ['-1']);
  if (a === null || b === null) {
    t.skip('zstd CLI not installed');
    return;
  }
  const wire = Buffer.concat([a, b]); // two concatenated frames, as RFC 8878 allows
  const report = await feed({ contentType: SSE, contentEncoding: 'zstd', status: 200 }, randomSplit(wire, prng(99)));
  assert.deepEqual(report, { ...EXPECTED_FULL, bytes: wire.length, contentDeltas: EXPECTED_FULL.contentDeltas + 4000 });
});

test('corrupt compressed bodies set parseError without throwing', async () => {
  for (const encoding of ['gzip', 'br', 'deflate', 'zstd']) {
    const tap = createUsageTap({ contentType: SSE, contentEncoding: encoding, status: 200 });
    const garbage = utf8('this is definitely not compressed data '.repeat(20));
    assert.doesNotThrow(() => {
      for (const c of randomSplit(garbage, prng(5))) tap.write(c);
    });
    const report = await tap.end();
    assert.match(report.parseError ?? '', new RegExp(`^${encoding} decoding failed`), encoding);
    assert.equal(report.usage, null);
    assert.equal(report.bytes, garbage.length);
  }
});

test('an aborted gzip stream cut mid-body reports the part it decoded', async () => {
  const wire = zlib.gzipSync(utf8(fullStream()));
  const cut = wire.subarray(0, Math.floor(wire.length * 0.6));
  const report = await feed({ contentType: SSE, contentEncoding: 'gzip', status: 200 }, [cut], { aborted: true });
  assert.equal(report.parseError, null);
  assert.equal(report.complete, false);
  assert.equal(report.messageId, 'msg_01FAKEFIXTURE');
  assert.equal(report.usage?.input_tokens, 12);
});

test('an aborted zstd stream cut mid-frame is not a parse error', async (t) => {
  const wire = zstdCli(utf8(fullStream()), ['-3']);
  if (wire === null) {
    t.skip('zstd CLI not installed');
    return;
  }
  const report = await feed({ contentType: SSE, contentEncoding: 'zstd', status: 200 }, [wire.subarray(0, wire.length - 10)], { aborted: true });
  assert.equal(report.parseError, null);
  assert.equal(report.aborted, true);
  assert.equal(report.complete, false);
});

test('an unsupported content-encoding is unmeterable, not an exception', async () => {
  const body = utf8(fullStream());
  const report = await feed({ contentType: SSE, contentEncoding: 'gzip, compress', status: 200 }, [body]);
  assert.equal(report.parseError, 'unsupported content-encoding "compress"');
  assert.equal(report.usage, null);
  assert.equal(report.streamed, true);
  assert.equal(report.bytes, body.length);
});

test('non-stream JSON message', async () => {
  const msg = {
    id: 'msg_01JSONFAKE',
    type: 'message',
    role: 'assistant',
    model: 'claude-opus-4-5-20251101',
    content: [{ type: 'text', text: 'Bonjour à tous' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: 50,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: null, // some upstreams send null: treated as absent
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 100 },
      output_tokens: 9,
      service_tier: 'priority',
    },
  };
  const body = utf8(JSON.stringify(msg));
  const report = await feed({ contentType: 'application/json', contentEncoding: 'gzip', status: 200 }, [zlib.gzipSync(body)]);
  assert.deepEqual(report, {
    kind: 'message',
    streamed: false,
    status: 200,
    usage: {
      input_tokens: 50,
      output_tokens: 9,
      cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 100 },
      service_tier: 'priority',
    },
    countTokens: null,
    servedModel: 'claude-opus-4-5-20251101',
    messageId: 'msg_01JSONFAKE',
    stopReason: 'end_turn',
    complete: true,
    aborted: false,
    error: null,
    parseError: null,
    bytes: zlib.gzipSync(body).length,
    contentDeltas: 0,
  });
  const split = await feed({ contentType: 'application/json', status: 200 }, byteByByte(body));
  assert.equal(split.messageId, 'msg_01JSONFAKE');
  assert.equal(split.usage?.output_tokens, 9);
});

test('count_tokens result', async () => {
  const report = await feed({ contentType: 'application/json', status: 200 }, [utf8('{"input_tokens":2095}')]);
  assert.equal(report.kind, 'count_tokens');
  assert.equal(report.countTokens, 2095);
  assert.equal(report.usage, null);
  assert.equal(report.complete, true);
});

test('error envelope', async () => {
  const body = utf8(
    JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_011FAKE' }),
  );
  const report = await feed({ contentType: 'application/json', status: 529 }, [body]);
  assert.equal(report.kind, 'error');
  assert.equal(report.status, 529);
  assert.deepEqual(report.error, { type: 'overloaded_error', message: 'Overloaded' });
  assert.equal(report.usage, null);
  assert.equal(report.complete, true);
});

test('invalid JSON is a parseError unless the body was aborted', async () => {
  const body = utf8('{"type":"message","id":"msg_');
  const whole = await feed({ contentType: 'application/json', status: 200 }, [body]);
  assert.match(whole.parseError ?? '', /^invalid JSON body/);
  assert.equal(whole.complete, false);
  const aborted = await feed({ contentType: 'application/json', status: 200 }, [body], { aborted: true });
  assert.equal(aborted.parseError, null);
  assert.equal(aborted.aborted, true);
  assert.equal(aborted.complete, false);
});

test('other content types are not parsed: usage null, bytes counted', async () => {
  const body = utf8('<html><body>502 Bad Gateway</body></html>');
  const report = await feed({ contentType: 'text/html', status: 502 }, [body]);
  assert.deepEqual(report, {
    kind: 'other',
    streamed: false,
    status: 502,
    usage: null,
    countTokens: null,
    servedModel: null,
    messageId: null,
    stopReason: null,
    complete: false,
    aborted: false,
    error: null,
    parseError: null,
    bytes: body.length,
    contentDeltas: 0,
  });
});

test('a 10 MB partial SSE line hits the cap without throwing and keeps earlier usage', async () => {
  const tap = createUsageTap({ contentType: SSE, status: 200 });
  const head = utf8(ev('message_start', MESSAGE_START) + 'event: content_block_delta\ndata: ');
  const filler = new Uint8Array(64 * 1024).fill(0x61);
  let written = head.length;
  assert.doesNotThrow(() => {
    tap.write(head);
    while (written < head.length + 10 * 1024 * 1024) {
      tap.write(filler);
      written += filler.length;
    }
    tap.write(utf8('\n\n' + ev('message_stop', { type: 'message_stop' }))); // ignored after giving up
  });
  const report = await tap.end();
  assert.equal(report.parseError, 'SSE line exceeded 8388608 bytes without a line break');
  assert.equal(report.complete, false);
  assert.equal(report.usage?.input_tokens, 12);
  assert.ok(report.bytes > 10 * 1024 * 1024);
});

test('a JSON body over the cap gives up with parseError', async () => {
  const tap = createUsageTap({ contentType: 'application/json', status: 200, maxJsonBytes: 1024 });
  tap.write(utf8(`{"input_tokens":1,"pad":"${'x'.repeat(2000)}"}`));
  const report = await tap.end();
  assert.equal(report.parseError, 'JSON body exceeded 1024 bytes');
  assert.equal(report.countTokens, null);
  assert.equal(report.complete, false);
});

test('end() is idempotent and later writes are ignored', async () => {
  const tap = createUsageTap({ contentType: SSE, status: 200 });
  tap.write(utf8(ev('message_start', MESSAGE_START)));
  const first = tap.end();
  tap.write(utf8(ev('message_stop', { type: 'message_stop' })));
  const second = tap.end({ aborted: true });
  assert.equal(first, second);
  const report = await first;
  assert.equal(report.complete, false);
  assert.equal(report.aborted, false);
});

test('5 MB of small text deltas stays fast (sanity bound)', async () => {
  const piece = delta(0, { type: 'text_delta', text: 'lorem ipsum ' });
  const count = Math.ceil((5 * 1024 * 1024) / piece.length);
  const body = utf8(ev('message_start', MESSAGE_START) + piece.repeat(count) + ev('message_delta', MESSAGE_DELTA) + ev('message_stop', { type: 'message_stop' }));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += 16 * 1024) chunks.push(body.subarray(i, i + 16 * 1024));
  feedSync(chunks); // warm-up so the measurement is the steady state, not JIT compilation
  const t0 = performance.now();
  const tap = feedSync(chunks);
  const ms = performance.now() - t0;
  const report = await tap.end();
  console.log(`usage tap: ${(body.length / 1048576).toFixed(1)} MB SSE in ${ms.toFixed(1)} ms`);
  assert.deepEqual(report.usage, EXPECTED_USAGE);
  assert.equal(report.complete, true);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

function feedSync(chunks: Uint8Array[]) {
  const tap = createUsageTap({ contentType: SSE, status: 200 });
  for (const c of chunks) tap.write(c);
  return tap;
}

test('a JSON message is read from its top-level fields: a large content is skipped, not parsed; a non-object body still parses whole', async () => {
  const text = 'x"\\'.repeat(200_000);
  const msg = {
    id: 'msg_01BIG', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
    content: [{ type: 'text', text }, { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { usage: { output_tokens: 999 } } }],
    stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 7, output_tokens: 3 },
  };
  const body = utf8(JSON.stringify(msg));
  const report = await feed({ contentType: 'application/json', status: 200 }, randomSplit(body, prng(7)));
  assert.equal(report.kind, 'message');
  assert.equal(report.messageId, 'msg_01BIG');
  assert.equal(report.stopReason, 'tool_use');
  // The top-level usage, not the nested one inside a tool input.
  assert.deepEqual(report.usage, { input_tokens: 7, output_tokens: 3 });
  assert.equal(report.complete, true);
  assert.equal(report.parseError, null);
  // Not an object: the fallback parse reads it (nothing to meter), as before.
  const array = await feed({ contentType: 'application/json', status: 200 }, [utf8('[1, 2]')]);
  assert.equal(array.kind, 'other');
  assert.equal(array.complete, true);
  assert.equal(array.parseError, null);
  // A read field that is not JSON is a parse error, as a whole-body parse would say.
  const bad = await feed({ contentType: 'application/json', status: 200 }, [utf8('{"type":"message","usage":{"input_tokens":1,}}')]);
  assert.match(bad.parseError ?? '', /^invalid JSON body/);
});
