// File formats Sluice edits in a tool's config: JSON with comments (keys by path or entries of
// a {name, value} list) and marked blocks in shell profiles. Imports ./json-edit.js, ./text-block.js.
import { detectFormat, getAt, setAt, removeAt, getEntry, setEntry, removeEntry, parseJsonc, type JsonValue, type JsonInsertMemo } from './json-edit.js';
import { checkBlock, getBlock, setBlock, removeBlock, type BlockMemo } from './text-block.js';

export type FileFormat = 'json' | 'block';

/** Where one owned key lives inside a file; stored in the apply record so undo needs no adapter. */
export type KeyLoc =
  | { kind: 'json'; path: string[] }
  | { kind: 'json-entry'; list: string[]; name: string }
  | { kind: 'block' };

export interface Codec {
  /** Throws ToolConfigError when the text cannot be edited safely. */
  check(text: string): void;
  get(text: string, loc: KeyLoc): JsonValue | undefined;
  set(text: string, loc: KeyLoc, value: JsonValue): { text: string; memo: JsonValue | undefined };
  remove(text: string, loc: KeyLoc, memo: JsonValue | undefined): string;
  /** True when nothing but an empty skeleton is left (a file Sluice created can then be deleted). */
  isEmpty(text: string): boolean;
}

const BOM = '\uFEFF';

export function codecFor(format: FileFormat, file: string, defaultIndent = '  '): Codec {
  return format === 'json' ? jsonCodec(file, defaultIndent) : blockCodec(file);
}

function jsonCodec(file: string, defaultIndent: string): Codec {
  // A BOM is kept as it is but hidden from the parser, which rejects it.
  const split = (text: string): [string, string] => (text.startsWith(BOM) ? [BOM, text.slice(1)] : ['', text]);
  return {
    check(text) { parseJsonc(split(text)[1], file); },
    get(text, loc) {
      const body = split(text)[1];
      if (loc.kind === 'json') return getAt(body, loc.path, file);
      if (loc.kind === 'json-entry') return getEntry(body, loc.list, loc.name, file);
      throw new Error(`json codec cannot read a ${loc.kind} key`);
    },
    set(text, loc, value) {
      const [bom, body] = split(text);
      const fmt = detectFormat(body, defaultIndent);
      let r: { text: string; memo: JsonInsertMemo | undefined };
      if (loc.kind === 'json') r = setAt(body, loc.path, value, fmt, file);
      else if (loc.kind === 'json-entry') r = setEntry(body, loc.list, loc.name, value, fmt, file);
      else throw new Error(`json codec cannot write a ${loc.kind} key`);
      return { text: bom + r.text, memo: r.memo as JsonValue | undefined };
    },
    remove(text, loc, memo) {
      const [bom, body] = split(text);
      const m = memo as JsonInsertMemo | undefined;
      if (loc.kind === 'json') return bom + removeAt(body, loc.path, m, file);
      if (loc.kind === 'json-entry') return bom + removeEntry(body, loc.list, loc.name, m, file);
      throw new Error(`json codec cannot remove a ${loc.kind} key`);
    },
    isEmpty(text) {
      const root = parseJsonc(split(text)[1], file);
      return root === undefined || (root.children?.length ?? 0) === 0;
    },
  };
}

function blockCodec(file: string): Codec {
  return {
    check(text) { checkBlock(text, file); },
    get(text) { return getBlock(text, file); },
    set(text, _loc, value) {
      const r = setBlock(text, String(value), file);
      return { text: r.text, memo: r.memo as JsonValue | undefined };
    },
    remove(text, _loc, memo) { return removeBlock(text, memo as BlockMemo | undefined, file); },
    isEmpty(text) { return text.trim() === ''; },
  };
}
