import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtree, summarise } from './profile-table.js';

// root -> main -> (a -> leaf, b); idle beside them. Samples name the node that was on top.
const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6] },
    { id: 2, callFrame: frame('main', 'file:///x/proxy/main.js'), children: [3, 5] },
    { id: 3, callFrame: frame('a', 'file:///x/proxy/a.js'), children: [4] },
    { id: 4, callFrame: frame('leaf', 'file:///x/lib/leaf.js') },
    { id: 5, callFrame: frame('b', 'file:///x/proxy/b.js') },
    { id: 6, callFrame: frame('(idle)') },
  ],
  // Each sample's time is the next delta (µs): 4 -> 100, 4 -> 100, 5 -> 200, 6 -> 500 (idle), 3 -> 100.
  samples: [4, 4, 5, 6, 3, 6],
  timeDeltas: [0, 100, 100, 200, 500, 100],
  startTime: 0,
};

test('summarise: self and inclusive shares of busy time, idle left out', () => {
  const { busyMs, self, inclusive } = summarise(profile);
  assert.equal(busyMs, 0.5);
  assert.equal(self.get('leaf lib/leaf.js:1'), 200);
  assert.equal(self.get('b proxy/b.js:1'), 200);
  assert.equal(self.get('a proxy/a.js:1'), 100);
  assert.equal(inclusive.get('a proxy/a.js:1'), 300);
  assert.equal(inclusive.get('main proxy/main.js:1'), 500);
  assert.equal(self.has('(idle) :1'), false);
});

test('summarise skips what came before the first busy sample after skipUntilBusyMs', () => {
  // The first two samples are at t=0 and t=0.1 ms; skipping 0.15 ms starts at the third.
  const { busyMs, self } = summarise(profile, 0.15);
  assert.equal(busyMs, 0.3);
  assert.equal(self.has('leaf lib/leaf.js:1'), false);
});

test('subtree: a frame\'s time split by callee', () => {
  const lines = subtree(profile, 'main', 1);
  assert.equal(lines[0], '100.0% (self 0.0) main proxy/main.js:1');
  assert.match(lines[1]!, /^ {2}60\.0% \(self 20\.0\) a proxy\/a\.js:1$/);
  assert.match(lines[2]!, /^ {2}40\.0% \(self 40\.0\) b proxy\/b\.js:1$/);
});
