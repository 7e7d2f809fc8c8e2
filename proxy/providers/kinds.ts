// Provider families as data: the wire format each speaks, how it takes a key, where its endpoints
// are and what a base URL defaults to. Imports nothing, so settings and the registry both can.

export const PROVIDER_TYPES = ['anthropic', 'anthropic-compatible', 'openai', 'openai-compatible'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** The request/response format a provider speaks. */
export type Wire = 'anthropic' | 'openai-chat';

/** How the key travels: `x-api-key: K`, `authorization: Bearer K`, or not at all (local servers). */
export type AuthStyle = 'x-api-key' | 'bearer' | 'none';

export interface ProviderKind {
  wire: Wire;
  /** Null: the user must give a base URL (there is no one "compatible" host). */
  defaultBaseUrl: string | null;
  defaultAuth: AuthStyle;
  /**
   * Endpoint paths appended to the base URL's path. Anthropic-format bases are roots (`/v1/...`
   * is in the client's path); OpenAI-format bases already end in `/v1` by convention
   * (`https://api.openai.com/v1`, `http://localhost:11434/v1`), so their paths do not repeat it.
   */
  endpoints: { messages?: string; countTokens?: string; chat?: string; models: string };
}

export const PROVIDER_KINDS: Readonly<Record<ProviderType, ProviderKind>> = {
  anthropic: {
    wire: 'anthropic', defaultBaseUrl: 'https://api.anthropic.com', defaultAuth: 'x-api-key',
    endpoints: { messages: '/v1/messages', countTokens: '/v1/messages/count_tokens', models: '/v1/models' },
  },
  // DeepSeek, Moonshot, Zhipu, MiniMax and OpenRouter publish Messages endpoints under a base
  // URL of their own (e.g. https://api.deepseek.com/anthropic); most accept x-api-key, some only Bearer.
  'anthropic-compatible': {
    wire: 'anthropic', defaultBaseUrl: null, defaultAuth: 'x-api-key',
    endpoints: { messages: '/v1/messages', countTokens: '/v1/messages/count_tokens', models: '/v1/models' },
  },
  openai: {
    wire: 'openai-chat', defaultBaseUrl: 'https://api.openai.com/v1', defaultAuth: 'bearer',
    endpoints: { chat: '/chat/completions', models: '/models' },
  },
  // OpenRouter, Groq, Together, Ollama, LM Studio, vLLM, Gemini's OpenAI endpoint.
  'openai-compatible': {
    wire: 'openai-chat', defaultBaseUrl: null, defaultAuth: 'bearer',
    endpoints: { chat: '/chat/completions', models: '/models' },
  },
};
