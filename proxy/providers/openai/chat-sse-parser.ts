// Incremental parser for an OpenAI-compatible SSE byte stream into chunk objects. Handles any
// byte split (including inside a UTF-8 character), CRLF, comments and `data: [DONE]`. No I/O;
// imports only this folder's upstream error.
import { UpstreamResponseError } from './upstream-error.js';

export interface ChatSseParser {
  /** Feeds bytes (or text); returns the JSON payloads completed by them, in order. */
  push(bytes: Uint8Array | string): unknown[];
  /** The body ended: returns a last event not followed by a blank line, if any. */
  end(): unknown[];
  /** True once `data: [DONE]` was seen; later data is ignored. */
  readonly done: boolean;
}

/**
 * @example
 * const parser = createChatSseParser();
 * for await (const bytes of body) for (const chunk of parser.push(bytes)) handle(chunk);
 * for (const chunk of parser.end()) handle(chunk);
 */
export function createChatSseParser(): ChatSseParser {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let data: string[] = [];
  let done = false;

  function dispatch(out: unknown[]): void {
    if (data.length === 0) return;
    const payload = data.join('\n');
    data = [];
    if (done) return;
    if (payload.trim() === '[DONE]') {
      done = true;
      return;
    }
    try {
      out.push(JSON.parse(payload));
    } catch (err) {
      throw new UpstreamResponseError(`The upstream sent an SSE data line that is not JSON: ${JSON.stringify(payload.slice(0, 200))}`, err);
    }
  }

  function line(text: string, out: unknown[]): void {
    if (text === '') return dispatch(out);
    if (text.startsWith(':')) return; // comment / keep-alive
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    // `event:`, `id:` and `retry:` carry nothing a chat chunk needs; errors arrive as data.
    if (field === 'data') data.push(value);
  }

  function drain(out: unknown[], final: boolean): void {
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      // A lone trailing \r may be the first half of \r\n: wait for the next bytes unless final.
      if (!m || (m[0] === '\r' && m.index === buffer.length - 1 && !final)) break;
      const text = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      line(text, out);
    }
  }

  return {
    push(bytes) {
      const out: unknown[] = [];
      buffer += typeof bytes === 'string' ? bytes : decoder.decode(bytes, { stream: true });
      drain(out, false);
      return out;
    },
    end() {
      const out: unknown[] = [];
      buffer += decoder.decode();
      drain(out, true);
      if (buffer !== '') {
        line(buffer, out);
        buffer = '';
      }
      dispatch(out);
      return out;
    },
    get done() { return done; },
  };
}
