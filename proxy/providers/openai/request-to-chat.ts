// Anthropic Messages request -> OpenAI Chat Completions request, with an explicit per-field policy
// (translate, drop silently, or reject with a 400 naming the field). Pure; imports ../../errors.js
// and this folder's mappings/types only, never express or undici.
import { InvalidRequestError } from '../../errors.js';
import { budgetToEffort, decodeReasoningSignature, stringifyToolInput } from './mappings.js';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
  ChatAssistantMessage,
  ChatContentPart,
  ChatFunctionTool,
  ChatMessage,
  ChatReasoningDetail,
  ChatReasoningEffort,
  ChatRequest,
  ChatTextPart,
  ChatToolCall,
  ChatToolChoice,
  ChatToolMessage,
} from './types.js';

export interface AnthropicToChatOptions {
  /** The upstream model id to put in the chat request (the client's model name is not sent). */
  model: string;
  /**
   * Where assistant thinking goes on the way back upstream: DeepSeek/Moonshot/vLLM read
   * `reasoning_content`, OpenRouter reads `reasoning` (+ `reasoning_details`). Default
   * 'reasoning_content'. 'none' drops thinking blocks.
   */
  reasoningField?: 'reasoning_content' | 'reasoning' | 'none';
  /** Send `reasoning_effort` derived from `thinking` / `output_config.effort`. Default false. */
  reasoningEffort?: boolean;
  /** OpenAI's own reasoning models take only `max_completion_tokens`. Default 'max_tokens'. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

/** What happens to a top-level Anthropic request field on the way to a chat upstream. */
export type FieldRule =
  | { action: 'translate' }
  | { action: 'drop'; why: string }
  | { action: 'reject'; why: string };

const T: FieldRule = { action: 'translate' };

/**
 * The policy, one entry per known field; docs/translation.md mirrors it. Unknown fields are
 * rejected: a field Sluice does not know may change behaviour, and a 400 naming it beats an
 * upstream silently ignoring it.
 */
export const ANTHROPIC_REQUEST_FIELDS: Readonly<Record<string, FieldRule>> = {
  model: T, max_tokens: T, messages: T, system: T, metadata: T, stop_sequences: T, stream: T,
  temperature: T, top_p: T, thinking: T, tools: T, tool_choice: T, output_config: T,
  top_k: { action: 'reject', why: 'Chat Completions has no top-k sampling' },
  container: { action: 'reject', why: 'code-execution containers exist only on Anthropic' },
  mcp_servers: { action: 'reject', why: "the MCP connector runs tools on Anthropic's servers" },
  inference_geo: { action: 'reject', why: 'a data-residency constraint another provider cannot honour' },
  cache_control: { action: 'drop', why: 'a caching hint; chat upstreams cache automatically or not at all' },
  context_management: { action: 'drop', why: 'server-side context editing only trims history; the upstream gets it all' },
  service_tier: { action: 'drop', why: "Anthropic capacity tiers mean nothing to another provider" },
  speed: { action: 'drop', why: 'an Anthropic serving mode' },
  diagnostics: { action: 'drop', why: 'Anthropic-side diagnostics' },
  user_profile_id: { action: 'drop', why: 'Anthropic account routing' },
  workspace_id: { action: 'drop', why: 'Anthropic account routing' },
};

function reject(field: string, why: string): never {
  throw new InvalidRequestError(
    `${field} cannot be translated for an OpenAI-compatible upstream (${why}). Remove it, or route this model to an Anthropic upstream.`,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeOf(block: unknown): string {
  return isObject(block) && typeof block.type === 'string' ? block.type : typeof block;
}

function imagePart(block: AnthropicImageBlock, where: string): ChatContentPart {
  const src = block.source;
  if (src?.type === 'base64') return { type: 'image_url', image_url: { url: `data:${src.media_type};base64,${src.data}` } };
  if (src?.type === 'url') return { type: 'image_url', image_url: { url: src.url } };
  return reject(`${where}.source.type "${String((src as { type?: unknown } | undefined)?.type)}"`, 'Files API references resolve only on Anthropic');
}

/** Tool-result content -> text for the `role: tool` message plus images that must travel in a user message. */
function toolResultContent(block: AnthropicToolResultBlock, where: string): { text: string; images: ChatContentPart[] } {
  const images: ChatContentPart[] = [];
  let text: string;
  if (block.content === undefined || typeof block.content === 'string') {
    text = block.content ?? '';
  } else if (Array.isArray(block.content)) {
    const pieces: string[] = [];
    block.content.forEach((inner, j) => {
      const at = `${where}.content[${j}]`;
      if (inner.type === 'text') pieces.push(inner.text);
      else if (inner.type === 'image') {
        images.push(imagePart(inner, at));
        pieces.push('[image attached in the next user message]');
      } else reject(`${at} of type "${typeOf(inner)}"`, 'a tool message carries only text and images');
    });
    text = pieces.join('\n\n');
  } else {
    return reject(`${where}.content`, 'must be a string or an array of blocks');
  }
  // Chat tool messages have no error flag; the model still needs to know the call failed.
  if (block.is_error === true) text = text === '' ? 'Error' : `Error: ${text}`;
  return { text, images };
}

function userMessages(msg: AnthropicMessageParam, i: number): ChatMessage[] {
  if (typeof msg.content === 'string') return [{ role: 'user', content: msg.content }];
  const tools: ChatToolMessage[] = [];
  const toolImages: ChatContentPart[] = [];
  const parts: ChatContentPart[] = [];
  msg.content.forEach((block: AnthropicContentBlock, j) => {
    const where = `messages[${i}].content[${j}]`;
    switch (block.type) {
      case 'text': parts.push({ type: 'text', text: block.text }); break;
      case 'image': parts.push(imagePart(block, where)); break;
      case 'tool_result': {
        const { text, images } = toolResultContent(block, where);
        tools.push({ role: 'tool', tool_call_id: block.tool_use_id, content: text });
        if (images.length > 0) toolImages.push({ type: 'text', text: `[images returned by tool call ${block.tool_use_id}]` }, ...images);
        break;
      }
      case 'document': reject(`${where} (document block)`, 'PDF and document inputs have no portable Chat Completions form');
      default: reject(`${where} of type "${typeOf(block)}"`, 'not a user content type Chat Completions knows');
    }
  });
  // Tool messages must directly follow the assistant's tool_calls; the turn's own text and any
  // images from tool results come after them in one user message.
  const out: ChatMessage[] = [...tools];
  const rest = [...toolImages, ...parts];
  if (rest.length > 0) out.push({ role: 'user', content: rest });
  return out;
}

function assistantMessage(msg: AnthropicMessageParam, i: number, field: AnthropicToChatOptions['reasoningField']): ChatAssistantMessage {
  if (typeof msg.content === 'string') return { role: 'assistant', content: msg.content };
  const texts: string[] = [];
  const thoughts: string[] = [];
  const details: ChatReasoningDetail[] = [];
  const calls: ChatToolCall[] = [];
  msg.content.forEach((block: AnthropicContentBlock, j) => {
    const where = `messages[${i}].content[${j}]`;
    switch (block.type) {
      case 'text': texts.push(block.text); break;
      case 'thinking':
        if (block.thinking !== '') thoughts.push(block.thinking);
        details.push(...decodeReasoningSignature(block.signature));
        break;
      // Encrypted Anthropic reasoning is meaningless to any other model.
      case 'redacted_thinking': break;
      case 'tool_use':
        calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: stringifyToolInput(block.input) } });
        break;
      default: reject(`${where} of type "${typeOf(block)}"`, 'not an assistant content type Chat Completions knows');
    }
  });
  const out: ChatAssistantMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (calls.length > 0) out.tool_calls = calls;
  const reasoning = thoughts.join('\n\n');
  if (field === 'reasoning_content') {
    // DeepSeek's thinking mode answers 400 when an assistant turn with tool calls lacks the
    // field (the claude-code-router bug); an empty string satisfies it when no thinking survived.
    if (reasoning !== '' || calls.length > 0) out.reasoning_content = reasoning;
  } else if (field === 'reasoning') {
    if (reasoning !== '') out.reasoning = reasoning;
    if (details.length > 0) out.reasoning_details = details;
  }
  return out;
}

function convertTool(tool: AnthropicTool, k: number): ChatFunctionTool {
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    reject(`tools[${k}] of type "${tool.type}"`, 'Anthropic-defined and server tools run only on Anthropic');
  }
  const fn: ChatFunctionTool['function'] = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  fn.parameters = tool.input_schema ?? { type: 'object', properties: {} };
  if (tool.strict !== undefined) fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function convertToolChoice(choice: AnthropicToolChoice): ChatToolChoice {
  switch (choice.type) {
    case 'auto': return 'auto';
    case 'any': return 'required';
    case 'none': return 'none';
    case 'tool': return { type: 'function', function: { name: choice.name } };
    default: return reject(`tool_choice.type "${typeOf(choice)}"`, 'unknown tool_choice');
  }
}

function reasoningEffortFor(req: AnthropicRequest): ChatReasoningEffort | undefined {
  const thinking = req.thinking;
  if (thinking?.type === 'enabled') return budgetToEffort(thinking.budget_tokens);
  if (thinking?.type === 'disabled') return undefined;
  return req.output_config?.effort ?? undefined;
}

/**
 * Translates a Messages request for an OpenAI-compatible upstream. Throws InvalidRequestError
 * naming the first field that cannot cross (see ANTHROPIC_REQUEST_FIELDS and docs/translation.md).
 *
 * @example
 * anthropicToChatRequest({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
 *   { model: 'deepseek-chat' })
 * // => { model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 }
 */
export function anthropicToChatRequest(req: AnthropicRequest, opts: AnthropicToChatOptions): ChatRequest {
  if (!isObject(req)) throw new InvalidRequestError('The request body must be a JSON object.');
  for (const key of Object.keys(req)) {
    const rule = ANTHROPIC_REQUEST_FIELDS[key];
    if (rule === undefined) reject(key, 'Sluice has no translation for this field');
    if (rule.action === 'reject' && req[key] !== undefined && req[key] !== null) reject(key, rule.why);
  }
  if (!Array.isArray(req.messages)) throw new InvalidRequestError('messages: must be an array.');
  if (typeof req.max_tokens !== 'number') throw new InvalidRequestError('max_tokens: a number is required.');
  const field = opts.reasoningField ?? 'reasoning_content';

  const messages: ChatMessage[] = [];
  if (typeof req.system === 'string') {
    if (req.system !== '') messages.push({ role: 'system', content: req.system });
  } else if (Array.isArray(req.system)) {
    // One string (blocks joined) rather than parts: several OpenAI-compatible servers reject
    // array content on system messages; cache_control markers on the blocks are hints and go.
    const text = req.system.map((b, k) => (b?.type === 'text' ? b.text : reject(`system[${k}] of type "${typeOf(b)}"`, 'system takes text only'))).join('\n\n');
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  req.messages.forEach((msg, i) => {
    if (msg?.role === 'user') messages.push(...userMessages(msg, i));
    else if (msg?.role === 'assistant') messages.push(assistantMessage(msg, i, field));
    else if (msg?.role === 'system') {
      // A system turn mid-conversation stays where it is: chat formats take system messages anywhere.
      const text = typeof msg.content === 'string' ? msg.content : msg.content.map((b, k) => (b?.type === 'text' ? b.text : reject(`messages[${i}].content[${k}] of type "${typeOf(b)}"`, 'system turns take text only'))).join('\n\n');
      if (text !== '') messages.push({ role: 'system', content: text });
    }
    else reject(`messages[${i}].role "${String((msg as { role?: unknown } | undefined)?.role)}"`, 'Messages has user, assistant and system turns only');
  });

  const out: ChatRequest = { model: opts.model, messages };
  out[opts.maxTokensField ?? 'max_tokens'] = req.max_tokens;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop_sequences !== undefined && req.stop_sequences.length > 0) out.stop = [...req.stop_sequences];
  if (req.stream === true) {
    out.stream = true;
    // Without this the upstream never reports usage on a stream and the ledger records zero.
    out.stream_options = { include_usage: true };
  }
  if (req.tools !== undefined && req.tools.length > 0) out.tools = req.tools.map(convertTool);
  if (req.tool_choice !== undefined) {
    out.tool_choice = convertToolChoice(req.tool_choice);
    if ('disable_parallel_tool_use' in req.tool_choice && req.tool_choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  if (opts.reasoningEffort === true) {
    const effort = reasoningEffortFor(req);
    if (effort !== undefined) out.reasoning_effort = effort;
  }
  const format = req.output_config?.format;
  if (format) {
    if (format.type !== 'json_schema') reject(`output_config.format.type "${typeOf(format)}"`, 'only json_schema has a Chat Completions form');
    out.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: format.schema, strict: true } };
  }
  const userId = req.metadata?.user_id;
  if (typeof userId === 'string' && userId !== '') out.user = userId;
  return out;
}
