// Translation overhead, in process: µs per request for each request/response translation over a
// Claude-Code-sized body, and µs per streamed chunk through the same response translators the
// gateway puts in front of the client (SSE parsing, re-encoding, the meter's copy), next to the
// pass-through per-chunk work (the usage tap alone). Imports proxy/ only.
// Usage: node --import tsx bench/translate.bench.ts [--quick] [--write-results]
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import {
  anthropicToChatRequest, anthropicToChatResponse, chatResponseToAnthropic, chatToAnthropicRequest,
  type AnthropicMessage, type AnthropicRequest, type ChatCompletion, type ChatRequest,
} from '../proxy/providers/openai/index.js';
import { anthropicUpstreamToChatWrapper, chatUpstreamWrapper } from '../proxy/routing/translate-sinks.js';
import { createUsageTap } from '../proxy/meter/usage-tap.js';
import type { ResponseSink } from '../proxy/pipeline/forward.js';
import { replaceSection } from './lib/report.js';

const quick = process.argv.includes('--quick');
const minMs = quick ? 200 : 1000;
const RESULTS = join(fileURLToPath(new URL('.', import.meta.url)), 'RESULTS.md');

/** µs per call: the best of three timed windows (after a warm-up), so a GC pause or a busy neighbour does not decide. */
function timeIt(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  let best = Infinity;
  for (let w = 0; w < 3; w++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < minMs / 3) { fn(); n++; }
    best = Math.min(best, ((performance.now() - t0) / n) * 1000);
  }
  return best;
}

// --- Bodies shaped like Claude Code's (2.1.197: ~80 KB, 25 tools, system blocks, a tool loop) ---
const words = 'the quick brown fox jumps over the lazy dog; const x = await fetch(url); ';
const text = (n: number) => words.repeat(Math.ceil(n / words.length)).slice(0, n);
const tools = Array.from({ length: 25 }, (_, i) => ({
  name: `Tool${i}`, description: text(1500),
  input_schema: { type: 'object', properties: { path: { type: 'string', description: text(200) }, limit: { type: 'number' } }, required: ['path'] },
}));
const anthropicReq: AnthropicRequest = {
  model: 'claude-opus-4-8', max_tokens: 32000, stream: true,
  system: [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.197' }, { type: 'text', text: text(12_000), cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: text(2000) }, { type: 'text', text: 'Fix the failing test.' }] },
    { role: 'assistant', content: [{ type: 'thinking', thinking: text(800), signature: 'sluice-reasoning-v1' }, { type: 'text', text: 'Reading the test.' }, { type: 'tool_use', id: 'toolu_1', name: 'Tool3', input: { path: 'test/a.test.ts' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: text(6000) }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Found it.' }, { type: 'tool_use', id: 'toolu_2', name: 'Tool5', input: { path: 'src/a.ts', limit: 40 } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: text(4000) }] },
  ],
  tools: tools as AnthropicRequest['tools'],
  metadata: { user_id: '{"device_id":"ab","account_uuid":"","session_id":"s"}' },
  thinking: { type: 'adaptive' }, context_management: { edits: [] }, output_config: { effort: 'high' },
} as AnthropicRequest;
const anthropicBytes = Buffer.from(JSON.stringify(anthropicReq));
const chatReq = anthropicToChatRequest(anthropicReq, { model: 'deepseek-chat' });
const chatBytes = Buffer.from(JSON.stringify({ ...chatReq, messages: chatReq.messages.map((m) => ('reasoning_content' in m ? { ...m, reasoning_content: undefined } : m)) }));

const completion: ChatCompletion = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'deepseek-chat',
  choices: [{ index: 0, message: { role: 'assistant', content: text(3000), reasoning_content: text(1500), tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Tool3', arguments: '{"path":"src/b.ts"}' } }] }, finish_reason: 'tool_calls' }],
  usage: { prompt_tokens: 20000, completion_tokens: 900, total_tokens: 20900, prompt_tokens_details: { cached_tokens: 18000 } },
};
const completionBytes = Buffer.from(JSON.stringify(completion));
const message: AnthropicMessage = {
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6',
  content: [{ type: 'thinking', thinking: text(1500), signature: 'sig' }, { type: 'text', text: text(3000) }, { type: 'tool_use', id: 'toolu_9', name: 'Tool3', input: { path: 'src/b.ts' } }],
  stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 2000, output_tokens: 900, cache_read_input_tokens: 18000, cache_creation_input_tokens: 0 },
};
const messageBytes = Buffer.from(JSON.stringify(message));

// --- Streams: 400 content chunks of ~12 characters, as providers send them ---
const CHUNKS = 400;
const chatStream: Buffer[] = [];
{
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'deepseek-chat' };
  const c = (o: unknown) => Buffer.from(`data: ${JSON.stringify(o)}\n\n`);
  chatStream.push(c({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }));
  for (let i = 0; i < CHUNKS; i++) chatStream.push(c({ ...base, choices: [{ index: 0, delta: i < 100 ? { reasoning_content: 'thinking abc ' } : { content: 'hello world ' }, finish_reason: null }], usage: null }));
  chatStream.push(c({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }));
  chatStream.push(c({ ...base, choices: [], usage: { prompt_tokens: 100, completion_tokens: 400, total_tokens: 500 } }));
  chatStream.push(Buffer.from('data: [DONE]\n\n'));
}
const anthropicStream: Buffer[] = [];
{
  const e = (type: string, o: unknown) => Buffer.from(`event: ${type}\ndata: ${JSON.stringify(o)}\n\n`);
  anthropicStream.push(e('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 2000 } } }));
  anthropicStream.push(e('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
  for (let i = 0; i < CHUNKS; i++) anthropicStream.push(e('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello world ' } }));
  anthropicStream.push(e('content_block_stop', { type: 'content_block_stop', index: 0 }));
  anthropicStream.push(e('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 400 } }));
  anthropicStream.push(e('message_stop', { type: 'message_stop' }));
}

const nullSink: ResponseSink = { start() {}, write: () => true, onDrain() {}, end() {}, fail() {} };

function runUsageTap(stream: Buffer[]): void {
  const tap = createUsageTap({ status: 200, contentType: 'text/event-stream' });
  for (const b of stream) tap.write(b);
  void tap.end();
}

function runChatToAnthropic(): void {
  // As wired: translation for the client plus the meter's usage tap over the Anthropic copy.
  const tap = createUsageTap({ status: 200, contentType: 'text/event-stream' });
  const { sink } = chatUpstreamWrapper({ requestedModel: 'claude-opus-4-8', targetModel: 'deepseek-chat', requestId: 'sluice_b', client: 'anthropic' })(nullSink, { onChunk: (b) => tap.write(b) });
  sink.start(200, { 'content-type': 'text/event-stream' });
  for (const b of chatStream) sink.write(b);
  sink.end();
  void tap.end();
}

function runAnthropicToChat(): void {
  // The meter taps the upstream (Anthropic) bytes; the client gets chat chunks.
  const tap = createUsageTap({ status: 200, contentType: 'text/event-stream' });
  const { sink } = anthropicUpstreamToChatWrapper({ requestedModel: 'claude-sonnet-4-6', includeUsage: true, requestId: 'sluice_b' })(nullSink, {});
  sink.start(200, { 'content-type': 'text/event-stream' });
  for (const b of anthropicStream) { sink.write(b); tap.write(b); }
  sink.end();
  void tap.end();
}

const rows: { what: string; us: number; unit: string }[] = [];
const req = (what: string, fn: () => void) => rows.push({ what, us: timeIt(fn), unit: 'request' });
const perChunk = (what: string, fn: () => void, chunks: number) => rows.push({ what, us: timeIt(fn) / chunks, unit: 'chunk' });

const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
const chatOut = JSON.stringify(anthropicToChatRequest(anthropicReq, { model: 'deepseek-chat' })).length;
const anthropicOut = JSON.stringify(chatToAnthropicRequest(JSON.parse(chatBytes.toString('utf8')) as ChatRequest)).length;
req(`Anthropic request -> chat (${kb(anthropicBytes.length)} in, ${kb(chatOut)} out; parse + translate + serialise)`, () => {
  Buffer.from(JSON.stringify(anthropicToChatRequest(JSON.parse(anthropicBytes.toString('utf8')) as AnthropicRequest, { model: 'deepseek-chat' })));
});
req(`chat request -> Anthropic (${kb(chatBytes.length)} in, ${kb(anthropicOut)} out; parse + translate + serialise)`, () => {
  Buffer.from(JSON.stringify(chatToAnthropicRequest(JSON.parse(chatBytes.toString('utf8')) as ChatRequest)));
});
req(`baseline: JSON.parse + stringify of the same ${kb(anthropicBytes.length)} Anthropic body`, () => {
  Buffer.from(JSON.stringify(JSON.parse(anthropicBytes.toString('utf8'))));
});
req(`chat completion -> Anthropic message (${(completionBytes.length / 1024).toFixed(1)} KB)`, () => {
  JSON.stringify(chatResponseToAnthropic(JSON.parse(completionBytes.toString('utf8')) as ChatCompletion, { requestedModel: 'claude-opus-4-8' }).message);
});
req(`Anthropic message -> chat completion (${(messageBytes.length / 1024).toFixed(1)} KB)`, () => {
  JSON.stringify(anthropicToChatResponse(JSON.parse(messageBytes.toString('utf8')) as AnthropicMessage, { requestedModel: 'claude-sonnet-4-6' }).completion);
});
perChunk(`pass-through: usage tap over an Anthropic stream (${anthropicStream.length} events)`, () => runUsageTap(anthropicStream), anthropicStream.length);
perChunk(`chat stream -> Anthropic SSE, with the meter's copy (${chatStream.length} chunks)`, runChatToAnthropic, chatStream.length);
perChunk(`Anthropic stream -> chat chunks, meter on upstream bytes (${anthropicStream.length} events)`, runAnthropicToChat, anthropicStream.length);

const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 2 : 1)} µs`);
const w = Math.max(...rows.map((r) => r.what.length));
process.stdout.write(`Translation cost in process (node ${process.version})\n`);
for (const r of rows) process.stdout.write(`${r.what.padEnd(w)}  ${fmt(r.us).padStart(10)} / ${r.unit}\n`);

if (process.argv.includes('--write-results')) {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const section = [
    '## Translation',
    '',
    `Recorded ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, ${process.platform} ${process.arch}, Node ${process.version} with \`node --import tsx bench/translate.bench.ts --write-results\`.`,
    'In-process CPU time of the translation code, no sockets: what routing to another format adds on top of the',
    'pass-through path measured in the Gateway section. Request bodies are shaped like Claude Code 2.1.197\'s (system',
    'blocks, 25 tools, a two-step tool loop); streams are 400 small deltas. Each figure is the best of three timed windows. Per-chunk figures include SSE parsing,',
    're-encoding and the meter\'s usage tap, as wired in the gateway. Regenerate with the command above; this section is replaced whole.',
    '',
    `Reading: translating a request costs about what a plain JSON parse + serialise of the same body costs (the baseline row);`,
    `a streamed chunk costs ${fmt(rows[6]!.us)} translated from chat and ${fmt(rows[7]!.us)} translated to chat, against ${fmt(rows[5]!.us)} for the`,
    'pass-through tap, which is small next to the per-event delay the Gateway section measures over sockets.',
    '',
    '| Work | Cost | Per |',
    '|---|---:|---|',
    ...rows.map((r) => `| ${r.what} | ${fmt(r.us)} | ${r.unit} |`),
    '',
  ].join('\n');
  const doc = await readFileIfExists(RESULTS);
  await writeFileAtomic(RESULTS, replaceSection(doc, 'Translation', section), { backup: false });
  process.stdout.write(`wrote the Translation section of ${RESULTS}\n`);
}
