import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanTopLevel } from '../json-scan.js';
import { extractFeatures, looksLikeCode, readTurn, recordedFeatures, USER_TEXT_MAX_CHARS } from './features.js';
import { decodeStringCapped, scanArray } from './json-array.js';
import * as fx from './fixtures/claude-code.js';

const features = (body: Buffer) => extractFeatures(body, scanTopLevel(body));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('the main-loop fixture is Claude Code sized and its features come out exact', () => {
  const body = fx.mainLoopRequest('why does checkout fail on an empty cart?');
  assert.ok(body.length > 74_000 && body.length < 80_000, `body is ${body.length} bytes`);
  const f = features(body);
  const parsed = JSON.parse(body.toString()) as { system: unknown; tools: unknown; messages: unknown };
  assert.equal(f.model, 'claude-sonnet-4-6');
  assert.equal(f.stream, true);
  assert.equal(f.maxTokens, 32_000);
  assert.equal(f.toolCount, 24);
  assert.equal(f.messageCount, 1);
  assert.equal(f.bodyBytes, body.length);
  assert.equal(f.systemBytes, Buffer.byteLength(JSON.stringify(parsed.system)));
  assert.equal(f.toolsBytes, Buffer.byteLength(JSON.stringify(parsed.tools)));
  assert.equal(f.messagesBytes, Buffer.byteLength(JSON.stringify(parsed.messages)));
  assert.equal(f.estInputTokens, Math.ceil(body.length / 4));
  // The injected CLAUDE.md reminder (which holds a code fence) is not the user's text.
  assert.equal(f.userText, 'why does checkout fail on an empty cart?');
  assert.equal(f.systemReminders, 1);
  assert.equal(f.hasCode, false);
  assert.equal(f.toolResults, 0);
  assert.equal(f.thinking, null);
  assert.deepEqual(f.unreadable, []);
});

test('an agent loop turn has tool results and no user text', () => {
  const f = features(fx.agentLoopRequest(3));
  assert.equal(f.messageCount, 7);
  assert.equal(f.lastRole, 'user');
  assert.equal(f.toolResults, 1);
  assert.equal(f.userText, '');
  assert.equal(f.systemReminders, 1);
});

test('thinking: enabled with a budget, adaptive, disabled', () => {
  const base = { model: 'claude-opus-4-6', max_tokens: 64_000, messages: [{ role: 'user', content: 'hi' }] };
  const enabled = features(fx.thinkingRequest());
  assert.equal(enabled.thinking, 'enabled');
  assert.equal(enabled.thinkingBudget, 31_999);
  const adaptive = features(json({ ...base, thinking: { type: 'adaptive' } }));
  assert.equal(adaptive.thinking, 'adaptive');
  assert.equal(adaptive.thinkingBudget, null);
  assert.equal(features(json({ ...base, thinking: { type: 'disabled' } })).thinking, null);
});

test('an assistant prefill at the end: the user turn is the message before it', () => {
  const f = features(json({
    model: 'claude-sonnet-4-6', max_tokens: 100,
    messages: [{ role: 'user', content: 'name three colours' }, { role: 'assistant', content: 'Red,' }],
  }));
  assert.equal(f.lastRole, 'assistant');
  assert.equal(f.userText, 'name three colours');
  assert.equal(f.messageCount, 2);
});

test('a big paste is read only up to the cap, as the head of the real text', () => {
  const body = fx.codePasteRequest(120_000);
  const f = features(body);
  const msg = (JSON.parse(body.toString()) as { messages: { content: { text: string }[] }[] }).messages[0]!;
  const full = msg.content[1]!.text;
  assert.ok(f.lastTurnBytes > 64 * 1024);
  assert.equal(f.userTextTruncated, true);
  assert.equal(f.userChars, USER_TEXT_MAX_CHARS);
  assert.equal(f.userText, full.slice(0, USER_TEXT_MAX_CHARS));
  assert.equal(f.hasCode, true);
});

test('the byte-level reader and JSON.parse agree on every kind of turn', () => {
  const turns = [
    { role: 'user', content: 'plain "quoted" text with \\ backslash and é, あ, 😀' },
    { role: 'user', content: [
      { type: 'text', text: '<system-reminder>\ncontext\n</system-reminder>' },
      { type: 'text', text: 'before <system-reminder>inline</system-reminder> after' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'not user text' }] },
      { type: 'text', text: 'tab\there\nnew line \u2028 sep' },
    ] },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }, { type: 'tool_use', id: 't', name: 'Read', input: { text: 'x' } }] },
    { role: 'user', content: [] },
    { content: 'no role' },
  ];
  for (const t of turns) {
    const buf = json(t);
    const span = { start: 0, end: buf.length };
    assert.deepEqual(readTurn(buf, span, 0), readTurn(buf, span, Infinity), JSON.stringify(t).slice(0, 60));
  }
  const mixed = readTurn(json(turns[1]), { start: 0, end: json(turns[1]).length }, 0);
  assert.deepEqual(mixed.texts, ['before  after', 'tab\there\nnew line \u2028 sep']);
  assert.equal(mixed.reminders, 2);
  assert.equal(mixed.toolResults, 1);
  assert.equal(mixed.attachments, 2);
});

test('earlier messages are never parsed: an invalid escape there does not matter', () => {
  const good = JSON.stringify({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'PLACEHOLDER' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'last question' }] });
  // `\q` is not a JSON escape: JSON.parse of the body fails, the skipping scanner does not care.
  const body = Buffer.from(good.replace('PLACEHOLDER', 'bad \\q escape'));
  assert.throws(() => JSON.parse(body.toString()));
  const f = features(body);
  assert.deepEqual(f.unreadable, []);
  assert.equal(f.messageCount, 3);
  assert.equal(f.userText, 'last question');
});

test('a malformed last turn is reported, not thrown', () => {
  const body = Buffer.from('{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[1 2]}],"thinking":{"type":"enabled","budget_tokens":2048}}');
  const f = features(body);
  assert.deepEqual(f.unreadable, ['last turn']);
  assert.equal(f.messageCount, 1);
  assert.equal(f.thinkingBudget, 2048);
  assert.equal(f.userText, '');
});

test('recorded features carry no prompt text', () => {
  const f = features(fx.mainLoopRequest('my secret plan'));
  const rec = recordedFeatures(f);
  assert.equal('userText' in rec, false);
  assert.equal(JSON.stringify(rec).includes('secret'), false);
  assert.equal(rec.userChars, 'my secret plan'.length);
});

test('scanArray counts top-level elements only and keeps the last two spans', () => {
  const buf = Buffer.from(' [ [1,[2]] , "a]\\"", {"b":"]"} ,3 ] ');
  const shape = scanArray(buf, { start: 0, end: buf.length });
  assert.equal(shape.count, 4);
  assert.equal(buf.toString('utf8', shape.prev!.start, shape.prev!.end), '{"b":"]"}');
  assert.equal(buf.toString('utf8', shape.last!.start, shape.last!.end), '3');
  assert.deepEqual(scanArray(Buffer.from('[ ]'), { start: 0, end: 3 }), { count: 0, last: null, prev: null });
  assert.throws(() => scanArray(Buffer.from('[1 2]'), { start: 0, end: 5 }), /expected "," or "]"/);
});

test('decodeStringCapped: every cut is a prefix of the decoded string, never a broken escape', () => {
  const value = 'a\\b"c\u00e9\u3042\u{1F600}\n\t\u0001z\\\\"';
  const buf = Buffer.from(JSON.stringify(value));
  const rawLen = buf.length - 2;
  for (let cap = 0; cap <= rawLen + 1; cap++) {
    const { text, truncated } = decodeStringCapped(buf, 0, buf.length, cap);
    assert.equal(truncated, cap < rawLen, `cap ${cap}`);
    assert.ok(value.startsWith(text), `cap ${cap}: ${JSON.stringify(text)}`);
    if (!truncated) assert.equal(text, value);
    // At most one escape (6 raw bytes) or one 4-byte character is given up at the cut.
    assert.ok(Buffer.byteLength(JSON.stringify(text)) - 2 >= cap - 6, `cap ${cap} lost too much`);
  }
});

test('looksLikeCode: fences or three code-like lines, not prose', () => {
  assert.equal(looksLikeCode('see ```js\nx\n```'), true);
  assert.equal(looksLikeCode('const a = 1;\nif (a) {\n  go();\n}'), true);
  assert.equal(looksLikeCode('Please summarise the meeting.\nThanks, and for tomorrow bring notes.\nCheers'), false);
  assert.equal(looksLikeCode('import os\nfor x in y:\n  print(x)'), true);
});
