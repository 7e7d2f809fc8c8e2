// Summarises a V8 .cpuprofile (from `--cpu-prof`) as the tables in bench/PROFILE.md:
// self time per frame and inclusive time per frame, from the first sample that is
// not idle on (start-up excluded), as shares of busy (non-idle) time.
//
//   node --import tsx bench/lib/profile-table.ts <file.cpuprofile> [--top 25] [--inclusive]
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

interface Frame { functionName: string; url: string; lineNumber: number }
interface Node { id: number; callFrame: Frame; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number }

export function label(frame: Frame): string {
  const file = frame.url ? `${basename(dirname(frame.url))}/${basename(frame.url)}` : '';
  return `${frame.functionName || '(anon)'} ${file}:${frame.lineNumber + 1}`;
}

export function summarise(profile: Profile, skipUntilBusyMs = 0): { busyMs: number; self: Map<string, number>; inclusive: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let started = false;
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    t += profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') continue;
    if (!started) {
      if (t / 1000 < skipUntilBusyMs) continue;
      started = true;
    }
    busy += dt;
    const l = label(node.callFrame);
    self.set(l, (self.get(l) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const ll = label(byId.get(id)!.callFrame);
      if (seen.has(ll)) continue;
      seen.add(ll);
      inclusive.set(ll, (inclusive.get(ll) ?? 0) + dt);
    }
  }
  return { busyMs: busy / 1000, self, inclusive };
}

if (import.meta.url === `file://${process.argv[1]}` && !process.argv.includes('--subtree')) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-table.ts <file.cpuprofile> [--top N] [--inclusive] [--skip-ms N]');
  const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 25;
  const skip = process.argv.includes('--skip-ms') ? Number(process.argv[process.argv.indexOf('--skip-ms') + 1]) : 0;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const { busyMs, self, inclusive } = summarise(profile, skip);
  const table = process.argv.includes('--inclusive') ? inclusive : self;
  console.log(`busy: ${busyMs.toFixed(0)} ms`);
  console.log(`| ${process.argv.includes('--inclusive') ? 'incl' : 'self'} % | frame |\n|---:|---|`);
  for (const [k, v] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${((100 * v) / 1000 / busyMs).toFixed(1)} | \`${k}\` |`);
  }
}

/** Inclusive time of each direct child of every node whose label starts with `root`, merged by label. */
export function subtree(profile: Profile, root: string, depth = 2): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) selfTime.set(profile.samples[i]!, (selfTime.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  const total = (id: number): number => { const n = byId.get(id)!; return (selfTime.get(id) ?? 0) + (n.children ?? []).reduce((a, c) => a + total(c), 0); };
  let busy = 0;
  for (const [id, t] of selfTime) if (byId.get(id)!.callFrame.functionName !== '(idle)') busy += t;
  const lines: string[] = [];
  const walk = (ids: number[], d: number, indent: string) => {
    const merged = new Map<string, { t: number; ids: number[] }>();
    for (const id of ids) {
      const l = label(byId.get(id)!.callFrame);
      const m = merged.get(l) ?? { t: 0, ids: [] };
      m.t += total(id);
      m.ids.push(id);
      merged.set(l, m);
    }
    for (const [l, m] of [...merged].sort((a, b) => b[1].t - a[1].t)) {
      if ((100 * m.t) / busy < 0.1) continue;
      const self = m.ids.reduce((a, id) => a + (selfTime.get(id) ?? 0), 0);
      lines.push(`${indent}${((100 * m.t) / busy).toFixed(1)}% (self ${((100 * self) / busy).toFixed(1)}) ${l}`);
      if (d < depth) walk(m.ids.flatMap((id) => byId.get(id)!.children ?? []), d + 1, `${indent}  `);
    }
  };
  walk(profile.nodes.filter((n) => label(n.callFrame).startsWith(root)).map((n) => n.id), 0, '');
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--subtree')) {
  const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Profile;
  const root = process.argv[process.argv.indexOf('--subtree') + 1]!;
  const depth = process.argv.includes('--depth') ? Number(process.argv[process.argv.indexOf('--depth') + 1]) : 2;
  console.log(subtree(profile, root, depth).join('\n'));
}
