#!/usr/bin/env node
// Runs every *.test.ts under proxy/, app/, renderer/, test/, scripts/ and bench/ with node's own test runner
// (TypeScript loaded through tsx). Node 20's --test takes no globs, so the files are listed here.
// Usage: node test/run.mjs [path-substring ...]   (filters files by substring)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const roots = ['proxy', 'app', 'renderer/src', 'test', 'scripts', 'bench'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2);
const chosen = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...chosen], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
