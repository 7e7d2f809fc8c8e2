// Model-id spelling: turns the ids seen in the wild (provider prefixes, Bedrock and Vertex forms,
// Claude Code's `[1m]`, dotted versions) into the spellings the price table uses. Pure string
// functions; imports nothing.

// Bedrock cross-region inference profiles put a geography before `anthropic.`.
const BEDROCK_GEO = /^(?:us|eu|apac|ap|jp|au|ca|global|us-gov)\./;
// Bedrock versions: `-v1:0`, `-v2:0`, or a bare `-v1` (Opus 4.6 on Bedrock).
const BEDROCK_VERSION = /-v\d+(?::\d+)?$/;
// Claude Code shows `sonnet[1m]` / `claude-sonnet-4-5[1m]` for the 1M-context variant; the API
// bills the underlying model, and the long-context tier is decided by token counts, not the name.
const CONTEXT_SUFFIX = /\[\d+[km]\]$/;
const SNAPSHOT_DATE = /-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;

/**
 * The spelling steps, in order; each returns the id unchanged when it does not apply.
 * Exported for tests; `candidateIds` is what lookups use.
 */
export function normalizeModelId(raw: string): string {
  let id = raw.trim().toLowerCase();
  id = id.replace(CONTEXT_SUFFIX, '');
  // Provider routing prefixes (`anthropic/`, `openrouter/anthropic/`, `bedrock/us-west-2/`) and
  // resource paths (Vertex `.../models/<id>`, Bedrock ARNs `...inference-profile/<id>`) all end
  // in the model id, so the last path segment is the id.
  const slash = id.lastIndexOf('/');
  if (slash >= 0) id = id.slice(slash + 1);
  // Bedrock: `us.anthropic.claude-sonnet-4-5-20250929-v1:0` -> `claude-sonnet-4-5-20250929`.
  const geoless = id.replace(BEDROCK_GEO, '');
  if (geoless.startsWith('anthropic.')) {
    id = geoless.slice('anthropic.'.length).replace(BEDROCK_VERSION, '');
  }
  // Vertex: `claude-sonnet-4-5@20250929` -> `claude-sonnet-4-5-20250929`; `@default` is dropped.
  const at = id.indexOf('@');
  if (at >= 0) {
    const version = id.slice(at + 1);
    id = /^\d{8}$/.test(version) ? `${id.slice(0, at)}-${version}` : id.slice(0, at);
  }
  // OpenRouter and others write versions with dots: `claude-sonnet-4.5`, `claude-3.5-haiku`.
  id = id.replace(/(\d)\.(\d)/g, '$1-$2');
  return id;
}

/**
 * Ids to try, most specific first: the id as given (so an override keyed on an exact provider
 * spelling wins), its normalized form, and that form without a trailing snapshot date (a dated
 * snapshot of a priced model version bills like it: `claude-opus-4-6-20260205` ->
 * `claude-opus-4-6`). Nothing looser: no prefix or family matching, so `claude-opus-4-60` or
 * `claude-foo-9` never borrow another model's price.
 */
export function candidateIds(raw: string): string[] {
  const out: string[] = [];
  const push = (s: string) => {
    if (s && !out.includes(s)) out.push(s);
  };
  push(raw.trim().toLowerCase());
  const norm = normalizeModelId(raw);
  push(norm);
  if (SNAPSHOT_DATE.test(norm)) push(norm.replace(SNAPSHOT_DATE, ''));
  return out;
}

/** True when the string uses glob syntax (`*` or `?`). */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** Compiles a case-insensitive glob where `*` matches any run of characters and `?` one. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}
