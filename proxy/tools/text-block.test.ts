// Tests of the marked shell block and of per-shell quoting (the sh quoting is checked by a real bash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { getBlock, setBlock, removeBlock, quoteSh, quotePowerShell, quoteFish, blockVariable } from './text-block.js';

test('append after a blank line, replace in place, remove exactly', () => {
  for (const original of ['a\nb\n', 'a\nb', '', 'x\r\ny\r\n']) {
    const s = setBlock(original, 'export A=1');
    assert.equal(getBlock(s.text), 'export A=1');
    const again = setBlock(s.text, 'export A=2');
    assert.equal(again.memo, undefined);
    assert.equal(getBlock(again.text), 'export A=2');
    assert.equal(removeBlock(again.text, s.memo), original);
  }
  assert.equal(setBlock('a', 'X').text, 'a\n\n# >>> sluice >>>\nX\n# <<< sluice <<<\n');
});

test('unbalanced markers are refused', () => {
  assert.throws(() => getBlock('# >>> sluice >>>\nexport A=1\n'), { code: 'TOOL_CONFIG_UNPARSEABLE' });
  assert.throws(() => getBlock('x\n# <<< sluice <<<\n'), { code: 'TOOL_CONFIG_UNPARSEABLE' });
});

test('quoting survives quotes, dollars and backslashes', () => {
  const nasty = `it's $HOME \\ "q" \`x\``;
  const out = execFileSync('bash', ['-c', `export V=${quoteSh(nasty)}; printf %s "$V"`], { encoding: 'utf8' });
  assert.equal(out, nasty);
  assert.equal(quotePowerShell("a'b"), "'a''b'");
  assert.equal(quoteFish("a'b\\c"), "'a\\'b\\\\c'");
  assert.equal(blockVariable(`export X=${quoteSh(nasty)}`, 'X'), nasty);
  assert.equal(blockVariable(`set -gx X ${quoteFish(nasty)}`, 'X'), nasty);
  assert.equal(blockVariable(`$env:X = ${quotePowerShell(nasty)}`, 'X'), nasty);
});
