// Anthropic Message (non-streaming) -> OpenAI chat completion. Pure; imports this folder only.
import { anthropicUsageToChat, messageIdToChatId, stopReasonToFinishReason, stringifyToolInput } from './mappings.js';
import type { AnthropicMessage, ChatAssistantMessage, ChatCompletion, ChatToolCall } from './types.js';

export interface AnthropicToChatResponseOptions {
  /** Echoed as `model`: chat clients match responses against the name they sent. */
  requestedModel: string;
  /** Milliseconds since the epoch, for `created`. Default Date.now. */
  clock?: () => number;
}

export interface TranslatedCompletion {
  completion: ChatCompletion;
  /** The Claude model that served the request, for the ledger. */
  servedModel: string;
}

/**
 * Translates an Anthropic Message into a chat completion. Text blocks join into `content`,
 * thinking goes to `reasoning_content` (the most widely read reasoning field: DeepSeek, vLLM,
 * and the OpenAI SDKs pass unknown fields through), tool_use becomes `tool_calls`.
 * redacted_thinking and server-tool blocks have no chat form and are left out.
 *
 * @example
 * anthropicToChatResponse(message, { requestedModel: 'claude-sonnet-4-5' }).completion.choices[0].finish_reason // 'stop'
 */
export function anthropicToChatResponse(msg: AnthropicMessage, opts: AnthropicToChatResponseOptions): TranslatedCompletion {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const block of Array.isArray(msg.content) ? msg.content : []) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'thinking') thoughts.push(block.thinking);
    else if (block.type === 'tool_use') {
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: stringifyToolInput(block.input) } });
    }
  }
  const message: ChatAssistantMessage & { role: 'assistant' } = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    refusal: null,
  };
  if (thoughts.length > 0) message.reasoning_content = thoughts.join('\n\n');
  if (calls.length > 0) message.tool_calls = calls;
  const completion: ChatCompletion = {
    id: messageIdToChatId(msg.id, 'sluice'),
    object: 'chat.completion',
    created: Math.floor((opts.clock ?? Date.now)() / 1000),
    model: opts.requestedModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: stopReasonToFinishReason(msg.stop_reason) }],
    usage: anthropicUsageToChat(msg.usage),
  };
  return { completion, servedModel: typeof msg.model === 'string' ? msg.model : '' };
}
