import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { escalationReason, readResponseEnd, stopReasonOf, type AttemptOutcome } from './cascade.js';
import type { CascadeTrigger } from './schema.js';

const ALL: CascadeTrigger[] = ['rate_limit', 'overloaded', 'refusal', 'max_tokens', 'error_status'];
const ok = (stopReason: string | null): AttemptOutcome => ({ status: 200, stopReason });
const status = (s: number | null): AttemptOutcome => ({ status: s, stopReason: null });

test('escalationReason maps each outcome to the trigger it fires', () => {
  const every = { triggers: ALL };
  assert.equal(escalationReason(every, status(429)), 'rate_limit');
  assert.equal(escalationReason(every, status(529)), 'overloaded');
  assert.equal(escalationReason(every, status(503)), 'overloaded');
  assert.equal(escalationReason(every, status(500)), 'error_status');
  assert.equal(escalationReason(every, status(504)), 'error_status');
  assert.equal(escalationReason(every, ok('refusal')), 'refusal');
  assert.equal(escalationReason(every, ok('max_tokens')), 'max_tokens');
  assert.equal(escalationReason(every, ok('model_context_window_exceeded')), 'max_tokens');
  for (const s of ['end_turn', 'tool_use', 'stop_sequence', 'pause_turn', null]) assert.equal(escalationReason(every, ok(s)), null, String(s));
  // Client errors are the client's: escalating a 400 would only repeat it on a dearer model.
  assert.equal(escalationReason(every, status(400)), null);
  assert.equal(escalationReason(every, status(401)), null);
  assert.equal(escalationReason(every, status(null)), null);
  // A stop reason on an error status means nothing.
  assert.equal(escalationReason({ triggers: ['refusal'] }, { status: 500, stopReason: 'refusal' }), null);
});

test('only configured triggers fire; error_status honours its list', () => {
  assert.equal(escalationReason({ triggers: ['overloaded'] }, status(429)), null);
  assert.equal(escalationReason({ triggers: ['rate_limit'] }, ok('refusal')), null);
  assert.equal(escalationReason({ triggers: ['rate_limit'] }, ok('max_tokens')), null);
  // Without rate_limit, a listed 429 is an error_status.
  assert.equal(escalationReason({ triggers: ['error_status'], errorStatuses: [429, 500] }, status(429)), 'error_status');
  assert.equal(escalationReason({ triggers: ['error_status'], errorStatuses: [429] }, status(500)), null);
  assert.equal(escalationReason({ triggers: ['error_status'] }, status(429)), null);
  assert.equal(escalationReason({ triggers: ['error_status'] }, status(502)), 'error_status');
  assert.equal(escalationReason({ triggers: ['error_status'], errorStatuses: [404] }, status(404)), 'error_status');
});

test('an error inside a 200 stream counts as the status it stands for', () => {
  assert.equal(escalationReason({ triggers: ALL }, { status: 200, stopReason: null, errorType: 'overloaded_error' }), 'overloaded');
  assert.equal(escalationReason({ triggers: ALL }, { status: 200, stopReason: null, errorType: 'rate_limit_error' }), 'rate_limit');
  assert.equal(escalationReason({ triggers: ['error_status'] }, { status: 200, stopReason: null, errorType: 'api_error' }), 'error_status');
  assert.equal(escalationReason({ triggers: ['refusal', 'max_tokens'] }, { status: 200, stopReason: null, errorType: 'overloaded_error' }), null);
});

const message = (stop: string, text = 'Hello') => Buffer.from(JSON.stringify({
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5',
  content: [{ type: 'text', text }], stop_reason: stop, stop_sequence: null,
  usage: { input_tokens: 5, output_tokens: 3 },
}));

test('stopReasonOf reads a JSON message without being fooled by its content', () => {
  assert.equal(stopReasonOf(message('end_turn'), 'application/json'), 'end_turn');
  assert.equal(stopReasonOf(message('max_tokens', '{"stop_reason":"refusal"} "stop_reason":"refusal"'), 'application/json; charset=utf-8'), 'max_tokens');
  const err = Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}');
  assert.equal(stopReasonOf(err, 'application/json'), null);
  assert.deepEqual(readResponseEnd(err, 'application/json'), { stopReason: null, errorType: 'overloaded_error', complete: true });
  assert.deepEqual(readResponseEnd(Buffer.from('{"type":"message","stop_reason":'), 'application/json'), { stopReason: null, errorType: null, complete: false });
  assert.equal(stopReasonOf(message('end_turn'), 'text/plain'), null);
  assert.equal(stopReasonOf(message('end_turn'), null), null);
});

function sse(events: [string, unknown][], eol = '\n'): string {
  return events.map(([name, data]) => `event: ${name}${eol}data: ${JSON.stringify(data)}${eol}${eol}`).join('');
}

function stream(stop: string, text = 'Hi there', eol = '\n'): string {
  return sse([
    ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 12 } }],
    ['message_stop', { type: 'message_stop' }],
  ], eol);
}

const SSE = 'text/event-stream';

test('stopReasonOf reads a complete SSE stream (LF, CRLF, trailing ping, real capture)', () => {
  assert.equal(stopReasonOf(Buffer.from(stream('tool_use')), SSE), 'tool_use');
  assert.equal(stopReasonOf(Buffer.from(stream('refusal', 'x', '\r\n')), 'text/event-stream; charset=utf-8'), 'refusal');
  assert.equal(stopReasonOf(Buffer.from(`${stream('max_tokens')}event: ping\ndata: {"type":"ping"}\n\n: keep-alive\n\n`), SSE), 'max_tokens');
  // Data-only streams name the type in the JSON.
  const dataOnly = stream('end_turn').replace(/^event: .*\n/gm, '');
  assert.equal(stopReasonOf(Buffer.from(dataOnly), SSE), 'end_turn');
  const captured = readFileSync(new URL('../meter/fixtures/short-stream.sse', import.meta.url));
  assert.equal(stopReasonOf(captured, SSE), 'end_turn');
});

test('a truncated SSE stream has no stop reason', () => {
  const full = stream('max_tokens');
  const cutAfterDelta = full.slice(0, full.indexOf('event: message_stop'));
  assert.equal(stopReasonOf(Buffer.from(cutAfterDelta), SSE), null);
  // message_stop arrived but its terminating blank line did not: not dispatched yet.
  assert.equal(stopReasonOf(Buffer.from(full.slice(0, -1)), SSE), null);
  const cutInContent = full.slice(0, full.indexOf('event: content_block_stop'));
  assert.equal(stopReasonOf(Buffer.from(cutInContent), SSE), null);
  assert.deepEqual(readResponseEnd(Buffer.from(cutInContent), SSE), { stopReason: null, errorType: null, complete: false });
  assert.equal(stopReasonOf(Buffer.alloc(0), SSE), null);
});

test('SSE: text that looks like events does not fool it; long streams read from the tail', () => {
  const fake = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal"}}\n\nevent: message_stop\n\n';
  const cut = stream('end_turn', fake);
  const truncated = cut.slice(0, cut.indexOf('event: content_block_stop'));
  assert.equal(stopReasonOf(Buffer.from(truncated), SSE), null);
  assert.equal(stopReasonOf(Buffer.from(cut), SSE), 'end_turn');
  const long = stream('pause_turn', 'é'.repeat(150_000));
  assert.ok(long.length > 150_000);
  assert.equal(stopReasonOf(Buffer.from(long), SSE), 'pause_turn');
});

test('SSE: an error event reports its type', () => {
  const body = Buffer.from(sse([
    ['message_start', { type: 'message_start', message: { id: 'm', content: [] } }],
    ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
  ]));
  assert.deepEqual(readResponseEnd(body, SSE), { stopReason: null, errorType: 'overloaded_error', complete: true });
  const end = readResponseEnd(body, SSE);
  assert.equal(escalationReason({ triggers: ['overloaded'] }, { status: 200, stopReason: end.stopReason, errorType: end.errorType }), 'overloaded');
});
