// OpenAI chat completion (non-streaming) -> Anthropic Message. Pure; imports this folder's
// mappings, types and upstream error only.
import { UpstreamResponseError } from './upstream-error.js';
import {
  chatIdToMessageId,
  chatUsageToAnthropic,
  encodeReasoningSignature,
  finishReasonToStopReason,
  parseToolArguments,
} from './mappings.js';
import type { AnthropicMessage, AnthropicResponseBlock, ChatCompletion } from './types.js';

export interface ChatResponseToAnthropicOptions {
  /** The model the client asked for; echoed in `model` so Claude Code's context accounting keeps working. */
  requestedModel: string;
}

export interface TranslatedMessage {
  message: AnthropicMessage;
  /** The model the upstream says it served, for the ledger. */
  servedModel: string;
}

/** The reasoning text of a chat message or delta: DeepSeek's field first, then OpenRouter's. */
export function reasoningTextOf(m: { reasoning_content?: string | null; reasoning?: string | null }): string {
  if (typeof m.reasoning_content === 'string') return m.reasoning_content;
  if (typeof m.reasoning === 'string') return m.reasoning;
  return '';
}

/**
 * Translates a chat completion into an Anthropic Message. Block order follows Anthropic's:
 * thinking, then text (refusal text included), then tool_use.
 *
 * @example
 * chatResponseToAnthropic(completion, { requestedModel: 'claude-sonnet-4-5' }).message.stop_reason // 'end_turn'
 */
export function chatResponseToAnthropic(resp: ChatCompletion, opts: ChatResponseToAnthropicOptions): TranslatedMessage {
  const choice = Array.isArray(resp?.choices) ? resp.choices[0] : undefined;
  if (!choice || typeof choice.message !== 'object' || choice.message === null) {
    throw new UpstreamResponseError('The OpenAI-compatible upstream returned a completion without choices[0].message.');
  }
  const m = choice.message;
  const content: AnthropicResponseBlock[] = [];
  const reasoning = reasoningTextOf(m);
  const details = Array.isArray(m.reasoning_details) ? m.reasoning_details : [];
  if (reasoning !== '' || details.length > 0) {
    content.push({ type: 'thinking', thinking: reasoning, signature: encodeReasoningSignature(details) });
  }
  let text = '';
  if (typeof m.content === 'string') text = m.content;
  else if (Array.isArray(m.content)) text = m.content.map((p) => (p.type === 'text' ? p.text : p.refusal)).join('');
  if (text === '' && typeof m.refusal === 'string') text = m.refusal;
  if (text !== '') content.push({ type: 'text', text });
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call, k) => {
    content.push({
      type: 'tool_use',
      // Some compatible servers send no id; Claude Code needs one to pair the tool_result.
      id: typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${chatIdToMessageId(resp.id, 'sluice').slice(4)}_${k}`,
      name: call.function?.name ?? '',
      input: parseToolArguments(call.function?.arguments),
    });
  });
  const refused = typeof m.refusal === 'string' && m.refusal !== '';
  const message: AnthropicMessage = {
    id: chatIdToMessageId(resp.id, `sluice_${resp.created ?? 0}`),
    type: 'message',
    role: 'assistant',
    model: opts.requestedModel,
    content,
    stop_reason: refused ? 'refusal' : finishReasonToStopReason(choice.finish_reason, calls.length > 0),
    stop_sequence: null,
    usage: chatUsageToAnthropic(resp.usage),
  };
  return { message, servedModel: typeof resp.model === 'string' ? resp.model : '' };
}
