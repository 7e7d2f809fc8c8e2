import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvLine } from './csv.js';

test('CSV quoting follows RFC 4180', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(1.5), '1.5');
  assert.equal(csvLine(['a', 1, null, true]), 'a,1,,true\r\n');
});

test('cells a spreadsheet would evaluate stay text', () => {
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('+1'), "'+1");
  assert.equal(csvField('@sum'), "'@sum");
  assert.equal(csvField(-3), '-3', 'numbers are numbers');
});
