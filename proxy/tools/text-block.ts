// A marked block (`# >>> sluice >>>` ... `# <<< sluice <<<`) in a shell profile, and quoting of
// values per shell. Pure string functions; imports only ./tool-config-error.js.
import { ToolConfigError } from './tool-config-error.js';

export const BLOCK_START = '# >>> sluice >>>';
export const BLOCK_END = '# <<< sluice <<<';

/** What an append added around the block, so removing it gives back the original bytes. */
export interface BlockMemo { before: string; after: string }

interface Span { start: number; innerStart: number; innerEnd: number; end: number }

function eolOf(text: string): '\n' | '\r\n' {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function findBlock(text: string, file?: string): Span | null {
  const startRe = /^# >>> sluice >>>[ \t]*\r?$/m;
  const s = startRe.exec(text);
  if (!s) {
    if (/^# <<< sluice <<<[ \t]*\r?$/m.test(text)) throw unterminated(file);
    return null;
  }
  const afterStart = text.indexOf('\n', s.index);
  if (afterStart === -1) throw unterminated(file);
  const endRe = /^# <<< sluice <<<[ \t]*\r?$/gm;
  endRe.lastIndex = afterStart + 1;
  const e = endRe.exec(text);
  if (!e) throw unterminated(file);
  let end = e.index + e[0].length;
  if (text[end - 1] === '\r') end--;
  return { start: s.index, innerStart: afterStart + 1, innerEnd: e.index, end };
}

function unterminated(file?: string): ToolConfigError {
  return new ToolConfigError('TOOL_CONFIG_UNPARSEABLE',
    `${file ?? 'The profile'} has a "${BLOCK_START}" block without its end marker (or the other way round); Sluice changed nothing. Remove the stray marker line, then try again.`,
    file === undefined ? {} : { path: file });
}

/** Throws TOOL_CONFIG_UNPARSEABLE when the markers are unbalanced. */
export function checkBlock(text: string, file?: string): void {
  findBlock(text, file);
}

/** The block's inner lines joined with "\n", or undefined when there is no block. */
export function getBlock(text: string, file?: string): string | undefined {
  const span = findBlock(text, file);
  if (!span) return undefined;
  return text.slice(span.innerStart, span.innerEnd).replace(/\r\n/g, '\n').replace(/\n$/, '');
}

/** Replaces the block's inner lines in place, or appends a new block after a blank line. */
export function setBlock(text: string, inner: string, file?: string): { text: string; memo: BlockMemo | undefined } {
  const eol = eolOf(text);
  const body = inner.split('\n').join(eol) + eol;
  const span = findBlock(text, file);
  if (span) return { text: text.slice(0, span.innerStart) + body + text.slice(span.innerEnd), memo: undefined };
  const before = text === '' ? '' : text.endsWith('\n') ? eol : eol + eol;
  const after = eol;
  return { text: `${text}${before}${BLOCK_START}${eol}${body}${BLOCK_END}${after}`, memo: { before, after } };
}

/** Removes the block (and, per memo, the blank line and newline the append added). */
export function removeBlock(text: string, memo: BlockMemo | undefined, file?: string): string {
  const span = findBlock(text, file);
  if (!span) return text;
  let start = span.start;
  let end = span.end;
  if (memo) {
    if (text.slice(start - memo.before.length, start) === memo.before) start -= memo.before.length;
    if (text.slice(end, end + memo.after.length) === memo.after) end += memo.after.length;
  } else {
    // A block Sluice did not append (it was there before): take its own line ending with it.
    if (text.startsWith('\r\n', end)) end += 2;
    else if (text[end] === '\n') end += 1;
  }
  return text.slice(0, start) + text.slice(end);
}

/** POSIX sh single quotes: nothing inside is special; a quote is closed, escaped and reopened. */
export function quoteSh(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** fish single quotes: only \\ and \' are escapes inside. */
export function quoteFish(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** PowerShell verbatim string: a quote is doubled. */
export function quotePowerShell(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Reads `NAME=value` style assignments back out of a block we wrote (for status and masking). */
export function blockVariable(inner: string, name: string): string | undefined {
  for (const line of inner.split('\n')) {
    const m = new RegExp(`^(?:export\\s+${name}=|set\\s+-gx\\s+${name}\\s+|\\$env:${name}\\s*=\\s*)(.*)$`).exec(line.trim());
    if (!m) continue;
    const raw = m[1]!.trim();
    if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) {
      const body = raw.slice(1, -1);
      if (line.includes('$env:')) return body.replace(/''/g, "'");
      if (line.trim().startsWith('set ')) return body.replace(/\\'/g, "'").replace(/\\\\/g, '\\');
      return body.replace(/'\\''/g, "'");
    }
    return raw;
  }
  return undefined;
}
