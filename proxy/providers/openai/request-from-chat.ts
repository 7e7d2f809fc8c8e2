// OpenAI Chat Completions request -> Anthropic Messages request, for Sluice's /v1/chat/completions
// surface, with an explicit per-field policy. Pure; imports ../../errors.js and this folder only.
import { InvalidRequestError } from '../../errors.js';
import { EFFORT_BUDGETS, effortToAnthropicEffort, parseToolArguments } from './mappings.js';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatToolChoice,
} from './types.js';

export interface ChatToAnthropicOptions {
  /** Upstream model id; defaults to the request's `model`. */
  model?: string;
  /** max_tokens when the client sends neither max_tokens nor max_completion_tokens. Default 8192. */
  defaultMaxTokens?: number;
  /**
   * How reasoning_effort becomes thinking: 'budget' -> `thinking: {type:'enabled', budget_tokens}`
   * (every thinking-capable Claude model), 'adaptive' -> `thinking: {type:'adaptive'}` plus
   * `output_config.effort` (newer models). Default 'budget'.
   */
  thinkingStyle?: 'budget' | 'adaptive';
}

/** Anthropic requires max_tokens; 8192 fits every current Claude model's output cap. */
export const DEFAULT_MAX_TOKENS = 8192;

/** What happens to a top-level chat request field. A `neutral` value of a rejected field passes. */
export type ChatFieldRule =
  | { action: 'translate' }
  | { action: 'drop'; why: string }
  | { action: 'reject'; why: string; neutral?: (v: unknown) => boolean };

const T: ChatFieldRule = { action: 'translate' };
const isZero = (v: unknown): boolean => v === 0;
const isFalse = (v: unknown): boolean => v === false;
const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length === 0;
const isTextOnly = (v: unknown): boolean => Array.isArray(v) && v.every((m) => m === 'text');

/** The policy; docs/translation.md mirrors it. Unknown fields are rejected with their name. */
export const CHAT_REQUEST_FIELDS: Readonly<Record<string, ChatFieldRule>> = {
  model: T, messages: T, max_tokens: T, max_completion_tokens: T, temperature: T, top_p: T, n: T,
  stop: T, stream: T, stream_options: T, tools: T, tool_choice: T, parallel_tool_calls: T,
  reasoning_effort: T, response_format: T, user: T, safety_identifier: T,
  metadata: { action: 'drop', why: 'stored-completion tags; nothing is stored' },
  store: { action: 'drop', why: 'Anthropic does not store completions for distillation' },
  seed: { action: 'drop', why: 'best-effort determinism only; Claude has no seed' },
  service_tier: { action: 'drop', why: 'OpenAI capacity tiers' },
  prompt_cache_key: { action: 'drop', why: 'a caching hint' },
  prompt_cache_retention: { action: 'drop', why: 'a caching hint' },
  prompt_cache_options: { action: 'drop', why: 'a caching hint' },
  prediction: { action: 'drop', why: 'a latency optimisation that does not change the output' },
  verbosity: { action: 'drop', why: 'a style hint' },
  frequency_penalty: { action: 'reject', why: 'Claude has no frequency penalty', neutral: isZero },
  presence_penalty: { action: 'reject', why: 'Claude has no presence penalty', neutral: isZero },
  logprobs: { action: 'reject', why: 'Claude returns no log probabilities', neutral: isFalse },
  top_logprobs: { action: 'reject', why: 'Claude returns no log probabilities', neutral: isZero },
  logit_bias: { action: 'reject', why: 'Claude has no logit bias', neutral: isEmptyObject },
  modalities: { action: 'reject', why: 'Claude produces text only', neutral: isTextOnly },
  audio: { action: 'reject', why: 'Claude produces text only' },
  web_search_options: { action: 'reject', why: "OpenAI's built-in web search" },
  functions: { action: 'reject', why: 'the deprecated functions API; send tools instead' },
  function_call: { action: 'reject', why: 'the deprecated functions API; send tool_choice instead' },
  moderation: { action: 'reject', why: "OpenAI's moderation settings" },
};

function reject(field: string, why: string): never {
  throw new InvalidRequestError(`${field} cannot be translated for an Anthropic upstream (${why}).`);
}

function typeOf(v: unknown): string {
  return v !== null && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string' ? (v as { type: string }).type : typeof v;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(url: string, where: string): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const m = DATA_URL.exec(url);
    if (!m) reject(`${where}.image_url.url`, 'only base64 data URLs can become image blocks');
    return { type: 'image', source: { type: 'base64', media_type: m[1]!, data: m[2]! } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  return reject(`${where}.image_url.url`, 'an image must be a data: or http(s) URL');
}

function userBlocks(content: string | ChatContentPart[], where: string): string | AnthropicContentBlock[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return reject(`${where}.content`, 'must be a string or an array of parts');
  return content.map((part, j): AnthropicContentBlock => {
    const at = `${where}.content[${j}]`;
    switch (part.type) {
      case 'text': return { type: 'text', text: part.text };
      case 'image_url': return imageBlock(part.image_url?.url ?? '', at);
      case 'file': {
        const m = DATA_URL.exec(part.file?.file_data ?? '');
        if (!m || m[1] !== 'application/pdf') return reject(`${at} (file)`, 'only inline base64 PDF file_data has an Anthropic form');
        const doc: AnthropicContentBlock = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: m[2]! } };
        if (part.file.filename) doc.title = part.file.filename;
        return doc;
      }
      default: return reject(`${at} of type "${typeOf(part)}"`, 'not a content part Claude accepts');
    }
  });
}

function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p, j) => {
      if (p?.type === 'text') return String(p.text);
      if (p?.type === 'refusal') return String(p.refusal);
      return reject(`${where}.content[${j}] of type "${typeOf(p)}"`, 'only text parts are allowed here');
    }).join('');
  }
  if (content === null || content === undefined) return '';
  return reject(`${where}.content`, 'must be a string or an array of parts');
}

function convertToolChoice(choice: ChatToolChoice): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (typeof choice === 'object' && choice !== null && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'tool', name: choice.function.name };
  }
  return reject(`tool_choice ${JSON.stringify(typeOf(choice))}`, 'only auto, required, none and a named function translate');
}

/**
 * Translates a chat request for an Anthropic upstream. Throws InvalidRequestError naming the first
 * field that cannot cross (see CHAT_REQUEST_FIELDS and docs/translation.md).
 *
 * @example
 * chatToAnthropicRequest({ model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] })
 * // => { model: 'claude-sonnet-4-5', max_tokens: 8192, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] }
 */
export function chatToAnthropicRequest(req: ChatRequest, opts: ChatToAnthropicOptions = {}): AnthropicRequest {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new InvalidRequestError('The request body must be a JSON object.');
  for (const key of Object.keys(req)) {
    const rule = CHAT_REQUEST_FIELDS[key];
    if (rule === undefined) reject(key, 'Sluice has no translation for this field');
    const v = req[key];
    if (rule.action === 'reject' && v !== undefined && v !== null && !(rule.neutral?.(v) ?? false)) reject(key, rule.why);
  }
  if (!Array.isArray(req.messages)) throw new InvalidRequestError('messages: must be an array.');
  if (req.n !== undefined && req.n !== null && req.n !== 1) reject(`n=${String(req.n)}`, 'Claude returns exactly one choice; send n=1 or omit it');

  const system: string[] = [];
  const turns: AnthropicMessageParam[] = [];
  const push = (role: 'user' | 'assistant', content: string | AnthropicContentBlock[]): void => {
    const last = turns[turns.length - 1];
    // Anthropic alternates roles; consecutive same-role turns (tool results, then the user's
    // text) become one turn, which is also what the API itself would do with them.
    if (last && last.role === role) {
      const asBlocks = (c: string | AnthropicContentBlock[]): AnthropicContentBlock[] => (typeof c === 'string' ? [{ type: 'text', text: c }] : c);
      last.content = [...asBlocks(last.content), ...asBlocks(content)];
    } else {
      turns.push({ role, content });
    }
  };

  req.messages.forEach((msg: ChatMessage, i) => {
    const where = `messages[${i}]`;
    switch (msg?.role) {
      case 'system':
      case 'developer': {
        // Anthropic has one top-level system prompt; system messages anywhere are hoisted there.
        const text = textOf(msg.content, where);
        if (text !== '') system.push(text);
        break;
      }
      case 'user': push('user', userBlocks(msg.content, where)); break;
      case 'assistant': {
        const blocks: AnthropicContentBlock[] = [];
        const text = textOf(msg.content, where) || (typeof msg.refusal === 'string' ? msg.refusal : '');
        // Anthropic rejects empty text blocks; reasoning_content is dropped because a thinking
        // block without Anthropic's signature is rejected too.
        if (text !== '') blocks.push({ type: 'text', text });
        for (const call of Array.isArray(msg.tool_calls) ? msg.tool_calls : []) {
          if (call?.type !== undefined && call.type !== 'function') reject(`${where}.tool_calls type "${String(call.type)}"`, 'only function tool calls translate');
          blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseToolArguments(call.function.arguments) });
        }
        // A text-only turn stays a string, as a Messages client would have written it.
        if (blocks.length === 1 && blocks[0]!.type === 'text' && (msg.tool_calls ?? []).length === 0) push('assistant', text);
        else if (blocks.length > 0) push('assistant', blocks);
        break;
      }
      case 'tool': {
        const content = typeof msg.content === 'string' ? msg.content : textOf(msg.content, where);
        push('user', [{ type: 'tool_result', tool_use_id: msg.tool_call_id, content }]);
        break;
      }
      default: reject(`${where}.role "${String((msg as { role?: unknown } | undefined)?.role)}"`, 'only system, developer, user, assistant and tool messages translate');
    }
  });

  const explicitMax = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  const out: AnthropicRequest = { model: opts.model ?? req.model, max_tokens: explicitMax ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS, messages: turns };
  if (system.length === 1) out.system = system[0]!;
  else if (system.length > 1) out.system = system.map((text): AnthropicTextBlock => ({ type: 'text', text }));

  const stop = req.stop;
  if (typeof stop === 'string') out.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) out.stop_sequences = [...stop];
  if (req.stream === true) out.stream = true;

  if (Array.isArray(req.tools) && req.tools.length > 0) {
    out.tools = req.tools.map((tool, k): AnthropicTool => {
      if (tool?.type !== 'function') reject(`tools[${k}] of type "${typeOf(tool)}"`, 'only function tools translate');
      const t: AnthropicTool = { name: tool.function.name };
      if (tool.function.description !== undefined) t.description = tool.function.description;
      t.input_schema = tool.function.parameters ?? { type: 'object', properties: {} };
      if (typeof tool.function.strict === 'boolean') t.strict = tool.function.strict;
      return t;
    });
    let choice = req.tool_choice !== undefined ? convertToolChoice(req.tool_choice) : undefined;
    if (req.parallel_tool_calls === false && choice?.type !== 'none') choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
    if (choice) out.tool_choice = choice;
  }

  const effort = req.reasoning_effort;
  let thinking = effort !== undefined && effort !== null && effort !== 'none';
  // With thinking on, Anthropic requires the last assistant turn of an open tool loop to start
  // with a signed thinking block, which chat history cannot carry: such requests run without it.
  if (thinking && endsInToolLoop(turns)) thinking = false;
  if (thinking && effort && effort !== 'none') {
    if (opts.thinkingStyle === 'adaptive') {
      out.thinking = { type: 'adaptive' };
      out.output_config = { effort: effortToAnthropicEffort(effort) };
    } else {
      let budget = EFFORT_BUDGETS[effort];
      if (explicitMax === undefined) out.max_tokens = budget + (opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS);
      else budget = Math.min(budget, explicitMax - 1);
      // Anthropic's minimum budget; OpenAI counts reasoning inside max_completion_tokens too.
      if (budget < 1024) reject(`reasoning_effort with max_tokens=${explicitMax}`, 'thinking needs max_tokens above 1024');
      out.thinking = { type: 'enabled', budget_tokens: budget };
    }
  }

  // Temperature: OpenAI allows 0..2, Anthropic 0..1, so values above 1 are clamped to 1. With
  // thinking on, Anthropic accepts no temperature and top_p only within 0.95..1.
  if (typeof req.temperature === 'number' && !thinking) out.temperature = Math.min(Math.max(req.temperature, 0), 1);
  if (typeof req.top_p === 'number') out.top_p = thinking ? Math.max(req.top_p, 0.95) : req.top_p;

  const format = req.response_format;
  if (format && format.type !== 'text') {
    if (format.type === 'json_schema' && format.json_schema?.schema) {
      out.output_config = { ...(out.output_config ?? {}), format: { type: 'json_schema', schema: format.json_schema.schema } };
    } else {
      reject(`response_format "${typeOf(format)}"`, 'Claude enforces JSON only against a schema; send response_format json_schema');
    }
  }

  const user = typeof req.user === 'string' && req.user !== '' ? req.user : req.safety_identifier;
  if (typeof user === 'string' && user !== '') out.metadata = { user_id: user };
  return out;
}

/** True when the conversation ends with tool results answering an assistant tool_use turn. */
function endsInToolLoop(turns: AnthropicMessageParam[]): boolean {
  const last = turns[turns.length - 1];
  const prev = turns[turns.length - 2];
  if (!last || !prev || last.role !== 'user' || prev.role !== 'assistant') return false;
  const hasResult = Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_result');
  const hasUse = Array.isArray(prev.content) && prev.content.some((b) => b.type === 'tool_use');
  return hasResult && hasUse;
}

/** Whether a streaming chat client asked for the final usage chunk (stream_options.include_usage). */
export function wantsStreamUsage(req: Pick<ChatRequest, 'stream_options'>): boolean {
  return req.stream_options?.include_usage === true;
}
