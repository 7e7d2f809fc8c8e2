// Tests for the top-level JSON field scanner: spans, string/escape edge cases, malformed input,
// a seeded property test against JSON.parse, and a loose speed bound on a 5 MB body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonScanError, readField, scanTopLevel, maxTokensOf, skipString } from './json-scan.js';
import { createRng as prng } from '../test/prng.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Every top-level key's slice, as text. */
function slices(text: string): Record<string, string> {
  const buf = b(text);
  const out: Record<string, string> = {};
  for (const [k, span] of scanTopLevel(buf)) out[k] = buf.toString('utf8', span.start, span.end);
  return out;
}

test('a typical Messages body: model, stream, max_tokens and metadata found and readable', () => {
  const text = JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    stream: true,
    system: [{ type: 'text', text: 'You are {helpful} [really]', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'say "hi" \\ then }' }],
    metadata: { user_id: '{"device_id":"ab","session_id":"x"}' },
  });
  const buf = b(text);
  const fields = scanTopLevel(buf);
  assert.deepEqual([...fields.keys()], ['model', 'max_tokens', 'stream', 'system', 'messages', 'metadata']);
  assert.equal(readField(buf, fields, 'model'), 'claude-sonnet-4-5');
  assert.equal(readField(buf, fields, 'max_tokens'), 1024);
  assert.equal(readField(buf, fields, 'stream'), true);
  assert.deepEqual(readField(buf, fields, 'metadata'), { user_id: '{"device_id":"ab","session_id":"x"}' });
  assert.deepEqual(readField(buf, fields, 'messages'), [{ role: 'user', content: 'say "hi" \\ then }' }]);
  assert.equal(readField(buf, fields, 'temperature'), undefined);
  const model = fields.get('model')!;
  assert.equal(buf.toString('utf8', model.start, model.end), '"claude-sonnet-4-5"');
});

test('spans are byte offsets, not character offsets, after multi-byte UTF-8', () => {
  const text = '{"prompt":"héllo ✓ 😀","model":"m"}';
  const buf = b(text);
  const fields = scanTopLevel(buf);
  const span = fields.get('model')!;
  // "é" is 2 bytes, "✓" 3, "😀" 4: a char-index implementation would be off by 6.
  assert.equal(span.start, Buffer.byteLength('{"prompt":"héllo ✓ 😀","model":'));
  assert.equal(span.end - span.start, 3);
  assert.equal(readField(buf, fields, 'prompt'), 'héllo ✓ 😀');
  assert.equal(readField(buf, fields, 'model'), 'm');
});

test('an even backslash run ends the string; an odd one escapes the quote', () => {
  // JSON text "a\\" is the string a\ and ends there.
  assert.deepEqual(slices('{"x":"a\\\\","y":1}'), { x: '"a\\\\"', y: '1' });
  // JSON text "a\\\"" is the string a\" (still open after the escaped quote until the last one).
  assert.deepEqual(slices('{"x":"a\\\\\\"","y":2}'), { x: '"a\\\\\\""', y: '2' });
  // A string that is nothing but backslashes.
  assert.deepEqual(slices('{"x":"\\\\\\\\\\\\","y":3}'), { x: '"\\\\\\\\\\\\"', y: '3' });
  // An escaped quote followed by a comma and brace inside the string must not end the value.
  assert.deepEqual(slices('{"x":"\\",}","y":4}'), { x: '"\\",}"', y: '4' });
});

test('brackets and braces inside strings do not affect nesting', () => {
  const text = '{"a":[{"b":"]]}}"},["[","{"]],"c":{"d":"}","e":[[]]},"f":"x"}';
  assert.deepEqual(slices(text), {
    a: '[{"b":"]]}}"},["[","{"]]',
    c: '{"d":"}","e":[[]]}',
    f: '"x"',
  });
});

test('whitespace everywhere between tokens is skipped; spans exclude it', () => {
  const text = ' \n\t{ \r\n "a" \t:\n [ 1 , 2 ] \n, "b"  :  null\t,"c":true\n}\n \t';
  const buf = b(text);
  const fields = scanTopLevel(buf);
  assert.deepEqual(slices(text), { a: '[ 1 , 2 ]', b: 'null', c: 'true' });
  assert.deepEqual(readField(buf, fields, 'a'), [1, 2]);
  assert.equal(readField(buf, fields, 'b'), null);
});

test('empty object, with and without whitespace, has no fields', () => {
  assert.equal(scanTopLevel(b('{}')).size, 0);
  assert.equal(scanTopLevel(b('  {\n }  ')).size, 0);
});

test('keys with escapes are decoded like JSON.parse decodes them', () => {
  const text = '{"a\\"b":1,"\\u006dodel":"m","tab\\tkey":2,"back\\\\":3,"plain":4}';
  const fields = scanTopLevel(b(text));
  assert.deepEqual([...fields.keys()], Object.keys(JSON.parse(text)));
  assert.deepEqual([...fields.keys()], ['a"b', 'model', 'tab\tkey', 'back\\', 'plain']);
  assert.equal(readField(b(text), fields, 'model'), 'm');
});

test('a repeated key resolves to the last value, as JSON.parse does', () => {
  const text = '{"model":"a","model":"b"}';
  const buf = b(text);
  assert.equal(readField(buf, scanTopLevel(buf), 'model'), 'b');
});

test('scalar values: numbers with exponents and signs, literals, at the end of the object', () => {
  const text = '{"n":-1.5e+3,"t":true,"f":false,"z":0}';
  const buf = b(text);
  const fields = scanTopLevel(buf);
  assert.equal(readField(buf, fields, 'n'), -1500);
  assert.equal(readField(buf, fields, 'f'), false);
  assert.equal(readField(buf, fields, 'z'), 0);
});

const malformed: Array<[string, string]> = [
  ['empty buffer', ''],
  ['only whitespace', '  \n'],
  ['top-level array', '[{"model":"x"}]'],
  ['top-level string', '"model"'],
  ['unterminated string value', '{"model":"claude'],
  ['unterminated key', '{"mod'],
  ['string ending in an escaped quote', '{"model":"claude\\"}'],
  ['missing colon', '{"model" "x"}'],
  ['missing value', '{"model":}'],
  ['missing value at end of input', '{"model":'],
  ['trailing comma', '{"a":1,}'],
  ['missing comma', '{"a":1 "b":2}'],
  ['trailing garbage', '{"a":1} x'],
  ['a second object', '{"a":1}{"b":2}'],
  ['trailing garbage after empty object', '{}]'],
  ['truncated container', '{"messages":[{"role":"user"'],
  ['truncated nested object', '{"metadata":{"user_id":"x"'],
  ['no closing brace', '{"a":1'],
  ['unquoted key', '{model:"x"}'],
  ['byte order mark', '\uFEFF{"a":1}'],
];

for (const [name, text] of malformed) {
  test(`malformed: ${name} throws JsonScanError`, () => {
    assert.throws(() => scanTopLevel(b(text)), (err: unknown) => {
      assert.ok(err instanceof JsonScanError, `got ${String(err)}`);
      assert.match(err.message, /at byte \d+$/);
      assert.ok(err.offset >= 0 && err.offset <= Buffer.byteLength(text));
      return true;
    });
  });
}

test('malformed: the error offset points at the problem', () => {
  const err = (() => {
    try {
      scanTopLevel(b('{"a":1 "b":2}'));
    } catch (e) {
      return e as JsonScanError;
    }
    return null;
  })();
  assert.ok(err instanceof JsonScanError);
  assert.equal(err.offset, 7);
  assert.match(err.message, /expected "," or "}" at byte 7/);
});

test('malformed: a key with an invalid escape throws JsonScanError (not a SyntaxError)', () => {
  assert.throws(() => scanTopLevel(b('{"a\\x":1}')), JsonScanError);
});

test('readField throws JsonScanError naming the field when its value is not valid JSON', () => {
  // The scanner does not validate scalars (upstream does); reading one must still fail cleanly.
  const buf = b('{"stream":tru,"max_tokens":12x}');
  const fields = scanTopLevel(buf);
  assert.throws(() => readField(buf, fields, 'stream'), (err: unknown) =>
    err instanceof JsonScanError && /invalid JSON in field "stream"/.test(err.message) && err.offset === 10);
  assert.throws(() => readField(buf, fields, 'max_tokens'), JsonScanError);
});

// ---- property test ----------------------------------------------------------------------


const TRICKY = ['"', '\\', '\\"', '\\\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '\t', 'é', '😀', '\u2028', '\u0000', 'a', 'Z', '0', '"}', '\\\\"'];

function randomString(r: () => number): string {
  const n = Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += TRICKY[Math.floor(r() * TRICKY.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const kind = Math.floor(r() * (depth > 3 ? 5 : 7));
  switch (kind) {
    case 0: return randomString(r);
    case 1: return Math.round((r() - 0.5) * 1e6) / (r() < 0.5 ? 1 : 1000);
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return r() < 0.5 ? 1e21 * r() : -Math.floor(r() * 100);
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: return randomObject(r, depth + 1);
  }
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) o[randomString(r) + i] = randomValue(r, depth);
  return o;
}

/** Re-serialises with random whitespace between tokens (never inside strings). */
function withRandomWhitespace(value: unknown, r: () => number): string {
  const ws = () => [' ', '\n', '\t', '\r\n', ''][Math.floor(r() * 5)]!;
  const ser = (v: unknown): string => {
    if (Array.isArray(v)) return `[${ws()}${v.map((x) => ser(x)).join(`${ws()},${ws()}`)}${ws()}]`;
    if (v !== null && typeof v === 'object') {
      return `{${ws()}${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}${ws()}:${ws()}${ser(x)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    }
    return JSON.stringify(v);
  };
  return ws() + ser(value) + ws();
}

test('property: for 500 random objects every top-level span parses to the same value as JSON.parse', () => {
  const seed = 0x5eed;
  const r = prng(seed);
  let checkedKeys = 0;
  for (let n = 0; n < 500; n++) {
    const obj = randomObject(r, 0);
    const text = r() < 0.5 ? JSON.stringify(obj) : withRandomWhitespace(obj, r);
    const buf = b(text);
    const whole = JSON.parse(text) as Record<string, unknown>;
    const fields = scanTopLevel(buf);
    assert.deepEqual([...fields.keys()], Object.keys(whole), `seed ${seed} case ${n}: keys of ${text}`);
    for (const [k, span] of fields) {
      assert.deepEqual(JSON.parse(buf.toString('utf8', span.start, span.end)), whole[k], `seed ${seed} case ${n} key ${JSON.stringify(k)}`);
      checkedKeys++;
    }
  }
  // The generator must actually produce keys, or the loop above proves nothing.
  assert.ok(checkedKeys > 800, `only ${checkedKeys} keys checked`);
});

test('a 5 MB Claude-Code-like body scans quickly', () => {
  const chunk = 'Lorem "quoted" \\ ipsum {not a brace} [nor a bracket] dolor sit amet, ';
  const big = chunk.repeat(Math.ceil((5 * 1024 * 1024) / chunk.length));
  const messages = Array.from({ length: 50 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: big.slice(0, big.length / 50) }] }));
  const text = JSON.stringify({ model: 'claude-opus-4-5', messages, stream: true, max_tokens: 32000, metadata: { user_id: 'u' } });
  const buf = b(text);
  assert.ok(buf.length >= 5 * 1024 * 1024, `body is ${buf.length} bytes`);
  const t0 = performance.now();
  const fields = scanTopLevel(buf);
  const ms = performance.now() - t0;
  console.log(`# scanned ${(buf.length / 1048576).toFixed(1)} MB in ${ms.toFixed(1)} ms`);
  assert.equal(readField(buf, fields, 'stream'), true);
  assert.equal(readField(buf, fields, 'max_tokens'), 32000);
  assert.equal(readField(buf, fields, 'model'), 'claude-opus-4-5');
  assert.ok(ms < 1000, `scan took ${ms} ms`);
});

test('the same body scanned by several stages is scanned once; a different buffer with the same bytes gets its own scan', () => {
  const buf = b('{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5}');
  const first = scanTopLevel(buf);
  assert.equal(scanTopLevel(buf), first);
  assert.equal(readField(buf, scanTopLevel(buf), 'max_tokens'), 5);
  const copy = Buffer.from(buf);
  const other = scanTopLevel(copy);
  assert.notEqual(other, first);
  assert.deepEqual([...other], [...first]);
  // A view of fewer bytes of the same memory is another buffer: scanned on its own.
  assert.throws(() => scanTopLevel(buf.subarray(0, buf.length - 1)), JsonScanError);
});

test('maxTokensOf reads a non-negative integer max_tokens, else null', () => {
  const cases: [string, number | null][] = [
    ['{"model":"m","max_tokens":4096}', 4096],
    ['{"max_tokens":0}', 0],
    ['{"max_tokens":-1}', null],
    ['{"max_tokens":1.5}', null],
    ['{"max_tokens":"64"}', null],
    ['{"model":"m"}', null],
    ['not json', null],
  ];
  for (const [body, want] of cases) assert.equal(maxTokensOf(Buffer.from(body)), want, body);
});

test('skipString ends every string where JSON.parse does: escapes before, at and after the byte-by-byte window, any length', () => {
  const r = prng(0x57a1);
  const parts = ['a', 'é', '"', '\\', '\\\\', '/', '\n', '\u0001', '😀', '\\u0022'];
  let checked = 0;
  for (let n = 0; n < 3000; n++) {
    // Lengths around the window (64 bytes) matter most: a backslash that ends it, a quote just past it.
    const len = n % 3 === 0 ? Math.floor(r() * 200) : 55 + Math.floor(r() * 20);
    let s = '';
    while (Buffer.byteLength(JSON.stringify(s)) < len) s += parts[Math.floor(r() * parts.length)]!;
    const lit = JSON.stringify(s);
    const buf = b(`${lit},"next":1}`);
    const end = skipString(buf, 0);
    assert.equal(end, Buffer.byteLength(lit), `case ${n}: ${lit}`);
    assert.equal(JSON.parse(buf.toString('utf8', 0, end)), s);
    checked++;
  }
  assert.equal(checked, 3000);
  assert.throws(() => skipString(b(`"${'x'.repeat(100)}\\"`), 0), JsonScanError);
  assert.throws(() => skipString(b(`"${'x'.repeat(10)}\\`), 0), JsonScanError);
});
