// Per-target request preparation: given the client's request (Anthropic Messages or OpenAI chat)
// and a target, the path, body, headers and response translator for that target. The client's
// bytes go through untouched when the target speaks the client's format with the same model.
// Imports the translation library, the registry and the upstream types; never express.
import { InvalidRequestError } from '../errors.js';
import { withModel, type Target, type TargetRequest } from '../pipeline/upstream.js';
import type { ProviderRegistry, ProviderSpec } from '../providers/registry.js';
import {
  anthropicToChatRequest,
  chatToAnthropicRequest,
  wantsStreamUsage,
  type AnthropicRequest,
  type ChatRequest,
} from '../providers/openai/index.js';
import { anthropicUpstreamToChatWrapper, chatUpstreamWrapper } from './translate-sinks.js';

export type ClientFormat = 'anthropic' | 'openai-chat';

export interface ClientRequest {
  format: ClientFormat;
  /** Path and query as the client sent them. */
  url: string;
  pathname: string;
  rawHeaders: readonly string[];
  body: Buffer;
  requestedModel: string;
  requestId: string;
  userAgent: string;
}

const ANTHROPIC_VERSION = '2023-06-01';

function parseJson<T>(body: Buffer): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidRequestError(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Client headers named here travel to an Anthropic-format target of a translated request. */
function clientHeader(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function extraHeaders(spec: ProviderSpec): string[] {
  return Object.entries(spec.headers).flat();
}

/**
 * Returns the `forTarget` function sendResilient calls once per target. Translation errors (a
 * field that cannot cross) are InvalidRequestErrors thrown before anything is sent.
 *
 * @example
 * const forTarget = createTargetPlanner(registry, { format: 'anthropic', url: '/v1/messages', ... });
 * forTarget(deepseekTarget).path // '/chat/completions'
 */
export function createTargetPlanner(registry: ProviderRegistry, req: ClientRequest): (target: Target) => TargetRequest {
  let anthropicBody: AnthropicRequest | null = null;
  let chatBody: ChatRequest | null = null;
  const asAnthropic = () => (anthropicBody ??= parseJson<AnthropicRequest>(req.body));
  const asChat = () => (chatBody ??= parseJson<ChatRequest>(req.body));

  return (target) => {
    const spec = registry.get(target.name);
    if (!spec) throw new InvalidRequestError(`Provider "${target.name}" is not configured.`);
    const model = target.model ?? req.requestedModel;
    const userAgent = `sluice (${req.userAgent.slice(0, 100)})`;

    if (spec.wire === 'anthropic') {
      if (req.format === 'anthropic') {
        // Same format: the client's bytes, with only the model swapped when the target names another.
        const body = target.model && target.model !== req.requestedModel ? withModel(req.body, target.model) : req.body;
        const extra = extraHeaders(spec);
        return { path: req.url, body, rawHeaders: extra.length ? [...req.rawHeaders, ...extra] : req.rawHeaders };
      }
      const chat = asChat();
      const body = Buffer.from(JSON.stringify(chatToAnthropicRequest(chat, { model })));
      const headers = ['content-type', 'application/json', 'accept', chat.stream ? 'text/event-stream' : 'application/json', 'anthropic-version', ANTHROPIC_VERSION, 'user-agent', userAgent];
      // A passthrough caller's own Anthropic credential stays (the pool replaces it otherwise).
      for (const n of ['x-api-key', 'authorization']) {
        const v = clientHeader(req.rawHeaders, n);
        if (v !== undefined) headers.push(n, v);
      }
      return {
        path: registry.pathOf(spec, 'messages')!,
        body,
        rawHeaders: [...headers, ...extraHeaders(spec)],
        wrap: anthropicUpstreamToChatWrapper({ requestedModel: req.requestedModel, includeUsage: wantsStreamUsage(chat), requestId: req.requestId }),
      };
    }

    // OpenAI-format target.
    if (req.format === 'anthropic' && req.pathname !== '/v1/messages') {
      throw new InvalidRequestError(`${req.pathname} has no equivalent on provider "${spec.name}" (OpenAI Chat Completions format); only /v1/messages can be routed there.`);
    }
    let chat: ChatRequest;
    if (req.format === 'anthropic') {
      chat = anthropicToChatRequest(asAnthropic(), { model, ...spec.chat });
    } else {
      // Chat to chat: the client's request with the target's model; usage is always asked for on
      // a stream so the ledger can price it (the final usage chunk is part of the OpenAI format).
      chat = { ...asChat(), model };
      if (chat.stream === true) chat.stream_options = { ...(chat.stream_options ?? {}), include_usage: true };
    }
    return {
      path: registry.pathOf(spec, 'chat')!,
      body: Buffer.from(JSON.stringify(chat)),
      rawHeaders: ['content-type', 'application/json', 'accept', chat.stream ? 'text/event-stream' : 'application/json', 'user-agent', userAgent, ...extraHeaders(spec)],
      wrap: chatUpstreamWrapper({ requestedModel: req.requestedModel, targetModel: model, requestId: req.requestId, client: req.format }),
    };
  };
}
