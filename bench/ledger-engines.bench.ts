// The ledger before and after the move from better-sqlite3 to node:sqlite, in one run: the same
// bench/ledger.bench.ts (1M rows through record(), then the window's queries) runs against a
// checkout of the last better-sqlite3 release (with its own Node and node_modules) and against
// this tree, in alternating rounds (before, after, after, before), and the medians go in a table.
// Usage:
//   node --import tsx bench/ledger-engines.bench.ts --before <checkout> --before-node <node binary> \
//     [--rows 1000000] [--write-results]
// <checkout>: `git worktree add <dir> a8ebe46`, then `npm ci` in it with that Node (20).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const before = arg('--before');
const beforeNode = arg('--before-node');
const rows = arg('--rows') ?? '1000000';
if (!before || !beforeNode) {
  console.error('usage: ledger-engines.bench.ts --before <checkout> --before-node <node> [--rows N] [--write-results]');
  process.exit(2);
}

interface Result { node: string; rows: number; insertSec: number; rowsPerSec: number; fileMB: number; results: { name: string; ms: number; note: string }[] }

const out = mkdtempSync(join(tmpdir(), 'sluice-ledger-engines-'));
// The same benchmark code on both sides: only the ledger under it differs.
copyFileSync(join(ROOT, 'bench', 'ledger.bench.ts'), join(before, 'bench', 'ledger.bench.ts'));
const run = (side: 'before' | 'after', round: number): Result => {
  const cwd = side === 'before' ? before : ROOT;
  const node = side === 'before' ? beforeNode : process.execPath;
  const json = join(out, `${side}-${round}.json`);
  console.error(`round ${round}: ${side} (${cwd})`);
  const r = spawnSync(node, ['--import', 'tsx', 'bench/ledger.bench.ts', '--rows', rows, '--json', json], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${side} bench exited ${r.status}`);
  return JSON.parse(readFileSync(json, 'utf8')) as Result;
};
const load0 = loadavg();
try {
  const runs = { before: [] as Result[], after: [] as Result[] };
  runs.before.push(run('before', 1));
  runs.after.push(run('after', 1));
  runs.after.push(run('after', 2));
  runs.before.push(run('before', 2));
  const load1 = loadavg();
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const best = (side: Result[], pick: (r: Result) => number) => Math.min(...side.map(pick));
  const lines = [
    `Recorded ${new Date().toISOString().slice(0, 10)} with \`node --import tsx bench/ledger-engines.bench.ts\`: ${Number(rows).toLocaleString('en-US')} rows through`,
    `record(), the same bench file on both sides, rounds before/after/after/before; each query is the median of 5 calls, and`,
    `the table shows the better of the two rounds. Before: better-sqlite3 12 on Node ${runs.before[0]!.node}; after: node:sqlite on`,
    `Node ${runs.after[0]!.node}. Load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after. Target: every query <= 50 ms.`,
    '',
    '| | better-sqlite3 | node:sqlite | after / before |',
    '|---|---:|---:|---:|',
    `| insert through record() (rows/s) | ${Math.round(-best(runs.before, (r) => -r.rowsPerSec)).toLocaleString('en-US')} | ${Math.round(-best(runs.after, (r) => -r.rowsPerSec)).toLocaleString('en-US')} | ${(best(runs.after, (r) => -r.rowsPerSec) / best(runs.before, (r) => -r.rowsPerSec)).toFixed(2)} |`,
    `| file size (MB) | ${mid(runs.before.map((r) => r.fileMB)).toFixed(0)} | ${mid(runs.after.map((r) => r.fileMB)).toFixed(0)} | |`,
  ];
  for (const [i, q] of runs.after[0]!.results.entries()) {
    const b = best(runs.before, (r) => r.results[i]!.ms);
    const a = best(runs.after, (r) => r.results[i]!.ms);
    lines.push(`| ${q.name} (ms) | ${b.toFixed(2)} | ${a.toFixed(2)}${a > 50 ? ' **over 50**' : ''} | ${(a / b).toFixed(2)} |`);
  }
  const table = lines.join('\n');
  console.log(table);
  if (args.includes('--write-results')) {
    const file = join(ROOT, 'bench', 'RESULTS.md');
    const md = readFileSync(file, 'utf8');
    const heading = '## Ledger: better-sqlite3 -> node:sqlite';
    const start = md.indexOf(heading);
    const section = `${heading}\n\n${table}\n`;
    let next: string;
    if (start === -1) next = `${md.trimEnd()}\n\n${section}`;
    else {
      const end = md.indexOf('\n## ', start + heading.length);
      next = md.slice(0, start) + section + (end === -1 ? '' : md.slice(end));
    }
    writeFileSync(file, next);
  }
  if (runs.after.some((r) => r.results.some((q) => q.ms > 50))) process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
