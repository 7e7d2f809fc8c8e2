// Tables for the CLI: fit a width (100 columns unless told otherwise) by truncating the columns
// that may shrink, then dropping the least useful ones; colour only on a terminal, and never
// under NO_COLOR (https://no-color.org) or TERM=dumb. Numbers arrive formatted (proxy/format.ts).

export type CellStyle = 'red' | 'yellow' | 'green' | 'dim' | 'bold' | 'cyan' | null;

export interface Column {
  head: string;
  align?: 'left' | 'right';
  /** May be cut to this many characters (with an ellipsis) to fit; unset: never cut. */
  min?: number;
  /** Columns with the lowest drop rank go first when cutting is not enough; unset: never dropped. */
  drop?: number;
  /** Colour of a cell, from its text. */
  style?: (cell: string) => CellStyle;
}

export const TABLE_WIDTH = 100;
const GAP = 2;

const SGR: Record<Exclude<CellStyle, null>, [string, string]> = {
  red: ['\x1b[31m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
};

/** Colour for this output: a terminal, NO_COLOR unset or empty, TERM not dumb. FORCE_COLOR=1 forces it. */
export function useColor(o: { isTTY?: boolean; env: Record<string, string | undefined> }): boolean {
  if (o.env.NO_COLOR !== undefined && o.env.NO_COLOR !== '') return false;
  if (o.env.FORCE_COLOR !== undefined && o.env.FORCE_COLOR !== '' && o.env.FORCE_COLOR !== '0') return true;
  return o.isTTY === true && o.env.TERM !== 'dumb';
}

export function paint(text: string, style: CellStyle, color: boolean): string {
  if (!color || style === null || text === '') return text;
  const [on, off] = SGR[style];
  return `${on}${text}${off}`;
}

/** Prose in lines of at most `width` characters (words longer than a line are left whole), each after `indent`. */
export function wrap(text: string, width = TABLE_WIDTH, indent = ''): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) { out.push(indent + line); line = word; }
      else line = line ? `${line} ${word}` : word;
    }
    out.push(line ? indent + line : '');
  }
  return out.join('\n');
}

/** `s` in at most `w` characters, its middle elided so ids keep their head and tail. */
export function cut(s: string, w: number): string {
  if (s.length <= w) return s;
  if (w <= 1) return s.slice(0, w);
  const head = Math.ceil((w - 1) * 0.6);
  return `${s.slice(0, head)}…${s.slice(s.length - (w - 1 - head))}`;
}

export function renderTable(columns: readonly Column[], rows: readonly string[][], o: { width?: number; color?: boolean } = {}): string {
  const width = o.width ?? TABLE_WIDTH;
  const color = o.color === true;
  let cols = columns.map((c, i) => ({ c, i, w: Math.max(c.head.length, ...rows.map((r) => (r[i] ?? '').length)) }));
  const total = () => cols.reduce((a, x) => a + x.w, 0) + GAP * (cols.length - 1);
  // Cut the widest shrinkable column a character at a time, down to its minimum.
  while (total() > width) {
    const shrinkable = cols.filter((x) => x.c.min !== undefined && x.w > Math.max(x.c.min, x.c.head.length));
    if (shrinkable.length === 0) break;
    const widest = shrinkable.reduce((a, b) => (b.w > a.w ? b : a));
    widest.w -= 1;
  }
  // Still too wide: drop columns, least useful first.
  while (total() > width) {
    const droppable = cols.filter((x) => x.c.drop !== undefined);
    if (droppable.length === 0) break;
    const least = droppable.reduce((a, b) => (b.c.drop! < a.c.drop! ? b : a));
    cols = cols.filter((x) => x !== least);
  }
  const line = (cells: string[], styleOf: (x: (typeof cols)[number], text: string) => CellStyle) => cols.map((x, k) => {
    const text = cut(cells[x.i] ?? '', x.w);
    const pad = ' '.repeat(x.w - text.length);
    const painted = paint(text, styleOf(x, text), color);
    return x.c.align === 'right' ? pad + painted : k === cols.length - 1 ? painted : painted + pad;
  }).join(' '.repeat(GAP)).trimEnd();
  const out = [
    line(cols.map((x) => x.c.head).reduce<string[]>((a, h, k) => { a[cols[k]!.i] = h; return a; }, []), () => 'bold'),
    line(cols.reduce<string[]>((a, x) => { a[x.i] = '-'.repeat(x.w); return a; }, []), () => 'dim'),
    ...rows.map((r) => line(r, (x, text) => x.c.style?.(text) ?? null)),
  ];
  return `${out.join('\n')}\n`;
}
