// Unit tests of the exact JSONC edits: each insertion is taken back byte for byte by removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, getAt, setAt, removeAt, getEntry, setEntry, removeEntry } from './json-edit.js';
import { ToolConfigError } from './tool-config-error.js';

const F2 = { eol: '\n', unit: '  ' } as const;

function roundTrip(text: string, path: string[], value: string): string {
  const fmt = detectFormat(text, '  ');
  const set = setAt(text, path, value, fmt);
  assert.equal(getAt(set.text, path), value);
  assert.equal(removeAt(set.text, path, set.memo), text, `remove(set(x)) !== x for ${JSON.stringify(text)}`);
  return set.text;
}

test('insertion keeps a trailing comma and an end-of-line comment on its own line', () => {
  const out = roundTrip('{\n  "a": 1, // note\n}\n', ['b'], 'x');
  assert.equal(out, '{\n  "a": 1, // note\n  "b": "x",\n}\n');
  const out2 = roundTrip('{\n  "a": 1 // note\n}', ['b'], 'x');
  assert.equal(out2, '{\n  "a": 1, // note\n  "b": "x"\n}');
});

test('one-line objects, empty objects, empty files and nested creation invert exactly', () => {
  assert.equal(roundTrip('{"a": 1}', ['b'], 'x'), '{"a": 1, "b": "x"}');
  assert.equal(roundTrip('{}', ['env', 'K'], 'v'), '{\n  "env": {\n    "K": "v"\n  }\n}');
  assert.equal(roundTrip('{\n}\n', ['env', 'K'], 'v'), '{\n  "env": {\n    "K": "v"\n  }\n}\n');
  assert.equal(roundTrip('', ['K'], 'v'), '{\n  "K": "v"\n}');
  assert.equal(roundTrip('{\r\n\t"env": {}\r\n}\r\n', ['env', 'K'], 'v'), '{\r\n\t"env": {\r\n\t\t"K": "v"\r\n\t}\r\n}\r\n');
});

test('replacing a value touches only the value', () => {
  const t = '{\n  /* c */ "env": { "K": "old" } // tail\n}';
  const r = setAt(t, ['env', 'K'], 'new', F2);
  assert.equal(r.text, '{\n  /* c */ "env": { "K": "new" } // tail\n}');
  assert.equal(r.memo, undefined);
});

test('detectFormat reads tabs, the smallest space indent and CRLF; ignores block-comment stars', () => {
  assert.deepEqual(detectFormat('{\r\n\t"a": 1\r\n}', '  '), { eol: '\r\n', unit: '\t' });
  assert.deepEqual(detectFormat('/*\n * x\n */\n{\n    "a": {\n        "b": 1\n    }\n}', '  '), { eol: '\n', unit: '    ' });
  assert.deepEqual(detectFormat('{}', '    '), { eol: '\n', unit: '    ' });
});

test('{name, value} lists: replace in place, append in the entries\' style, remove again', () => {
  const t = '{\n  "l": [\n    { "name": "A", "value": "1" },\n    { "name": "B", "value": "2" }\n  ]\n}\n';
  const a = setEntry(t, ['l'], 'B', 'new', F2);
  assert.equal(a.text, t.replace('"2"', '"new"'));
  const b = setEntry(t, ['l'], 'C', 'v', F2);
  assert.equal(b.text, '{\n  "l": [\n    { "name": "A", "value": "1" },\n    { "name": "B", "value": "2" },\n    { "name": "C", "value": "v" }\n  ]\n}\n');
  assert.equal(getEntry(b.text, ['l'], 'C'), 'v');
  assert.equal(removeEntry(b.text, ['l'], 'C', b.memo), t);
  const created = setEntry('{\n  "x": 1\n}', ['l'], 'C', 'v', F2);
  assert.equal(removeEntry(created.text, ['l'], 'C', created.memo), '{\n  "x": 1\n}');
});

test('a container of the wrong type is refused, not overwritten', () => {
  assert.throws(() => setAt('{"env": "oops"}', ['env', 'K'], 'v', F2), (e: unknown) => e instanceof ToolConfigError && e.code === 'TOOL_CONFIG_UNEXPECTED_SHAPE');
  assert.throws(() => setEntry('{"l": {}}', ['l'], 'K', 'v', F2), { code: 'TOOL_CONFIG_UNEXPECTED_SHAPE' });
  assert.throws(() => getAt('[1]', ['a']), { code: 'TOOL_CONFIG_UNEXPECTED_SHAPE' });
  assert.throws(() => getAt('{"a": }', ['a']), { code: 'TOOL_CONFIG_UNPARSEABLE' });
});
