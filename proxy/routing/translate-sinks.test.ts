import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResponseSink } from '../pipeline/forward.js';
import { UpstreamClosedError } from '../errors.js';
import { anthropicUpstreamToChatWrapper, chatUpstreamWrapper } from './translate-sinks.js';

function recorder() {
  const out = { status: 0, headers: {} as Record<string, string | string[]>, body: '', ended: false, failed: null as Error | null };
  const sink: ResponseSink = {
    start(s, h) { out.status = s; out.headers = h; },
    write(c) { out.body += c.toString(); return true; },
    onDrain() {},
    end() { out.ended = true; },
    fail(e) { out.failed = e; },
  };
  const meter = { started: null as null | { status: number; ct: unknown }, bytes: '' };
  const hooks = {
    onStart: (status: number, h: Record<string, unknown>) => { meter.started = { status, ct: h['content-type'] }; },
    onChunk: (c: Buffer) => { meter.bytes += c.toString(); },
  };
  return { out, sink, meter, hooks };
}

const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const base = { id: 'chatcmpl-x1', object: 'chat.completion.chunk', created: 1, model: 'qwen3-served' };

test('chat SSE to an Anthropic client, split at awkward byte boundaries; the meter sees the served model', () => {
  const r = recorder();
  const { sink, hooks } = chatUpstreamWrapper({ requestedModel: 'claude-x', targetModel: 'qwen3', requestId: 'sluice_1', client: 'anthropic' })(r.sink, r.hooks);
  sink.start(200, { 'content-type': 'text/event-stream', 'x-request-id': 'up-1' });
  hooks.onStart!(200, { 'content-type': 'text/event-stream' }, 5);
  const stream = chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hé' }, finish_reason: null }] })
    + chunk({ ...base, choices: [{ index: 0, delta: { content: 'llo' }, finish_reason: 'stop' }] })
    + chunk({ ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } })
    + 'data: [DONE]\n\n';
  const bytes = Buffer.from(stream);
  // Split inside the two-byte é and everywhere else in 7-byte steps.
  for (let i = 0; i < bytes.length; i += 7) sink.write(bytes.subarray(i, i + 7));
  sink.end();
  assert.equal(r.out.status, 200);
  assert.equal(r.out.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(r.out.headers['request-id'], 'up-1');
  assert.ok(r.out.ended);
  const events = r.out.body.split('\n\n').filter(Boolean).map((e) => e.split('\n')[0]);
  assert.deepEqual(events, ['event: message_start', 'event: content_block_start', 'event: content_block_delta', 'event: content_block_delta', 'event: content_block_stop', 'event: message_delta', 'event: message_stop']);
  assert.match(r.out.body, /"model":"claude-x"/);
  assert.doesNotMatch(r.out.body, /qwen3-served/);
  assert.match(r.out.body, /"text":"Hé"/);
  assert.deepEqual(r.meter.started, { status: 200, ct: 'text/event-stream; charset=utf-8' });
  assert.match(r.meter.bytes, /"model":"qwen3-served"/);
  assert.equal(r.meter.bytes.replace('"model":"qwen3-served"', '"model":"claude-x"'), r.out.body, 'the meter sees the client bytes but for the model');
});

test('a chat stream that ends without finish_reason becomes an Anthropic error event', () => {
  const r = recorder();
  const { sink } = chatUpstreamWrapper({ requestedModel: 'claude-x', targetModel: 'qwen3', requestId: 'sluice_2', client: 'anthropic' })(r.sink, r.hooks);
  sink.start(200, { 'content-type': 'text/event-stream' });
  sink.write(Buffer.from(chunk({ ...base, choices: [{ index: 0, delta: { content: 'Hal' }, finish_reason: null }] })));
  sink.end();
  assert.match(r.out.body, /event: error\ndata: \{"type":"error","error":\{"type":"gateway_upstream_error"/);
  assert.doesNotMatch(r.out.body, /message_stop/);
  assert.match(r.meter.bytes, /event: error/);
});

test('a connection lost mid-stream: Anthropic clients get the sink failure, chat clients an error chunk and [DONE]', () => {
  const a = recorder();
  const w1 = chatUpstreamWrapper({ requestedModel: 'm', targetModel: 't', requestId: 'r', client: 'anthropic' })(a.sink, a.hooks);
  w1.sink.start(200, { 'content-type': 'text/event-stream' });
  const err = new UpstreamClosedError('http://x', 'ECONNRESET', 0);
  w1.sink.fail(err);
  assert.equal(a.out.failed, err);

  const c = recorder();
  const w2 = chatUpstreamWrapper({ requestedModel: 'm', targetModel: 't', requestId: 'r', client: 'openai-chat' })(c.sink, c.hooks);
  w2.sink.start(200, { 'content-type': 'text/event-stream' });
  w2.sink.fail(err);
  assert.match(c.out.body, /^data: \{"error":\{"message":"Upstream http:\/\/x answered, then closed the connection mid-response after 0 body bytes: ECONNRESET\.[^"]*","type":"gateway_upstream_closed","code":"GATEWAY_UPSTREAM_CLOSED"\}\}\n\ndata: \[DONE\]\n\n$/);
  assert.ok(c.out.ended);
});

test('a non-JSON 200 body from a chat upstream is a 502 in the client\'s format', () => {
  const r = recorder();
  const { sink } = chatUpstreamWrapper({ requestedModel: 'm', targetModel: 't', requestId: 'sluice_3', client: 'anthropic' })(r.sink, r.hooks);
  sink.start(200, { 'content-type': 'application/json' });
  sink.write(Buffer.from('<html>bad gateway</html>'));
  sink.end();
  assert.equal(r.out.status, 502);
  assert.equal(r.out.headers['content-length'], String(Buffer.byteLength(r.out.body)));
  assert.equal(JSON.parse(r.out.body).error.type, 'gateway_upstream_error');
});

test('an Anthropic JSON answer to a chat client is a chat.completion with a fresh content-length', () => {
  const r = recorder();
  const { sink } = anthropicUpstreamToChatWrapper({ requestedModel: 'claude-y', includeUsage: false, requestId: 'r', clock: () => 1_700_000_000_000 })(r.sink, r.hooks);
  sink.start(200, { 'content-type': 'application/json', 'content-length': '999' });
  sink.write(Buffer.from(JSON.stringify({ id: 'msg_abc', type: 'message', role: 'assistant', model: 'claude-y-20260101', content: [{ type: 'text', text: 'hi' }], stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 } })));
  sink.end();
  const body = JSON.parse(r.out.body);
  assert.equal(r.out.headers['content-length'], String(Buffer.byteLength(r.out.body)));
  assert.deepEqual(body, {
    id: 'chatcmpl-abc', object: 'chat.completion', created: 1_700_000_000, model: 'claude-y',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'length' }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } },
  });
});
