// Streaming OpenAI chat.completion.chunk objects -> Anthropic Messages SSE text. A small stateful
// transformer: chunks in, SSE strings out; no I/O. Imports ../../errors.js and this folder only.
import { asGatewayError, toErrorBody } from '../../errors.js';
import { UpstreamResponseError } from './upstream-error.js';
import {
  chatIdToMessageId,
  chatUsageToAnthropic,
  encodeReasoningSignature,
  finishReasonToStopReason,
  mergeReasoningDetails,
  parseToolArguments,
} from './mappings.js';
import { reasoningTextOf } from './response-from-chat.js';
import type { AnthropicStopReason, AnthropicUsage, ChatCompletionChunk, ChatReasoningDetail, ChatUsage } from './types.js';

export interface ChatToAnthropicStreamOptions {
  /** Echoed as message.model so Claude Code's context accounting keeps working. */
  requestedModel: string;
  /** Put into the `request_id` of an `event: error` body. */
  requestId?: string;
}

export interface ChatToAnthropicStream {
  /** Feeds one parsed chunk; returns the SSE text to write (possibly ''). */
  push(chunk: ChatCompletionChunk): string;
  /** The upstream stream ended (`[DONE]` or EOF): closes the message, or reports a truncation. */
  end(): string;
  /** The upstream failed mid-stream: an Anthropic `event: error`. Later calls return ''. */
  fail(err: unknown): string;
  /** The model the upstream reports serving ('' until the first chunk), for the ledger. */
  readonly servedModel: string;
  /** Usage in Anthropic terms as known so far, for the ledger. */
  readonly usage: AnthropicUsage;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface PendingTool {
  id: string;
  name: string;
  args: string;
}

/** Chunks that yield nothing (buffered tool arguments) send a ping now and then: see below. */
const PING_EVERY_SILENT_CHUNKS = 32;

/**
 * Creates the transformer. Text and thinking stream live, each kind change opening a new block.
 * Tool calls are buffered by their OpenAI `index` and emitted, in order of first appearance,
 * when finish_reason arrives: only then is the argument string complete, so invalid JSON can be
 * kept under RAW_ARGUMENTS_KEY instead of breaking the client's parser, and interleaved
 * fragments of several calls cannot produce out-of-order blocks. While arguments are buffered a
 * `ping` goes out every 32 silent chunks so Claude Code's idle watchdog sees traffic.
 *
 * @example
 * const t = createChatToAnthropicStream({ requestedModel: 'claude-sonnet-4-5' });
 * for (const chunk of parser.push(bytes)) res.write(t.push(chunk));
 * res.end(t.end());
 */
export function createChatToAnthropicStream(opts: ChatToAnthropicStreamOptions): ChatToAnthropicStream {
  let started = false;
  let done = false;
  let messageId = '';
  let servedModel = '';
  let nextIndex = 0;
  let live: { kind: 'text' | 'thinking'; index: number } | null = null;
  let liveDetails: ChatReasoningDetail[] = [];
  const tools = new Map<number, PendingTool>();
  let toolsEmitted = false;
  let finishReason: string | null = null;
  let refused = false;
  let usage: ChatUsage | undefined;
  let silent = 0;

  function closeLive(): string {
    if (!live) return '';
    let out = '';
    if (live.kind === 'thinking') {
      out += sse('content_block_delta', { type: 'content_block_delta', index: live.index, delta: { type: 'signature_delta', signature: encodeReasoningSignature(liveDetails) } });
    }
    out += sse('content_block_stop', { type: 'content_block_stop', index: live.index });
    live = null;
    liveDetails = [];
    return out;
  }

  function open(kind: 'text' | 'thinking'): string {
    const out = closeLive();
    live = { kind, index: nextIndex++ };
    const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    return out + sse('content_block_start', { type: 'content_block_start', index: live.index, content_block: block });
  }

  function thinking(text: string, details: readonly ChatReasoningDetail[]): string {
    let out = live?.kind === 'thinking' ? '' : open('thinking');
    const index = live!.index;
    if (text !== '') out += sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: text } });
    mergeReasoningDetails(liveDetails, details);
    return out;
  }

  function text(piece: string): string {
    const out = live?.kind === 'text' ? '' : open('text');
    return out + sse('content_block_delta', { type: 'content_block_delta', index: live!.index, delta: { type: 'text_delta', text: piece } });
  }

  function emitTools(): string {
    let out = closeLive();
    if (toolsEmitted) return out;
    toolsEmitted = true;
    let k = 0;
    for (const tool of tools.values()) {
      const index = nextIndex++;
      const id = tool.id !== '' ? tool.id : `toolu_${messageId.slice(4)}_${k}`;
      k++;
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: tool.name, input: {} } });
      // Re-serialised so the client always receives one valid JSON object (see RAW_ARGUMENTS_KEY).
      out += sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(parseToolArguments(tool.args)) } });
      out += sse('content_block_stop', { type: 'content_block_stop', index });
    }
    return out;
  }

  function fail(err: unknown): string {
    if (done) return '';
    done = true;
    return `event: error\ndata: ${toErrorBody(asGatewayError(err), opts.requestId ?? '')}\n\n`;
  }

  function push(chunk: ChatCompletionChunk): string {
    if (done) return '';
    if (chunk === null || typeof chunk !== 'object') return fail(new UpstreamResponseError('The upstream sent a stream chunk that is not a JSON object.'));
    if (chunk.error !== undefined && chunk.error !== null) {
      const msg = typeof chunk.error.message === 'string' ? chunk.error.message.slice(0, 500) : 'unknown error';
      return fail(new UpstreamResponseError(`The upstream reported an error mid-stream: ${msg}`));
    }
    let out = '';
    let buffered = false;
    if (!started) {
      started = true;
      messageId = chatIdToMessageId(chunk.id, `sluice_${chunk.created ?? 0}`);
      out += sse('message_start', {
        type: 'message_start',
        message: {
          id: messageId, type: 'message', role: 'assistant', model: opts.requestedModel, content: [],
          stop_reason: null, stop_sequence: null,
          // OpenAI reports usage only at the end; message_delta carries the real, cumulative numbers.
          usage: chatUsageToAnthropic(chunk.usage),
        },
      });
    }
    if (servedModel === '' && typeof chunk.model === 'string') servedModel = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    const delta = choice?.delta;
    if (delta) {
      const reasoning = reasoningTextOf(delta);
      const details = Array.isArray(delta.reasoning_details) ? delta.reasoning_details : [];
      if (reasoning !== '' || details.length > 0) out += thinking(reasoning, details);
      if (typeof delta.content === 'string' && delta.content !== '') out += text(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        refused = true;
        out += text(delta.refusal);
      }
      for (const tc of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        buffered = true;
        const key = typeof tc.index === 'number' ? tc.index : tools.size;
        let tool = tools.get(key);
        if (!tool) {
          tool = { id: '', name: '', args: '' };
          tools.set(key, tool);
        }
        if (tool.id === '' && typeof tc.id === 'string') tool.id = tc.id;
        if (tool.name === '' && typeof tc.function?.name === 'string') tool.name = tc.function.name;
        if (typeof tc.function?.arguments === 'string') tool.args += tc.function.arguments;
      }
    }
    if (choice?.finish_reason) {
      finishReason = choice.finish_reason;
      out += emitTools();
    }
    // Only chunks whose tool-call fragments were buffered count as silence worth a ping.
    if (out === '' && buffered) {
      silent++;
      if (silent % PING_EVERY_SILENT_CHUNKS === 1) out = sse('ping', { type: 'ping' });
    } else if (out !== '') {
      silent = 0;
    }
    return out;
  }

  function end(): string {
    if (done) return '';
    if (!started) return fail(new UpstreamResponseError('The upstream stream ended before sending any chunk.'));
    if (finishReason === null) return closeLive() + fail(new UpstreamResponseError('The upstream stream ended before a finish_reason (truncated response).'));
    done = true;
    const stop: AnthropicStopReason = refused ? 'refusal' : finishReasonToStopReason(finishReason, tools.size > 0);
    return emitTools()
      + sse('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: chatUsageToAnthropic(usage) })
      + sse('message_stop', { type: 'message_stop' });
  }

  return {
    push,
    end,
    fail,
    get servedModel() { return servedModel; },
    get usage() { return chatUsageToAnthropic(usage); },
  };
}
