// A small unified line diff for previews (what Sluice will change in a tool's config file).
// Pure; imports nothing.

/**
 * Unified diff of `before` -> `after` with `context` lines around each change; '' when equal.
 * Config files are small and edits local, so the common prefix and suffix are trimmed and an
 * LCS table is built only for the middle.
 */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  // ops over the whole file: ' ' keep, '-' delete, '+' insert
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  for (let i = 0; i < pre; i++) ops.push({ op: ' ', line: a[i]! });
  const n = am.length;
  const m = bm.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) { ops.push({ op: ' ', line: am[i]! }); i++; j++; }
    // Deletions first, as diff(1) prints them.
    else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) { ops.push({ op: '-', line: am[i]! }); i++; }
    else { ops.push({ op: '+', line: bm[j]! }); j++; }
  }
  for (let k = a.length - suf; k < a.length; k++) ops.push({ op: ' ', line: a[k]! });

  const out: string[] = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.op === ' ') { k++; continue; }
    // Grow a hunk while changes are at most 2*context lines apart.
    const start = Math.max(0, k - context);
    let end = k;
    let lastChange = k;
    while (end < ops.length) {
      if (ops[end]!.op !== ' ') lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    let aStart = 0;
    let bStart = 0;
    for (let x = 0; x < start; x++) {
      if (ops[x]!.op !== '+') aStart++;
      if (ops[x]!.op !== '-') bStart++;
    }
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const o of hunk) {
      const noEol = o.line.startsWith(NO_EOL);
      out.push(o.op + (noEol ? o.line.slice(1) : o.line));
      if (noEol) out.push('\\ No newline at end of file');
    }
    k = end;
  }
  return out.join('\n') + '\n';
}

function range(start: number, len: number): string {
  // Unified diff numbers lines from 1; an empty range names the line before it.
  return len === 0 ? `${start},0` : len === 1 ? `${start + 1}` : `${start + 1},${len}`;
}

/** Lines as strings; the last line of a file without a trailing newline carries a NUL marker. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lastEmpty = parts[parts.length - 1] === '';
  if (lastEmpty) parts.pop();
  return parts.map((p, i) => (!lastEmpty && i === parts.length - 1 ? NO_EOL : '') + p.replace(/\r$/, ''));
}

const NO_EOL = '\u0000';
