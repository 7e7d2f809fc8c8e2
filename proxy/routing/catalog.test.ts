import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogShapeFor, catalogueActive, extraEntries, mergeModelList, type CatalogEntry } from './catalog.js';
import { parseModelList } from '../providers/models.js';

const extra: CatalogEntry[] = [{ id: 'deepseek/deepseek-chat', displayName: 'deepseek-chat (via deepseek)', created: 1735689600, ownedBy: 'deepseek' }];
const page = (hasMore: boolean) => JSON.stringify({ data: [{ type: 'model', id: 'claude-a', display_name: 'A', created_at: '2025-01-01T00:00:00Z' }], has_more: hasMore, first_id: 'claude-a', last_id: 'claude-a' });

test('extras go on the last page only, so after_id paging still walks Anthropic\'s ids', () => {
  assert.equal(mergeModelList(200, page(true), extra, 'anthropic'), page(true));
  const last = JSON.parse(mergeModelList(200, page(false), extra, 'anthropic'));
  assert.deepEqual(last.data.map((m: { id: string }) => m.id), ['claude-a', 'deepseek/deepseek-chat']);
  assert.equal(last.last_id, 'deepseek/deepseek-chat');
  assert.equal(last.data[1].created_at, '2025-01-01T00:00:00Z');
});

test('OpenAI shape: models and errors', () => {
  const o = JSON.parse(mergeModelList(200, page(false), extra, 'openai'));
  assert.deepEqual(o, { object: 'list', data: [
    { id: 'claude-a', object: 'model', created: 1735689600, owned_by: 'anthropic' },
    { id: 'deepseek/deepseek-chat', object: 'model', created: 1735689600, owned_by: 'deepseek' },
  ] });
  const err = JSON.parse(mergeModelList(401, '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}', extra, 'openai'));
  assert.deepEqual(err, { error: { message: 'invalid x-api-key', type: 'authentication_error', code: 'authentication_error', param: null } });
  assert.equal(mergeModelList(401, 'raw', extra, 'anthropic'), 'raw', 'Anthropic clients get the error as it came');
});

test('client shape: anthropic-version decides first, then the user agent', () => {
  assert.equal(catalogShapeFor({ 'anthropic-version': '2023-06-01', 'user-agent': 'OpenAI/JS 6.0' }), 'anthropic');
  assert.equal(catalogShapeFor({ 'user-agent': 'OpenAI/Python 2.1' }), 'openai');
  assert.equal(catalogShapeFor({ 'user-agent': 'curl/8.5' }), 'anthropic');
});

test('the catalogue is merged only when another provider or an alias exists', () => {
  assert.equal(catalogueActive({ anthropic: {} }, { rules: [] }), false);
  assert.equal(catalogueActive({ anthropic: {} }, { rules: [{ name: 'r', match: { model: 'x' }, target: { provider: 'anthropic' }, fallbacks: [] }] }), false);
  assert.equal(catalogueActive({ anthropic: {} }, { rules: [{ name: 'r', match: { alias: 'fast' }, target: { provider: 'anthropic' }, fallbacks: [] }] }), true);
  assert.equal(catalogueActive({ anthropic: {}, local: {} }, { rules: [] }), true);
});

test('extra entries: aliases first, provider ids prefixed for Claude Code unless they name claude', () => {
  const lists = [{ provider: 'or', models: [{ id: 'anthropic/claude-x', created: null, displayName: null, ownedBy: null }, { id: 'qwen3', created: 5, displayName: 'Qwen 3', ownedBy: null }], fetchedAt: 1, error: null }];
  const rules = [{ name: 'fast', match: { alias: 'fast' }, target: { provider: 'or', model: 'qwen3' }, fallbacks: [] }];
  assert.deepEqual(extraEntries(lists, { rules }, false).map((e) => e.id), ['fast', 'or/anthropic/claude-x', 'or/qwen3']);
  const cc = extraEntries(lists, { rules }, true);
  assert.deepEqual(cc.map((e) => e.id), ['claude-via/fast', 'or/anthropic/claude-x', 'claude-via/or/qwen3']);
  assert.equal(cc[2]!.displayName, 'Qwen 3 (via or)');
});

test('parseModelList reads both list shapes and skips junk', () => {
  const a = parseModelList({ data: [{ id: 'claude-a', display_name: 'A', created_at: '2025-01-01T00:00:00Z' }, { nope: 1 }], has_more: true, last_id: 'claude-a' });
  assert.deepEqual(a, { models: [{ id: 'claude-a', created: 1735689600, displayName: 'A', ownedBy: null }], lastId: 'claude-a', hasMore: true });
  const o = parseModelList({ object: 'list', data: [{ id: 'gpt-x', created: 7, owned_by: 'openai' }] });
  assert.deepEqual(o.models, [{ id: 'gpt-x', created: 7, displayName: null, ownedBy: 'openai' }]);
  assert.throws(() => parseModelList({ models: [] }), /data/);
});
