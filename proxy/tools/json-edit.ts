// Minimal, exact edits of JSON-with-comments text: read, set and remove values at a path and
// entries of a `{name, value}` list. Imports jsonc-parser and ./tool-config-error.js only.
//
// jsonc-parser's `modify` re-formats every line an insertion or removal touches (a one-line
// array entry becomes five lines), moves an end-of-line comment onto the inserted property and
// drops a trailing comma when an array's last entry is removed. Taking a change back must give
// the original bytes, so edits here are computed from parseTree offsets: an insertion adds
// only its own line (in the file's indent and EOL), a removal deletes exactly that line again.
import { parseTree, findNodeAtLocation, getNodeValue, type Node, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { ToolConfigError } from './tool-config-error.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonPath = string[];

export interface JsonFormat {
  eol: '\n' | '\r\n';
  /** One indent level: a tab or N spaces. */
  unit: string;
}

/**
 * Undo data for one insertion: how deep the path existed before (containers below it were
 * created by the insertion and are removed again once empty), and the inner text of the
 * container when it was empty (`{}` vs `{\n}`), and the whole text when there was no root.
 */
export interface JsonInsertMemo {
  existingDepth: number;
  emptyInner?: string;
  rootText?: string;
}

/** Detects EOL and indent unit from the text; `defaultUnit` for files that show neither. */
export function detectFormat(text: string, defaultUnit: string): JsonFormat {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let unit: string | undefined;
  let minSpaces = Infinity;
  // Only lines that start a member or a bracket: ` * ` lines of block comments say nothing.
  for (const m of text.matchAll(/^([ \t]+)["{}[\]]/gm)) {
    const ws = m[1]!;
    if (unit === undefined && ws.startsWith('\t')) { unit = '\t'; break; }
    if (!ws.includes('\t')) minSpaces = Math.min(minSpaces, ws.length);
    if (m.index! > 20_000) break;
  }
  if (unit === undefined) unit = Number.isFinite(minSpaces) ? ' '.repeat(minSpaces) : defaultUnit;
  return { eol, unit };
}

/** Parses JSONC (comments and trailing commas allowed); throws TOOL_CONFIG_UNPARSEABLE on any error. */
export function parseJsonc(text: string, path?: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  if (errors.length > 0) {
    const e = errors[0]!;
    const line = text.slice(0, e.offset).split('\n').length;
    throw new ToolConfigError('TOOL_CONFIG_UNPARSEABLE',
      `${path ?? 'The file'} is not valid JSON (${printParseErrorCode(e.error)} at line ${line}); Sluice changed nothing. Fix the file, then try again.`,
      path === undefined ? {} : { path });
  }
  if (root !== undefined && root.type !== 'object') {
    throw new ToolConfigError('TOOL_CONFIG_UNEXPECTED_SHAPE',
      `${path ?? 'The file'} holds a JSON ${root.type}, not an object; Sluice changed nothing.`, path === undefined ? {} : { path });
  }
  return root;
}

/** The value at `path`, or undefined when absent. Throws when a container on the way is not an object. */
export function getAt(text: string, path: JsonPath, file?: string): JsonValue | undefined {
  const root = parseJsonc(text, file);
  if (!root) return undefined;
  const { node, depth } = deepest(root, path, file);
  return depth === path.length ? (getNodeValue(node) as JsonValue) : undefined;
}

/** Sets `path` to `value`, creating containers as needed. Returns the new text and the undo memo. */
export function setAt(text: string, path: JsonPath, value: JsonValue, fmt: JsonFormat, file?: string): { text: string; memo: JsonInsertMemo | undefined } {
  let root = parseJsonc(text, file);
  let rootText: string | undefined;
  if (!root) {
    // Empty (or whitespace-only) file: give it an object root, remembering the original text.
    rootText = text;
    text = '{}' + text;
    root = parseJsonc(text, file)!;
  }
  const { node, depth } = deepest(root, path, file);
  if (depth === path.length) {
    return { text: replaceNode(text, node, value, fmt), memo: undefined };
  }
  let nested: JsonValue = value;
  for (let i = path.length - 1; i > depth; i--) nested = { [path[i]!]: nested };
  const res = insertMember(text, node, path[depth]!, nested, fmt);
  const memo: JsonInsertMemo = { existingDepth: depth };
  if (res.emptyInner !== undefined) memo.emptyInner = res.emptyInner;
  if (rootText !== undefined) memo.rootText = rootText;
  return { text: res.text, memo };
}

/**
 * Removes `path`; then removes the now-empty containers the insertion created (per memo) and
 * restores an emptied container's original inner text, so remove(set(x)) === x.
 */
export function removeAt(text: string, path: JsonPath, memo: JsonInsertMemo | undefined, file?: string): string {
  const root = parseJsonc(text, file);
  if (!root) return text;
  const { node, depth } = deepest(root, path, file);
  if (depth !== path.length) return text;
  text = removeMember(text, node.parent!);
  const existingDepth = memo?.existingDepth ?? path.length - 1;
  for (let d = path.length - 1; d >= 0; d--) {
    const r = parseJsonc(text, file)!;
    const container = d === 0 ? r : findNodeAtLocation(r, path.slice(0, d));
    if (!container || container.type !== 'object' || (container.children?.length ?? 0) > 0) break;
    if (d > existingDepth) {
      text = removeMember(text, container.parent!);
      continue;
    }
    if (d === existingDepth) {
      if (d === 0 && memo?.rootText !== undefined) return memo.rootText;
      if (memo?.emptyInner !== undefined) text = setEmptyInner(text, container, memo.emptyInner);
    }
    break;
  }
  return text;
}

/** A `{name, value}` list such as `claudeCode.environmentVariables`: the value for `name`, or undefined. */
export function getEntry(text: string, listPath: JsonPath, name: string, file?: string): JsonValue | undefined {
  const root = parseJsonc(text, file);
  if (!root) return undefined;
  const list = listNode(root, listPath, file);
  if (!list) return undefined;
  const entry = findEntry(list, name);
  if (!entry) return undefined;
  const v = (getNodeValue(entry) as Record<string, JsonValue>).value;
  return v === undefined ? null : v;
}

/** Sets the entry named `name` (in place when present, appended otherwise), keeping all other entries in order. */
export function setEntry(text: string, listPath: JsonPath, name: string, value: JsonValue, fmt: JsonFormat, file?: string): { text: string; memo: JsonInsertMemo | undefined } {
  const root = parseJsonc(text, file);
  const list = root ? listNode(root, listPath, file) : undefined;
  if (!list) return setAt(text, listPath, [{ name, value }], fmt, file);
  const entry = findEntry(list, name);
  if (entry) {
    const valueNode = findNodeAtLocation(entry, ['value']);
    if (valueNode) return { text: replaceNode(text, valueNode, value, fmt), memo: undefined };
    return { text: insertMember(text, entry, 'value', value, fmt).text, memo: undefined };
  }
  const res = insertMember(text, list, null, { name, value }, fmt);
  const memo: JsonInsertMemo = { existingDepth: listPath.length + 1 };
  if (res.emptyInner !== undefined) memo.emptyInner = res.emptyInner;
  return { text: res.text, memo };
}

/** Removes the entry named `name`; removes the list again when the memo says the insertion created it. */
export function removeEntry(text: string, listPath: JsonPath, name: string, memo: JsonInsertMemo | undefined, file?: string): string {
  const root = parseJsonc(text, file);
  const list = root ? listNode(root, listPath, file) : undefined;
  const entry = list ? findEntry(list, name) : undefined;
  if (!list || !entry) return text;
  text = removeMember(text, entry);
  const r = parseJsonc(text, file)!;
  const after = findNodeAtLocation(r, listPath)!;
  if ((after.children?.length ?? 0) > 0 || !memo) return text;
  if (memo.existingDepth <= listPath.length) return removeAt(text, listPath, memo, file);
  if (memo.emptyInner !== undefined) return setEmptyInner(text, after, memo.emptyInner);
  return text;
}

// ---------------------------------------------------------------------------------------------

function deepest(root: Node, path: JsonPath, file?: string): { node: Node; depth: number } {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    if (node.type !== 'object') {
      throw new ToolConfigError('TOOL_CONFIG_UNEXPECTED_SHAPE',
        `${file ?? 'The file'}: "${path.slice(0, i).join('.')}" is a JSON ${node.type}, not an object; Sluice changed nothing.`, file === undefined ? {} : { path: file });
    }
    const next = findNodeAtLocation(node, [path[i]!]);
    if (!next) return { node, depth: i };
    node = next;
  }
  return { node, depth: path.length };
}

function listNode(root: Node, listPath: JsonPath, file?: string): Node | undefined {
  const { node, depth } = deepest(root, listPath, file);
  if (depth !== listPath.length) return undefined;
  if (node.type !== 'array') {
    throw new ToolConfigError('TOOL_CONFIG_UNEXPECTED_SHAPE',
      `${file ?? 'The file'}: "${listPath.join('.')}" should be a list of {name, value} but is a JSON ${node.type}; Sluice changed nothing.`, file === undefined ? {} : { path: file });
  }
  return node;
}

function findEntry(list: Node, name: string): Node | undefined {
  return list.children?.find((c) => c.type === 'object' && (getNodeValue(c) as { name?: unknown }).name === name);
}

/** Serializes a value the way JSON.stringify(v, null, unit) would, at indent `indent`, with the file's EOL. */
function serialize(v: JsonValue, indent: string, fmt: JsonFormat, inline: boolean): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (inline) return `[${v.map((x) => serialize(x, indent, fmt, true)).join(', ')}]`;
    const inner = indent + fmt.unit;
    return `[${fmt.eol}${v.map((x) => inner + serialize(x, inner, fmt, false)).join(',' + fmt.eol)}${fmt.eol}${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    if (inline) return `{ ${keys.map((k) => `${JSON.stringify(k)}: ${serialize(v[k]!, indent, fmt, true)}`).join(', ')} }`;
    const inner = indent + fmt.unit;
    return `{${fmt.eol}${keys.map((k) => `${inner}${JSON.stringify(k)}: ${serialize(v[k]!, inner, fmt, false)}`).join(',' + fmt.eol)}${fmt.eol}${indent}}`;
  }
  return JSON.stringify(v);
}

function lineStart(text: string, off: number): number {
  return text.lastIndexOf('\n', off - 1) + 1;
}

function lineIndent(text: string, off: number): string {
  const s = lineStart(text, off);
  return /^[ \t]*/.exec(text.slice(s, off))![0];
}

/** Skips spaces, tabs and comments; with `sameLine`, stops at an EOL (a block comment spanning lines counts as one). */
function skipTrivia(text: string, pos: number, sameLine: boolean): number {
  for (;;) {
    const c = text[pos];
    if (c === ' ' || c === '\t') { pos++; continue; }
    if (!sameLine && (c === '\r' || c === '\n')) { pos++; continue; }
    if (c === '/' && text[pos + 1] === '/') {
      const nl = text.indexOf('\n', pos);
      if (sameLine) return nl === -1 ? text.length : (text[nl - 1] === '\r' ? nl - 1 : nl);
      pos = nl === -1 ? text.length : nl;
      continue;
    }
    if (c === '/' && text[pos + 1] === '*') {
      const end = text.indexOf('*/', pos + 2);
      if (end === -1) return pos;
      if (sameLine && /[\r\n]/.test(text.slice(pos, end))) return pos;
      pos = end + 2;
      continue;
    }
    return pos;
  }
}

/** After a member ending at `end`: its own comma (or -1), and where its line ends if only trivia follow. */
function restOfLine(text: string, end: number): { comma: number; eolAt: number | null } {
  let p = skipTrivia(text, end, true);
  let comma = -1;
  if (text[p] === ',') { comma = p; p = skipTrivia(text, p + 1, true); }
  const atEol = p >= text.length || text[p] === '\n' || text[p] === '\r';
  return { comma, eolAt: atEol ? p : null };
}

function commaAfter(text: string, end: number): number {
  const p = skipTrivia(text, end, false);
  return text[p] === ',' ? p : -1;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function replaceNode(text: string, node: Node, value: JsonValue, fmt: JsonFormat): string {
  return splice(text, node.offset, node.offset + node.length, serialize(value, lineIndent(text, node.offset), fmt, false));
}

/** Inserts a property (key) or array element (key null) as the container's last member. */
function insertMember(text: string, container: Node, key: string | null, value: JsonValue, fmt: JsonFormat): { text: string; emptyInner?: string } {
  const members = container.children ?? [];
  const open = container.offset;
  const close = container.offset + container.length - 1;
  const containerIndent = lineIndent(text, open);
  const prefix = key === null ? '' : `${JSON.stringify(key)}: `;
  if (members.length === 0) {
    const childIndent = containerIndent + fmt.unit;
    const member = prefix + serialize(value, childIndent, fmt, false);
    const inner = text.slice(open + 1, close);
    if (!/[\r\n]/.test(inner)) {
      return { text: splice(text, open + 1, close, `${fmt.eol}${childIndent}${member}${fmt.eol}${containerIndent}`), emptyInner: inner };
    }
    const closeLine = lineStart(text, close);
    if (/^[ \t]*$/.test(text.slice(closeLine, close))) {
      return { text: splice(text, closeLine, closeLine, `${childIndent}${member}${fmt.eol}`) };
    }
    return { text: splice(text, close, close, `${fmt.eol}${childIndent}${member}${fmt.eol}${containerIndent}`) };
  }
  const last = members[members.length - 1]!;
  const lastEnd = last.offset + last.length;
  const ownsLine = /^[ \t]*$/.test(text.slice(lineStart(text, last.offset), last.offset));
  const rest = restOfLine(text, lastEnd);
  if (ownsLine && rest.eolAt !== null) {
    const indent = lineIndent(text, last.offset);
    // An entry written on one line (`{ "name": "A", "value": "1" },`) gets a sibling in the same style.
    const lastValue = key === null ? last : last.children?.[1];
    const inline = lastValue !== undefined && (lastValue.type === 'object' || lastValue.type === 'array')
      && !/[\r\n]/.test(text.slice(lastValue.offset, lastValue.offset + lastValue.length));
    const member = prefix + serialize(value, indent, fmt, inline);
    if (rest.comma >= 0) {
      // Trailing-comma style: the new last member keeps one too.
      return { text: splice(text, rest.eolAt, rest.eolAt, `${fmt.eol}${indent}${member},`) };
    }
    const t = splice(text, rest.eolAt, rest.eolAt, `${fmt.eol}${indent}${member}`);
    return { text: splice(t, lastEnd, lastEnd, ',') };
  }
  return { text: splice(text, lastEnd, lastEnd, `, ${prefix}${serialize(value, containerIndent, fmt, true)}`) };
}

/** Removes a property node (or array element) with its comma and, when it has its own line, that line. */
function removeMember(text: string, member: Node): string {
  const container = member.parent!;
  const members = container.children!;
  const idx = members.indexOf(member);
  const end = member.offset + member.length;
  const start = lineStart(text, member.offset);
  const ownsLine = /^[ \t]*$/.test(text.slice(start, member.offset));
  const rest = restOfLine(text, end);
  if (ownsLine && rest.eolAt !== null) {
    let lineEnd = rest.eolAt;
    if (text[lineEnd] === '\r') lineEnd++;
    if (text[lineEnd] === '\n') lineEnd++;
    let t = splice(text, start, lineEnd, '');
    if (rest.comma < 0 && idx > 0) {
      const prev = members[idx - 1]!;
      const c = commaAfter(t, prev.offset + prev.length);
      if (c >= 0) t = splice(t, c, c + 1, '');
    }
    return t;
  }
  if (idx > 0) {
    const prev = members[idx - 1]!;
    return splice(text, prev.offset + prev.length, end, '');
  }
  if (members.length > 1) return splice(text, member.offset, members[1]!.offset, '');
  return splice(text, member.offset, rest.comma >= 0 ? rest.comma + 1 : end, '');
}

function setEmptyInner(text: string, container: Node, inner: string): string {
  const open = container.offset;
  const close = container.offset + container.length - 1;
  if (!/^\s*$/.test(text.slice(open + 1, close))) return text;
  return splice(text, open + 1, close, inner);
}
