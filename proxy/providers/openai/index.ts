// Public surface of the OpenAI Chat Completions <-> Anthropic Messages translation library.
// Re-exports only; the gateway's routes import from here, never from the files behind it.
export { anthropicToChatRequest, ANTHROPIC_REQUEST_FIELDS } from './request-to-chat.js';
export type { AnthropicToChatOptions, FieldRule } from './request-to-chat.js';
export { chatToAnthropicRequest, wantsStreamUsage, CHAT_REQUEST_FIELDS, DEFAULT_MAX_TOKENS } from './request-from-chat.js';
export type { ChatToAnthropicOptions, ChatFieldRule } from './request-from-chat.js';
export { chatResponseToAnthropic } from './response-from-chat.js';
export type { ChatResponseToAnthropicOptions, TranslatedMessage } from './response-from-chat.js';
export { anthropicToChatResponse } from './response-to-chat.js';
export type { AnthropicToChatResponseOptions, TranslatedCompletion } from './response-to-chat.js';
export { createChatToAnthropicStream } from './stream-from-chat.js';
export type { ChatToAnthropicStream, ChatToAnthropicStreamOptions } from './stream-from-chat.js';
export { createAnthropicToChatStream, chatErrorChunk } from './stream-to-chat.js';
export type { AnthropicToChatStream, AnthropicToChatStreamOptions } from './stream-to-chat.js';
export { createChatSseParser } from './chat-sse-parser.js';
export type { ChatSseParser } from './chat-sse-parser.js';
export { UpstreamResponseError } from './upstream-error.js';
export { anthropicErrorToChat, anthropicErrorTypeFor, chatErrorMessage, chatErrorToAnthropic } from './error-bodies.js';
export {
  RAW_ARGUMENTS_KEY,
  SIGNATURE_PREFIX,
  EFFORT_BUDGETS,
  anthropicUsageToChat,
  chatUsageToAnthropic,
  budgetToEffort,
  finishReasonToStopReason,
  stopReasonToFinishReason,
} from './mappings.js';
export type * from './types.js';
