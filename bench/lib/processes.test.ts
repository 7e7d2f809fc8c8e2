import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createChildSet, parseProcStatTicks, parseVmRssKb, readCpuTicks, readRssKb } from './processes.js';

test('parseVmRssKb reads the VmRSS line', () => {
  assert.equal(parseVmRssKb('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 1 kB\n'), 51234);
  assert.ok(Number.isNaN(parseVmRssKb('Name:\tnode\n')));
});

test('parseProcStatTicks sums utime and stime, even with spaces and parens in the name', () => {
  const stat = '4242 (node (x) y) S 1 2 3 0 -1 4194304 100 0 0 0 70 30 0 0 20 0 1 0 5 6 7';
  assert.equal(parseProcStatTicks(stat), 100);
});

test('the live readers return numbers for this process', () => {
  assert.ok(readRssKb(process.pid) > 1000);
  assert.ok(readCpuTicks(process.pid) >= 0);
});

test('killAll ends every tracked child', async () => {
  const children = createChildSet();
  const procs = [0, 1].map(() => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  for (const p of procs) children.track(p);
  assert.equal(children.size, 2);
  const exits = procs.map((p) => new Promise<NodeJS.Signals | null>((r) => p.once('exit', (_c, s) => r(s))));
  children.killAll();
  assert.deepEqual(await Promise.all(exits), ['SIGKILL', 'SIGKILL']);
  assert.equal(children.size, 0);
});
