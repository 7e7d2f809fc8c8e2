// Small value mappings shared by every translator in this folder: stop/finish reasons, usage,
// reasoning effort <-> thinking budget, ids, tool arguments, the synthetic thinking signature.
// Pure functions on plain data; imports only ./types.js.
import type {
  AnthropicEffort,
  AnthropicStopReason,
  AnthropicUsage,
  ChatFinishReason,
  ChatReasoningDetail,
  ChatReasoningEffort,
  ChatUsage,
  JsonObject,
} from './types.js';

// --- stop / finish reasons -------------------------------------------------------------------

/**
 * OpenAI finish_reason -> Anthropic stop_reason. Some OpenAI-compatible servers report `stop`
 * although the message carries tool calls; Claude Code only runs tools on `tool_use`, so tool
 * calls win. `stop` never maps to `stop_sequence`: OpenAI does not say which stop string hit.
 */
export function finishReasonToStopReason(reason: string | null | undefined, hasToolCalls: boolean): AnthropicStopReason {
  if (hasToolCalls) return 'tool_use';
  switch (reason) {
    case 'length': return 'max_tokens';
    case 'tool_calls':
    case 'function_call': return 'tool_use';
    case 'content_filter': return 'refusal';
    default: return 'end_turn';
  }
}

/** Anthropic stop_reason -> OpenAI finish_reason (PROTOCOL.md's table, plus the rarer reasons). */
export function stopReasonToFinishReason(reason: string | null | undefined): ChatFinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded': return 'length';
    case 'tool_use': return 'tool_calls';
    case 'refusal': return 'content_filter';
    default: return 'stop';
  }
}

// --- usage -----------------------------------------------------------------------------------

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * OpenAI usage -> Anthropic usage. OpenAI's prompt_tokens includes cached tokens, Anthropic's
 * input_tokens excludes them (total input = input + cache_creation + cache_read), so cached
 * reads (prompt_tokens_details.cached_tokens, or DeepSeek's prompt_cache_hit_tokens) and cache
 * writes (prompt_tokens_details.cache_write_tokens) are subtracted.
 */
export function chatUsageToAnthropic(u: ChatUsage | null | undefined): AnthropicUsage {
  const cacheRead = count(u?.prompt_tokens_details?.cached_tokens ?? u?.prompt_cache_hit_tokens);
  const cacheWrite = count(u?.prompt_tokens_details?.cache_write_tokens);
  const usage: AnthropicUsage = {
    input_tokens: Math.max(0, count(u?.prompt_tokens) - cacheRead - cacheWrite),
    output_tokens: count(u?.completion_tokens),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
  const reasoning = u?.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') usage.output_tokens_details = { thinking_tokens: reasoning };
  return usage;
}

/** Anthropic usage -> OpenAI usage: prompt_tokens = input + cache_creation + cache_read. */
export function anthropicUsageToChat(u: Partial<AnthropicUsage> | null | undefined): ChatUsage {
  const input = count(u?.input_tokens);
  const cacheWrite = count(u?.cache_creation_input_tokens);
  const cacheRead = count(u?.cache_read_input_tokens);
  const output = count(u?.output_tokens);
  const prompt = input + cacheWrite + cacheRead;
  const usage: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: cacheWrite > 0 ? { cached_tokens: cacheRead, cache_write_tokens: cacheWrite } : { cached_tokens: cacheRead },
  };
  const thinking = u?.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') usage.completion_tokens_details = { reasoning_tokens: thinking };
  return usage;
}

// --- reasoning effort <-> thinking budget ----------------------------------------------------

/**
 * Thinking budget -> reasoning_effort. Boundaries sit between Claude Code's own budgets
 * ("think" 4,000, "think hard" 10,000, "ultrathink" 31,999) so each lands on its own level.
 */
export function budgetToEffort(budget: number): 'low' | 'medium' | 'high' {
  if (budget < 8192) return 'low';
  if (budget < 24576) return 'medium';
  return 'high';
}

/**
 * reasoning_effort -> thinking budget. Each budget maps back to the same effort through
 * budgetToEffort. xhigh and max share the largest budget that still leaves 8,192 tokens of
 * answer under the 64k output cap of current Claude models.
 */
export const EFFORT_BUDGETS: Readonly<Record<Exclude<ChatReasoningEffort, 'none'>, number>> = {
  minimal: 1024,
  low: 4096,
  medium: 12288,
  high: 32768,
  xhigh: 49152,
  max: 49152,
};

/** reasoning_effort -> Anthropic output_config.effort (adaptive thinking has no `minimal`). */
export function effortToAnthropicEffort(effort: Exclude<ChatReasoningEffort, 'none'>): AnthropicEffort {
  return effort === 'minimal' ? 'low' : effort;
}

// --- ids -------------------------------------------------------------------------------------

/** `chatcmpl-abc` -> `msg_abc`; the id stays recognisable in logs on both sides. */
export function chatIdToMessageId(id: string | null | undefined, fallback: string): string {
  const bare = typeof id === 'string' && id.length > 0 ? id.replace(/^chatcmpl-/, '') : fallback;
  return bare.startsWith('msg_') ? bare : `msg_${bare}`;
}

/** `msg_abc` -> `chatcmpl-abc`. */
export function messageIdToChatId(id: string | null | undefined, fallback: string): string {
  const bare = typeof id === 'string' && id.length > 0 ? id.replace(/^msg_/, '') : fallback;
  return bare.startsWith('chatcmpl-') ? bare : `chatcmpl-${bare}`;
}

// --- tool arguments --------------------------------------------------------------------------

/**
 * Where arguments that are not a JSON object survive: Anthropic's tool_use.input must be an
 * object, OpenAI's arguments is any string. Invalid JSON from a model is kept verbatim under
 * this key so the client's schema check reports it to the model, and the string goes back
 * upstream unchanged on the next turn (see stringifyToolInput).
 */
export const RAW_ARGUMENTS_KEY = '__raw_arguments';

export function parseToolArguments(raw: string | null | undefined): JsonObject {
  const text = raw ?? '';
  // An empty string is what models send for a tool without parameters.
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch {
    // fall through: keep the raw string
  }
  return { [RAW_ARGUMENTS_KEY]: text };
}

export function stringifyToolInput(input: unknown): string {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const keys = Object.keys(input);
    const raw = (input as JsonObject)[RAW_ARGUMENTS_KEY];
    if (keys.length === 1 && typeof raw === 'string') return raw;
  }
  return JSON.stringify(input ?? {});
}

// --- synthetic thinking signature ------------------------------------------------------------

/**
 * Thinking blocks made from an OpenAI-compatible reply carry this signature. Claude Code sends
 * thinking blocks back verbatim, so the signature is the one place to keep what the reasoning
 * text alone loses: OpenRouter's `reasoning_details` (encrypted reasoning some models need back).
 * The prefix also tells the reverse direction the block is ours. Anthropic itself rejects it.
 */
export const SIGNATURE_PREFIX = 'sluice-reasoning-v1';

export function encodeReasoningSignature(details: ChatReasoningDetail[] | undefined): string {
  if (!details || details.length === 0) return SIGNATURE_PREFIX;
  return `${SIGNATURE_PREFIX}.${Buffer.from(JSON.stringify(details), 'utf8').toString('base64url')}`;
}

/** Details carried by one of our signatures; [] for a foreign or detail-less signature. */
export function decodeReasoningSignature(signature: string | null | undefined): ChatReasoningDetail[] {
  if (typeof signature !== 'string' || !signature.startsWith(`${SIGNATURE_PREFIX}.`)) return [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(signature.slice(SIGNATURE_PREFIX.length + 1), 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? parsed.filter((d): d is ChatReasoningDetail => d !== null && typeof d === 'object' && typeof d.type === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Streamed reasoning_details arrive as fragments; consecutive fragments of one entry (same type
 * and index) are joined by concatenating their text fields, later scalar fields winning (the
 * signature of a reasoning.text entry comes with its last fragment).
 */
export function mergeReasoningDetails(into: ChatReasoningDetail[], fragments: readonly ChatReasoningDetail[]): void {
  for (const frag of fragments) {
    if (frag === null || typeof frag !== 'object' || typeof frag.type !== 'string') continue;
    const last = into[into.length - 1];
    if (last && last.type === frag.type && last.index === frag.index) {
      for (const [k, v] of Object.entries(frag)) {
        if ((k === 'text' || k === 'summary' || k === 'data') && typeof v === 'string') {
          last[k] = (typeof last[k] === 'string' ? last[k] : '') + v;
        } else if (v !== null && v !== undefined) {
          last[k] = v;
        }
      }
    } else {
      into.push({ ...frag });
    }
  }
}
