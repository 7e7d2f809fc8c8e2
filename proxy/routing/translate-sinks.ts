// Response translators that sit between one upstream attempt and the client sink: an OpenAI-format
// upstream answering an Anthropic client (and feeding the meter Anthropic-format bytes in every
// case), and an Anthropic upstream answering an OpenAI chat client. Streaming stays streaming:
// each upstream chunk is translated and written as it arrives. Imports the translation library,
// the sink types and the error taxonomy; never express or undici.
import type { ForwardHooks, ResponseSink } from '../pipeline/forward.js';
import { asGatewayError, toErrorBody, type GatewayError } from '../errors.js';
import { createSseParser } from '../meter/sse-parser.js';
import {
  anthropicErrorToChat,
  anthropicToChatResponse,
  chatErrorChunk,
  chatErrorToAnthropic,
  chatResponseToAnthropic,
  createAnthropicToChatStream,
  createChatSseParser,
  createChatToAnthropicStream,
  UpstreamResponseError,
  type AnthropicMessage,
  type ChatCompletion,
  type ChatCompletionChunk,
} from '../providers/openai/index.js';

type MeterHooks = Pick<ForwardHooks, 'onStart' | 'onChunk'>;
type Headers = Record<string, string | string[]>;
type Mode = 'sse' | 'json' | 'error';

const MAX_EVENT_BYTES = 8 * 1024 * 1024;

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function modeOf(status: number, headers: Headers): Mode {
  if (status < 200 || status >= 300) return 'error';
  return (header(headers, 'content-type') ?? '').toLowerCase().startsWith('text/event-stream') ? 'sse' : 'json';
}

/** Response headers a translated body gets: only what is true of the new body, plus the upstream's request id. */
function translatedHeaders(mode: Mode, upstream: Headers, fallbackId: string, length?: number): Headers {
  const h: Headers = {
    'content-type': mode === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/json',
    'request-id': header(upstream, 'request-id') ?? header(upstream, 'x-request-id') ?? fallbackId,
  };
  if (mode === 'sse') h['cache-control'] = 'no-cache';
  if (length !== undefined) h['content-length'] = String(length);
  const retry = header(upstream, 'retry-after');
  if (retry !== undefined) h['retry-after'] = retry;
  return h;
}

/** The upstream headers minus framing that no longer matches a rewritten body. */
function withoutFraming(h: Headers, length: number): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h)) if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v;
  out['content-length'] = String(length);
  return out;
}

export interface ChatUpstreamOptions {
  /** The model the client asked for: echoed to an Anthropic client (Claude Code's context accounting). */
  requestedModel: string;
  /** The model sent upstream; the ledger's served model when the upstream does not name one. */
  targetModel: string;
  requestId: string;
  /** `openai-chat`: the client speaks chat too and gets the upstream's bytes unchanged. */
  client: 'anthropic' | 'openai-chat';
}

/**
 * For an OpenAI-format upstream. An Anthropic client gets Anthropic SSE / JSON / error envelopes;
 * a chat client gets the upstream's bytes. Either way the meter sees the Anthropic form, with the
 * served model (what the upstream reports, else the target model) in `message.model`, so the
 * ledger prices the model that actually ran and records requested vs served.
 */
export function chatUpstreamWrapper(opts: ChatUpstreamOptions): (sink: ResponseSink, meter: MeterHooks) => { sink: ResponseSink; hooks: MeterHooks } {
  return (out, meter) => {
    let mode: Mode = 'json';
    let status = 0;
    let upstreamHeaders: Headers = {};
    const held: Buffer[] = [];
    const parser = createChatSseParser();
    const t = createChatToAnthropicStream({ requestedModel: opts.requestedModel, requestId: opts.requestId });
    let swapped = false;
    const served = () => t.servedModel || opts.targetModel || opts.requestedModel;
    const START = 'event: message_start\ndata: ';

    /** The meter's copy of the translated text: message_start names the served model. */
    const toMeter = (text: string) => {
      if (text === '') return;
      let m = text;
      if (!swapped && text.startsWith(START)) {
        swapped = true;
        const end = text.indexOf('\n\n');
        const data = JSON.parse(text.slice(START.length, end)) as { message: { model: string } };
        data.message.model = served();
        m = `${START}${JSON.stringify(data)}${text.slice(end)}`;
      }
      meter.onChunk?.(Buffer.from(m));
    };
    const translate = (objs: unknown[]): string => {
      let s = '';
      for (const o of objs) s += t.push(o as ChatCompletionChunk);
      return s;
    };
    const failText = (err: unknown): string => t.fail(err);

    const finishBuffered = (body: Buffer) => {
      const text = body.toString('utf8');
      let clientBody: string | Buffer;
      let meterBody: string;
      let clientStatus = status;
      if (mode === 'json') {
        let message: AnthropicMessage;
        try {
          const r = chatResponseToAnthropic(JSON.parse(text) as ChatCompletion, { requestedModel: opts.requestedModel });
          message = r.message;
          meterBody = JSON.stringify({ ...message, model: r.servedModel || opts.targetModel || opts.requestedModel });
          clientBody = opts.client === 'anthropic' ? JSON.stringify(message) : body;
        } catch (err) {
          const gerr = err instanceof SyntaxError ? new UpstreamResponseError('The OpenAI-compatible upstream returned a body that is not JSON.', err) : asGatewayError(err);
          meterBody = toErrorBody(gerr, opts.requestId);
          clientStatus = gerr.status;
          clientBody = opts.client === 'anthropic' ? meterBody : anthropicErrorToChat(gerr.status, meterBody);
        }
      } else {
        meterBody = chatErrorToAnthropic(status, text);
        clientBody = opts.client === 'anthropic' ? meterBody : body;
      }
      const bytes = typeof clientBody === 'string' ? Buffer.from(clientBody) : clientBody;
      const raw = opts.client === 'openai-chat' && clientStatus === status;
      out.start(clientStatus, raw ? withoutFraming(upstreamHeaders, bytes.length) : translatedHeaders(mode === 'json' && clientStatus === status ? 'json' : 'error', upstreamHeaders, opts.requestId, bytes.length));
      if (bytes.length) out.write(bytes);
      meter.onChunk?.(Buffer.from(meterBody));
      out.end();
    };

    const sink: ResponseSink = {
      start(s, headers) {
        status = s;
        upstreamHeaders = headers;
        mode = modeOf(s, headers);
        if (mode === 'sse') out.start(s, opts.client === 'anthropic' ? translatedHeaders('sse', headers, opts.requestId) : headers);
        // JSON and error bodies are answered once whole: their length changes.
      },
      write(chunk) {
        if (mode !== 'sse') {
          held.push(chunk);
          return true;
        }
        let text: string;
        try {
          text = translate(parser.push(chunk));
        } catch (err) {
          text = failText(err);
        }
        toMeter(text);
        if (opts.client === 'openai-chat') return out.write(chunk);
        return text === '' ? true : out.write(Buffer.from(text));
      },
      onDrain: (resume) => out.onDrain(resume),
      end() {
        if (mode !== 'sse') {
          finishBuffered(Buffer.concat(held));
          return;
        }
        let text: string;
        try {
          text = translate(parser.end()) + t.end();
        } catch (err) {
          text = failText(err);
        }
        toMeter(text);
        if (opts.client === 'anthropic' && text !== '') out.write(Buffer.from(text));
        out.end();
      },
      fail(err: GatewayError) {
        if (mode !== 'sse') {
          const body = toErrorBody(err, opts.requestId);
          meter.onChunk?.(Buffer.from(body));
          const text = opts.client === 'anthropic' ? body : anthropicErrorToChat(err.status, body);
          out.start(err.status, translatedHeaders('error', {}, opts.requestId, Buffer.byteLength(text)));
          out.write(Buffer.from(text));
          out.end();
          return;
        }
        toMeter(failText(err));
        if (opts.client === 'anthropic') {
          out.fail(err);
          return;
        }
        out.write(Buffer.from(chatErrorChunk(err.message, err.type, err.code) + 'data: [DONE]\n\n'));
        out.end();
      },
    };
    const hooks: MeterHooks = {
      onStart(s, headers, ttfbMs) {
        const h = translatedHeaders(mode === 'sse' ? 'sse' : 'json', headers as Headers, opts.requestId);
        meter.onStart?.(s, h as Record<string, string>, ttfbMs);
      },
      // The meter is fed the translated bytes by the sink above, never the chat bytes.
      onChunk: () => {},
    };
    return { sink, hooks };
  };
}

export interface AnthropicUpstreamToChatOptions {
  requestedModel: string;
  /** The chat client sent stream_options.include_usage. */
  includeUsage: boolean;
  requestId: string;
  clock?: () => number;
}

/**
 * For an Anthropic upstream answering an OpenAI chat client: chat.completion.chunk SSE (tool-call
 * indexes, optional usage chunk, `[DONE]`), a chat.completion, or an OpenAI-shaped error. The
 * meter keeps seeing the upstream's Anthropic bytes (its hooks pass through untouched).
 */
export function anthropicUpstreamToChatWrapper(opts: AnthropicUpstreamToChatOptions): (sink: ResponseSink, meter: MeterHooks) => { sink: ResponseSink; hooks: MeterHooks } {
  return (out, meter) => {
    let mode: Mode = 'json';
    let status = 0;
    let upstreamHeaders: Headers = {};
    const held: Buffer[] = [];
    const t = createAnthropicToChatStream({ requestedModel: opts.requestedModel, includeUsage: opts.includeUsage, ...(opts.clock ? { clock: opts.clock } : {}) });
    let pending = '';
    const parser = createSseParser({
      onEvent(type, data) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch (err) {
          for (const l of t.fail(new UpstreamResponseError('The upstream sent an SSE event that is not JSON.', err))) pending += l;
          return;
        }
        for (const l of t.push({ event: type, data: parsed as Record<string, unknown> })) pending += l;
      },
      wantsData: () => true,
      maxPendingBytes: MAX_EVENT_BYTES,
    });
    const flush = (): boolean => {
      if (pending === '') return true;
      const b = Buffer.from(pending);
      pending = '';
      return out.write(b);
    };
    const sink: ResponseSink = {
      start(s, headers) {
        status = s;
        upstreamHeaders = headers;
        mode = modeOf(s, headers);
        if (mode === 'sse') out.start(s, translatedHeaders('sse', headers, opts.requestId));
      },
      write(chunk) {
        if (mode !== 'sse') {
          held.push(chunk);
          return true;
        }
        parser.push(chunk);
        return flush();
      },
      onDrain: (resume) => out.onDrain(resume),
      end() {
        if (mode === 'sse') {
          parser.finish();
          for (const l of t.end()) pending += l;
          flush();
          out.end();
          return;
        }
        const text = Buffer.concat(held).toString('utf8');
        let body: string;
        let st = status;
        if (mode === 'json') {
          try {
            body = JSON.stringify(anthropicToChatResponse(JSON.parse(text) as AnthropicMessage, { requestedModel: opts.requestedModel, ...(opts.clock ? { clock: opts.clock } : {}) }).completion);
          } catch (err) {
            const gerr = new UpstreamResponseError('The upstream returned a Messages body that is not JSON.', err);
            st = gerr.status;
            body = anthropicErrorToChat(gerr.status, toErrorBody(gerr, opts.requestId));
          }
        } else {
          body = anthropicErrorToChat(status, text);
        }
        const bytes = Buffer.from(body);
        out.start(st, translatedHeaders(st === status && mode === 'json' ? 'json' : 'error', upstreamHeaders, opts.requestId, bytes.length));
        out.write(bytes);
        out.end();
      },
      fail(err: GatewayError) {
        if (mode !== 'sse') {
          const text = anthropicErrorToChat(err.status, toErrorBody(err, opts.requestId));
          out.start(err.status, translatedHeaders('error', {}, opts.requestId, Buffer.byteLength(text)));
          out.write(Buffer.from(text));
          out.end();
          return;
        }
        for (const l of t.fail(err)) pending += l;
        flush();
        out.end();
      },
    };
    return { sink, hooks: meter };
  };
}
