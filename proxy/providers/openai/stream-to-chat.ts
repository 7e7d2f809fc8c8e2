// Streaming Anthropic events (already parsed {event, data}) -> OpenAI chat.completion.chunk SSE
// lines. A small stateful transformer; no I/O. Imports ../../errors.js and this folder only.
import { asGatewayError } from '../../errors.js';
import { UpstreamResponseError } from './upstream-error.js';
import { anthropicUsageToChat, messageIdToChatId, stopReasonToFinishReason } from './mappings.js';
import type { AnthropicStreamEvent, AnthropicUsage, ChatChunkDelta, ChatFinishReason, JsonObject } from './types.js';

export interface AnthropicToChatStreamOptions {
  /** Echoed as every chunk's `model`. */
  requestedModel: string;
  /** The client sent stream_options.include_usage: every chunk gets `usage: null` and a final usage chunk follows. */
  includeUsage: boolean;
  /** Milliseconds since the epoch, for `created`. Default Date.now. */
  clock?: () => number;
}

export interface AnthropicToChatStream {
  /** Feeds one parsed Anthropic event; returns the `data: ...\n\n` lines to write. */
  push(event: AnthropicStreamEvent): string[];
  /** The upstream body ended: [] after message_stop, else an error chunk and [DONE]. */
  end(): string[];
  /** The upstream failed: an OpenAI-style error chunk, then [DONE]. Later calls return []. */
  fail(err: unknown): string[];
  /** The Claude model that served the request ('' before message_start), for the ledger. */
  readonly servedModel: string;
  /** Usage in Anthropic terms as known so far, for the ledger. */
  readonly usage: AnthropicUsage;
}

const DONE_LINE = 'data: [DONE]\n\n';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The chat surface's error envelope, OpenAI's shape (`{"error":{message,type,code}}`): the
 * OpenAI SDKs raise an APIError when a stream line carries `error`. Built only here.
 */
export function chatErrorChunk(message: string, type: string, code: string | null): string {
  return `data: ${JSON.stringify({ error: { message, type, code } })}\n\n`;
}

/**
 * Creates the transformer. The first chunk carries `delta.role`; a tool call's chunks always
 * carry its `index` (counted over tool_use blocks only), `id` and `name` only on the first;
 * thinking_delta becomes `delta.reasoning_content`; signature and citation deltas have no chat
 * form and are left out.
 *
 * @example
 * const t = createAnthropicToChatStream({ requestedModel: 'claude-sonnet-4-5', includeUsage: true });
 * for (const ev of events) for (const line of t.push(ev)) res.write(line);
 */
export function createAnthropicToChatStream(opts: AnthropicToChatStreamOptions): AnthropicToChatStream {
  let id = '';
  let created = 0;
  let started = false;
  let done = false;
  let servedModel = '';
  let usage: JsonObject = {};
  const toolIndex = new Map<number, number>();

  function ensureStarted(messageId?: unknown): void {
    if (started) return;
    started = true;
    id = messageIdToChatId(typeof messageId === 'string' ? messageId : '', 'sluice');
    created = Math.floor((opts.clock ?? Date.now)() / 1000);
  }

  function chunk(delta: ChatChunkDelta, finish: ChatFinishReason | null = null): string {
    const body: JsonObject = {
      id, object: 'chat.completion.chunk', created, model: opts.requestedModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (opts.includeUsage) body.usage = null;
    return `data: ${JSON.stringify(body)}\n\n`;
  }

  function mergeUsage(u: unknown): void {
    if (!isObject(u)) return;
    // message_delta usage is cumulative; a null field means "unchanged".
    for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) usage[k] = v;
  }

  function fail(err: unknown): string[] {
    if (done) return [];
    done = true;
    const e = asGatewayError(err);
    return [chatErrorChunk(e.message, e.type, e.code), DONE_LINE];
  }

  function push(ev: AnthropicStreamEvent): string[] {
    if (done || !isObject(ev) || !isObject(ev.data)) return [];
    const data = ev.data;
    const type = typeof data.type === 'string' ? data.type : ev.event;
    switch (type) {
      case 'message_start': {
        const message = isObject(data.message) ? data.message : {};
        ensureStarted(message.id);
        if (typeof message.model === 'string') servedModel = message.model;
        mergeUsage(message.usage);
        return [chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        ensureStarted();
        const block = isObject(data.content_block) ? data.content_block : {};
        const index = typeof data.index === 'number' ? data.index : -1;
        if (block.type === 'tool_use') {
          const k = toolIndex.size;
          toolIndex.set(index, k);
          return [chunk({ tool_calls: [{ index: k, id: String(block.id ?? ''), type: 'function', function: { name: String(block.name ?? ''), arguments: '' } }] })];
        }
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return [chunk({ content: block.text })];
        if (block.type === 'thinking' && typeof block.thinking === 'string' && block.thinking !== '') return [chunk({ reasoning_content: block.thinking })];
        return [];
      }
      case 'content_block_delta': {
        ensureStarted();
        const delta = isObject(data.delta) ? data.delta : {};
        if (delta.type === 'text_delta' && typeof delta.text === 'string') return [chunk({ content: delta.text })];
        if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') return [chunk({ reasoning_content: delta.thinking })];
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          const k = toolIndex.get(typeof data.index === 'number' ? data.index : -1);
          if (k === undefined) return [];
          return [chunk({ tool_calls: [{ index: k, function: { arguments: delta.partial_json } }] })];
        }
        return [];
      }
      case 'message_delta': {
        ensureStarted();
        mergeUsage(data.usage);
        const delta = isObject(data.delta) ? data.delta : {};
        if (typeof delta.stop_reason !== 'string') return [];
        return [chunk({}, stopReasonToFinishReason(delta.stop_reason))];
      }
      case 'message_stop': {
        ensureStarted();
        done = true;
        const out: string[] = [];
        if (opts.includeUsage) {
          out.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: opts.requestedModel, choices: [], usage: anthropicUsageToChat(usage as Partial<AnthropicUsage>) })}\n\n`);
        }
        out.push(DONE_LINE);
        return out;
      }
      case 'error': {
        done = true;
        const error = isObject(data.error) ? data.error : {};
        const errType = typeof error.type === 'string' ? error.type : 'api_error';
        const message = typeof error.message === 'string' ? error.message : 'The upstream stream failed.';
        return [chatErrorChunk(message, errType, errType), DONE_LINE];
      }
      default:
        // ping, content_block_stop and event types added later carry nothing for a chat client.
        return [];
    }
  }

  return {
    push,
    end() {
      if (done) return [];
      return fail(new UpstreamResponseError('The upstream stream ended before message_stop (truncated response).'));
    },
    fail,
    get servedModel() { return servedModel; },
    get usage() {
      const u = usage as Partial<AnthropicUsage>;
      return { ...usage, input_tokens: u.input_tokens ?? 0, output_tokens: u.output_tokens ?? 0 } as AnthropicUsage;
    },
  };
}
