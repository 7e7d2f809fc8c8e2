// Upstream error bodies across the formats: an OpenAI-style `{"error":{...}}` answer becomes
// Anthropic's envelope for Anthropic clients, and the reverse for chat clients. The status is
// kept, so each client's retry logic sees what the upstream meant. Pure; imports nothing.

/** Anthropic's `error.type` for an HTTP status (Anthropic's own table; 5xx default api_error). */
export function anthropicErrorTypeFor(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503:
    case 529: return 'overloaded_error';
    case 504: return 'timeout_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** The human message in an OpenAI-compatible error body (`error.message`, `message`, `detail`, or the text). */
export function chatErrorMessage(text: string): string {
  const o = parseObject(text);
  const err = o && typeof o.error === 'object' && o.error !== null ? o.error as Record<string, unknown> : null;
  const m = err?.message ?? (typeof o?.error === 'string' ? o.error : undefined) ?? o?.message ?? o?.detail;
  if (typeof m === 'string' && m !== '') return m.slice(0, 2000);
  const t = text.trim();
  return t === '' ? 'The upstream returned an error without a body.' : t.slice(0, 2000);
}

/**
 * An OpenAI-compatible error response as Anthropic's envelope (`{"type":"error","error":{type,message}}`).
 *
 * @example
 * chatErrorToAnthropic(429, '{"error":{"message":"Rate limit reached","type":"requests"}}')
 * // => '{"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached"}}'
 */
export function chatErrorToAnthropic(status: number, text: string): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorTypeFor(status), message: chatErrorMessage(text) } });
}

/**
 * An Anthropic error response (or any error body) as OpenAI's shape `{"error":{message,type,code}}`,
 * which the OpenAI SDKs turn into an APIError with the message.
 */
export function anthropicErrorToChat(status: number, text: string): string {
  const o = parseObject(text);
  const err = o && typeof o.error === 'object' && o.error !== null ? o.error as Record<string, unknown> : null;
  const type = typeof err?.type === 'string' ? err.type : anthropicErrorTypeFor(status);
  const message = typeof err?.message === 'string' ? err.message : chatErrorMessage(text);
  return JSON.stringify({ error: { message, type, code: type, param: null } });
}
