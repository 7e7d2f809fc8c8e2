// Request attribution for the ledger: which session, agent and client a request came from, read
// from headers and metadata.user_id. Pure functions over plain data; imports nothing.

export type HeaderBag = Record<string, string | string[] | undefined>;

export type SessionSource = 'header' | 'metadata_json' | 'metadata_legacy';

export interface SessionAttribution {
  sessionId: string | null;
  source: SessionSource | null;
}

export interface AgentAttribution {
  agentId: string | null;
  parentAgentId: string | null;
}

export type ClientFamily =
  | 'claude-code'
  | 'claude-code-vscode'
  | 'anthropic-sdk-ts'
  | 'anthropic-sdk-python'
  | 'openai-sdk'
  | 'cline'
  | 'cursor'
  | 'continue'
  | 'curl'
  | 'other';

export interface ClientInfo {
  family: ClientFamily;
  /** The client's own version where the request carries one, else null. */
  version: string | null;
}

// A UUID is a special case of this. Anything else (spaces, quotes, slashes, control characters,
// very long strings) is refused so the ledger and the UI never hold attacker-shaped ids.
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const SAFE_VERSION = /^[0-9A-Za-z.+_-]{1,64}$/;
// metadata.user_id is client-controlled; a legitimate one is ~150 chars, so refuse to parse blobs.
const MAX_USER_ID_CHARS = 4096;

/** True for a UUID or a token of at most 128 characters from [A-Za-z0-9_-]. */
export function isSafeId(value: string): boolean {
  return SAFE_ID.test(value);
}

/** Bags known to hold only lowercase names (checked once per bag, on its first miss). */
const lowercaseBags = new WeakMap<HeaderBag, boolean>();

function allLowercase(headers: HeaderBag): boolean {
  let known = lowercaseBags.get(headers);
  if (known === undefined) {
    known = true;
    for (const key in headers) {
      if (key !== key.toLowerCase()) {
        known = false;
        break;
      }
    }
    lowercaseBags.set(headers, known);
  }
  return known;
}

/**
 * Node lowercases incoming header names, but callers may pass a hand-built bag; fall back to a
 * case-insensitive scan. A repeated header counts by its first value. A request's attribution
 * asks for several headers that are usually absent: whether the bag needs the scan at all is
 * decided once per bag, so a miss on Node's own headers costs one lookup.
 */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined && !(name === name.toLowerCase() && allLowercase(headers))) {
    const lower = name.toLowerCase();
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === lower) {
        v = headers[key];
        break;
      }
    }
  }
  if (Array.isArray(v)) v = v[0];
  return v === undefined ? undefined : v.trim();
}

function safeIdOrNull(value: string | undefined): string | null {
  return value !== undefined && isSafeId(value) ? value : null;
}

// Claude Code before 2.1.78: user_<hex device id>_account_<uuid or empty>_session_<uuid>.
const LEGACY_USER_ID = /^user_[0-9a-f]+_account_[0-9a-f-]*_session_([A-Za-z0-9_-]+)$/i;

/**
 * Claude Code's session: the `x-claude-code-session-id` header (it equals the transcript file
 * name), else the session inside `metadata.user_id`: the JSON-string form of 2.1.78+ or the
 * older underscore form. An invalid value at one place falls through to the next.
 */
export function sessionIdFrom(headers: HeaderBag, metadataUserId: string | undefined): SessionAttribution {
  const fromHeader = safeIdOrNull(headerValue(headers, 'x-claude-code-session-id'));
  if (fromHeader !== null) return { sessionId: fromHeader, source: 'header' };

  if (typeof metadataUserId === 'string' && metadataUserId.length <= MAX_USER_ID_CHARS) {
    const text = metadataUserId.trim();
    if (text.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const sid = (parsed as Record<string, unknown>).session_id;
        const id = typeof sid === 'string' ? safeIdOrNull(sid) : null;
        if (id !== null) return { sessionId: id, source: 'metadata_json' };
      }
    } else {
      const m = LEGACY_USER_ID.exec(text);
      const id = m === null ? null : safeIdOrNull(m[1]);
      if (id !== null) return { sessionId: id, source: 'metadata_legacy' };
    }
  }
  return { sessionId: null, source: null };
}

/** Claude Code subagents send `x-claude-code-agent-id`; nested ones add the parent's id. */
export function agentIdFrom(headers: HeaderBag): AgentAttribution {
  return {
    agentId: safeIdOrNull(headerValue(headers, 'x-claude-code-agent-id')),
    parentAgentId: safeIdOrNull(headerValue(headers, 'x-claude-code-parent-agent-id')),
  };
}

function versionOrNull(v: string | undefined): string | null {
  return v !== undefined && SAFE_VERSION.test(v) ? v : null;
}

/** The version after `<product>/` anywhere in the UA, e.g. "Cursor/1.7.2" -> "1.7.2". */
function productVersion(ua: string, product: RegExp): string | null | undefined {
  const m = product.exec(ua);
  if (m === null) return undefined;
  return versionOrNull(m[1]);
}

function hasHeaderPrefix(headers: HeaderBag, prefix: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase().startsWith(prefix));
}

/**
 * Which client sent the request. Apps are recognised before SDKs because the apps are built on
 * the SDKs and still send the SDKs' x-stainless-* headers (Claude Code on the TypeScript SDK).
 * Claude Code's UA is `claude-cli/<version> (<user type>, <entrypoint>[, ...])`; its VS Code
 * extension runs it with entrypoint `claude-vscode`.
 */
export function clientFamilyFrom(userAgent: string | undefined, headers: HeaderBag): ClientInfo {
  const ua = (userAgent ?? headerValue(headers, 'user-agent') ?? '').trim();

  const cc = /^claude-cli\/(\S+)(?:\s+\(([^)]*)\))?/.exec(ua);
  if (cc !== null) {
    const entrypoint = (cc[2] ?? '').split(',')[1]?.trim() ?? '';
    return { family: entrypoint === 'claude-vscode' ? 'claude-code-vscode' : 'claude-code', version: versionOrNull(cc[1]) };
  }
  if (headerValue(headers, 'x-app') === 'cli') return { family: 'claude-code', version: null };

  // Cline sends `User-Agent: Cline/<version>` and `X-Title: Cline` (OpenRouter-style headers).
  const cline = productVersion(ua, /(?:^|\s)Cline\/(\S+)/i);
  if (cline !== undefined) return { family: 'cline', version: cline };
  if (headerValue(headers, 'x-title')?.toLowerCase() === 'cline' || /cline\.bot/i.test(headerValue(headers, 'http-referer') ?? '')) {
    return { family: 'cline', version: null };
  }

  const cursor = productVersion(ua, /(?:^|\s)Cursor\/(\S+)/);
  if (cursor !== undefined) return { family: 'cursor', version: cursor };
  if (hasHeaderPrefix(headers, 'x-cursor-')) return { family: 'cursor', version: versionOrNull(headerValue(headers, 'x-cursor-client-version')) };

  const cont = productVersion(ua, /(?:^|\s)Continue\/(\S+)/);
  if (cont !== undefined) return { family: 'continue', version: cont };
  if (hasHeaderPrefix(headers, 'x-continue-')) return { family: 'continue', version: null };

  const sdk = /^(Anthropic|OpenAI)\/(JS|Python)\s+(\S+)/i.exec(ua);
  if (sdk !== null) {
    const version = versionOrNull(sdk[3]);
    if (sdk[1]!.toLowerCase() === 'openai') return { family: 'openai-sdk', version };
    return { family: sdk[2]!.toLowerCase() === 'js' ? 'anthropic-sdk-ts' : 'anthropic-sdk-python', version };
  }
  // Both Stainless-generated SDKs send x-stainless-lang; an anthropic-version header tells them apart.
  const lang = headerValue(headers, 'x-stainless-lang')?.toLowerCase();
  if (lang !== undefined && lang !== '') {
    const version = versionOrNull(headerValue(headers, 'x-stainless-package-version'));
    if (headerValue(headers, 'anthropic-version') === undefined) return { family: 'openai-sdk', version };
    if (lang === 'js') return { family: 'anthropic-sdk-ts', version };
    if (lang === 'python') return { family: 'anthropic-sdk-python', version };
  }

  const curl = productVersion(ua, /^curl\/(\S+)/);
  if (curl !== undefined) return { family: 'curl', version: curl };
  return { family: 'other', version: null };
}
