// Tests for reading an array's last elements backwards: on generated JSON full of the hard
// cases (quotes and backslashes inside strings, brackets inside strings, nesting, scalars,
// whitespace, non-ASCII), the spans equal the forward reader's last elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrayElements, lastArrayElements, JsonSpanError } from './json-spans.js';
import { createRng } from '../../test/prng.js';

function generator(seed: number) {
  const rng = createRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const pieces = ['a', '"', '\\', '\\\\', '\\"', '[', ']', '{', '}', ',', ':', ' ', 'é', '😀', '\n', 'tool_result', '\\u0022'];
  const str = () => Array.from({ length: Math.floor(rng() * 6) }, () => pick(pieces)).join('');
  const value = (depth: number): unknown => {
    const r = rng();
    if (depth > 3 || r < 0.3) return pick([str(), 0, -1.5e3, true, false, null, str()]);
    if (r < 0.65) return Array.from({ length: Math.floor(rng() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rng() * 4) }, () => [str(), value(depth + 1)]));
  };
  // JSON.stringify never emits whitespace between tokens; spread some around the separators.
  const ws = () => pick(['', '', ' ', '\n  ', '\t']);
  const spaced = (json: string) => {
    let out = '';
    let inString = false;
    for (let i = 0; i < json.length; i++) {
      const c = json[i]!;
      out += c;
      if (c === '"') {
        let bs = 0;
        for (let k = i - 1; json[k] === '\\'; k--) bs++;
        if (bs % 2 === 0) inString = !inString;
      }
      if (!inString && (c === ',' || c === '[' || c === '{' || c === ':')) out += ws();
    }
    return out;
  };
  return { value, spaced, rng };
}

test('lastArrayElements equals the forward reader\'s last elements on generated JSON', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const g = generator(seed);
    const arr = Array.from({ length: Math.floor(g.rng() * 6) }, () => g.value(0));
    const text = `{"model":"m","messages":${g.spaced(JSON.stringify(arr))} ,"x":1}`;
    const buf = Buffer.from(text);
    const start = buf.indexOf('"messages":') + '"messages":'.length;
    const all = arrayElements(buf, start);
    const end = all.length ? buf.indexOf(']', all.at(-1)!.end) + 1 : buf.indexOf(']', start) + 1;
    assert.equal(all.length, arr.length, `seed ${seed}`);
    for (const n of [1, 2, 3, 10]) {
      assert.deepEqual(lastArrayElements(buf, start, end, n), all.slice(-n), `seed ${seed}, last ${n}: ${text}`);
    }
  }
});

test('lastArrayElements on edge shapes, and what it refuses', () => {
  const spans = (text: string, n: number) => lastArrayElements(Buffer.from(text), 0, Buffer.byteLength(text), n)
    .map((s) => Buffer.from(text).toString('utf8', s.start, s.end));
  assert.deepEqual(spans('[]', 2), []);
  assert.deepEqual(spans('[ \n ]', 2), []);
  assert.deepEqual(spans('[1]', 2), ['1']);
  assert.deepEqual(spans('[1,2,3]', 2), ['2', '3']);
  assert.deepEqual(spans('[ "a\\"]", "b\\\\" ]', 2), ['"a\\"]"', '"b\\\\"']);
  assert.deepEqual(spans('[{"a":"}"},[["]"]]]', 2), ['{"a":"}"}', '[["]"]]']);
  assert.throws(() => spans('{}', 1), JsonSpanError);
  assert.throws(() => spans('[1,]', 1), JsonSpanError);
  assert.throws(() => spans('[1 2]', 2), JsonSpanError);
  assert.throws(() => spans('[,1]', 2), JsonSpanError);
  assert.throws(() => spans('[abc"]', 1), JsonSpanError);
});
