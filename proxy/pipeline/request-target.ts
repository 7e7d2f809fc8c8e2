// The request-target a client sent, reduced to the one origin-form path Sluice may forward with
// a provider key: absolute-form only for the gateway's own authority, dot-segments resolved or
// refused, query bytes kept. Pure string work; imports only the error taxonomy.
import { RequestTargetRefusedError } from '../errors.js';

const SLASH = 47; // '/'
const DOT = 46; // '.'
const PERCENT = 37; // '%'
const BACKSLASH = 92; // '\'
const QUESTION = 63; // '?'
const HASH = 35; // '#'

/** Percent-decoding rounds before a segment counts as hiding something (`%25252e` is three). */
const MAX_DECODE_ROUNDS = 4;

/**
 * The authorities (`host:port`, lower case) a client may name in an absolute-form request-target
 * for this gateway: its loopback names on its own port.
 */
export function selfAuthorities(port: number): string[] {
  const out = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  // RFC 9110 §4.2.1: an http URI without a port means port 80.
  if (port === 80) out.push('127.0.0.1', 'localhost', '[::1]');
  return out;
}

/**
 * RFC 9112 §3.2.2: a server must accept absolute-form and route by its authority, not by Host.
 * Sluice only answers for itself: its own authority is reduced to origin-form (path and query,
 * byte for byte); any other authority, a userinfo, another scheme or asterisk-form is refused,
 * so a relay or forward proxy behind the gateway never sees a URL the client chose.
 */
export function reduceAbsoluteForm(target: string, self: readonly string[]): string {
  if (target.charCodeAt(0) === SLASH) return target;
  const sep = target.indexOf('://');
  if (sep <= 0) throw new RequestTargetRefusedError('it is neither origin-form (/path) nor absolute-form (http://host/path)');
  if (target.slice(0, sep).toLowerCase() !== 'http') throw new RequestTargetRefusedError('an absolute-form request-target must use http: to name this gateway');
  let end = sep + 3;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === SLASH || c === QUESTION || c === HASH) break;
    end++;
  }
  const authority = target.slice(sep + 3, end).toLowerCase();
  if (authority.includes('@') || !self.includes(authority)) {
    throw new RequestTargetRefusedError('an absolute-form request-target may only name this gateway; its authority is not 127.0.0.1, localhost or [::1] on this port');
  }
  if (end === target.length) return '/';
  return target.charCodeAt(end) === SLASH ? target.slice(end) : `/${target.slice(end)}`;
}

/**
 * True when a path segment (not itself `.` or `..`) would become a dot-segment for a server that
 * decodes percent-escapes (once or repeatedly), treats `\` or an encoded `/` as a separator, or
 * drops `;params` (Java servlet containers read `..;` as `..`).
 */
function hidesDotSegment(seg: string): boolean {
  let d = seg;
  for (let round = 0; d.includes('%'); round++) {
    if (round === MAX_DECODE_ROUNDS) return true;
    const next = decodeLoose(d);
    if (next === d) break;
    d = next;
  }
  let start = 0;
  for (let i = 0; i <= d.length; i++) {
    const c = i === d.length ? SLASH : d.charCodeAt(i);
    if (c !== SLASH && c !== BACKSLASH) continue;
    let piece = d.slice(start, i);
    const semi = piece.indexOf(';');
    if (semi !== -1) piece = piece.slice(0, semi);
    if (piece === '.' || piece === '..') return true;
    start = i + 1;
  }
  return false;
}

/** One round of percent-decoding, byte-wise; malformed escapes are left as they are. */
function decodeLoose(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * Where the path part of `target` ends (its `?` or its length), negated minus one when the path
 * needs the slow path: a dot, an escape, a backslash or a `#` anywhere in it. One scan, no copy.
 */
function scanPath(target: string): number {
  let suspicious = false;
  let i = 0;
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === QUESTION) break;
    if (c === DOT || c === PERCENT || c === BACKSLASH || c === HASH) suspicious = true;
  }
  return suspicious ? -i - 1 : i;
}


/**
 * RFC 3986 §5.2.4 remove_dot_segments over raw `.` and `..` segments, except that climbing
 * above the root is refused rather than clamped. A segment that hides a dot-segment behind
 * escapes, `\` or `;` is refused: servers disagree on how to read it, so there is no one
 * resolution that is safe for every upstream.
 */
function resolvePath(path: string): string {
  if (path.includes('#')) throw new RequestTargetRefusedError('its path contains "#"');
  const segs = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') {
        if (out.length === 0) throw new RequestTargetRefusedError('its path climbs above the root with ".."');
        out.pop();
      }
      if (last) out.push('');
      continue;
    }
    if (hidesDotSegment(s)) throw new RequestTargetRefusedError('its path hides a dot-segment behind percent-escapes, "\\" or ";"');
    out.push(s);
  }
  return `/${out.join('/')}`;
}

export interface RequestTargetOptions {
  /** The gateway's own authorities (`selfAuthorities(port)`). */
  self: readonly string[];
  /** The normalised path must start with this (`/v1/`: only the API surface is forwarded). */
  scope: string;
}

/**
 * The origin-form target to forward: path with dot-segments resolved, then `?` and the query
 * exactly as received. Throws RequestTargetRefusedError (400) for anything else. The common
 * case (origin-form, no `.`, `%`, `\` in the path) is one scan and returns `target` itself.
 *
 * @example
 * normalizeRequestTarget('/v1/messages/../models?beta=true', { self, scope: '/v1/' }) // '/v1/models?beta=true'
 * normalizeRequestTarget('http://evil.example/v1/messages', { self, scope: '/v1/' })  // throws
 */
export function normalizeRequestTarget(target: string, opts: RequestTargetOptions): string {
  const t = reduceAbsoluteForm(target, opts.self);
  const scanned = scanPath(t);
  if (scanned >= 0) {
    // The common case: nothing to resolve; the scope check reads the path in place.
    if (scanned < opts.scope.length || !t.startsWith(opts.scope)) throw outsideScope(opts.scope);
    return t;
  }
  const end = -scanned - 1;
  const clean = resolvePath(t.slice(0, end));
  if (!clean.startsWith(opts.scope)) throw outsideScope(opts.scope);
  return clean + t.slice(end);
}

function outsideScope(scope: string): RequestTargetRefusedError {
  return new RequestTargetRefusedError(`its path resolves outside ${scope}, the only paths Sluice forwards`);
}

/**
 * The last check before a path leaves with a key (forward.ts): origin-form, no `//` authority
 * look-alike at its start, and no dot-segment, plain or hidden. Joined to a base URL's path
 * prefix, such a path cannot name anything outside that prefix.
 */
export function isForwardablePath(pathAndQuery: string): boolean {
  if (pathAndQuery.charCodeAt(0) !== SLASH || pathAndQuery.charCodeAt(1) === SLASH) return false;
  const scanned = scanPath(pathAndQuery);
  if (scanned >= 0) return true;
  const path = pathAndQuery.slice(0, -scanned - 1);
  if (path.includes('#')) return false;
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === '.' || s === '..' || hidesDotSegment(s)) return false;
  }
  return true;
}

/** isForwardablePath, throwing RequestTargetRefusedError (400) when it is not. */
export function assertForwardablePath(pathAndQuery: string): void {
  if (!isForwardablePath(pathAndQuery)) {
    throw new RequestTargetRefusedError(`the upstream path ${JSON.stringify(pathAndQuery.slice(0, 200))} is not a plain origin-form path`);
  }
}
