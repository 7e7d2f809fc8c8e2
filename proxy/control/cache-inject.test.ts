import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectCacheBreakpoints } from './cache-inject.js';

const ELIGIBLE = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'search_result', 'server_tool_use', 'web_search_tool_result']);

/** What the Messages API checks about breakpoints: at most 4, only on blocks that take one, never an empty text block. */
function assertAcceptable(body: Buffer): number {
  const j = JSON.parse(body.toString()) as Record<string, unknown>;
  let n = 0;
  const block = (b: Record<string, unknown>, where: string) => {
    if (!b.cache_control) return;
    n++;
    assert.deepEqual(b.cache_control, { type: 'ephemeral' }, where);
    assert.ok(ELIGIBLE.has(b.type as string), `${where}: ${String(b.type)} cannot carry cache_control`);
    if (b.type === 'text') assert.ok((b.text as string).length > 0, `${where}: empty text block`);
  };
  if (Array.isArray(j.system)) (j.system as Record<string, unknown>[]).forEach((b, i) => block(b, `system[${i}]`));
  for (const t of (j.tools as Record<string, unknown>[] | undefined) ?? []) if (t.cache_control) n++;
  for (const [i, m] of ((j.messages as { content: unknown }[]) ?? []).entries()) {
    if (Array.isArray(m.content)) (m.content as Record<string, unknown>[]).forEach((b, k) => block(b, `messages[${i}].content[${k}]`));
  }
  assert.ok(n <= 4, `${n} breakpoints`);
  return n;
}

test('string system and content become block arrays; only bytes are inserted', () => {
  const raw = '{"model":"m","system":"You are terse.","tools":[{"name":"a","input_schema":{}},{"name":"b","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"},{"role":"user","content":"caf\\u00e9"}],"max_tokens":5}';
  const r = injectCacheBreakpoints(Buffer.from(raw));
  assert.deepEqual(r.added, ['system', 'tools', 'messages[2].content']);
  const M = '"cache_control":{"type":"ephemeral"}';
  assert.equal(r.body.toString(), raw
    .replace('"system":"You are terse."', `"system":[{"type":"text","text":"You are terse.",${M}}]`)
    .replace('"input_schema":{"type":"object"}}', `"input_schema":{"type":"object"},${M}}`)
    .replace('"content":"caf\\u00e9"', `"content":[{"type":"text","text":"caf\\u00e9",${M}}]`));
  assert.equal(assertAcceptable(r.body), 3);
});

test('skips thinking blocks and empty text, walking back to a cacheable block', () => {
  const body = {
    model: 'm', max_tokens: 5,
    system: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }],
    messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'x', input: {} }, { type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: '' }] }],
  };
  const r = injectCacheBreakpoints(Buffer.from(JSON.stringify(body)));
  assert.deepEqual(r.added, ['system', 'messages[1].content[0]']);
  const j = JSON.parse(r.body.toString());
  assert.equal(j.system[1].cache_control.type, 'ephemeral');
  assert.equal(j.system[0].cache_control, undefined);
  assert.equal(j.messages[1].content[0].cache_control.type, 'ephemeral');
  assert.equal(assertAcceptable(r.body), 2);
});

test('a request that already has any cache_control is left byte-identical', () => {
  const raw = Buffer.from('{"model":"m","system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","ttl":"1h"}}],"messages":[{"role":"user","content":"hi"}]}');
  const r = injectCacheBreakpoints(raw);
  assert.equal(r.skipped, 'has_cache_control');
  assert.equal(r.body, raw);
});

test('nothing eligible: unchanged', () => {
  const raw = Buffer.from('{"model":"m","system":"","tools":[],"messages":[]}');
  const r = injectCacheBreakpoints(raw);
  assert.deepEqual(r.added, []);
  assert.equal(r.body, raw);
});
