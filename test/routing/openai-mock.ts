// A mock OpenAI-compatible provider (Chat Completions, DeepSeek-style reasoning_content) on
// 127.0.0.1 that records what it received. Scripted like a model in a tool loop: with tools and
// no tool result yet it calls the first tool; otherwise it answers in text. Stands in for the
// paid upstream only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRecorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json: Record<string, unknown> | null;
}

export interface OpenAiMock {
  /** Base URL including /v1, as users configure OpenAI-compatible providers. */
  baseUrl: string;
  requests: ChatRecorded[];
  /** Overrides the next responses: status + body (errors, rate limits). */
  failNext(status: number, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export const MOCK_REASONING = 'The user wants a file listing; I should call the tool.';
export const MOCK_TEXT = 'Done: the answer from the OpenAI-compatible mock.';
export const MOCK_USAGE = {
  prompt_tokens: 1200, completion_tokens: 40, total_tokens: 1240,
  prompt_tokens_details: { cached_tokens: 1000 },
  completion_tokens_details: { reasoning_tokens: 12 },
};

interface Msg { role: string; content?: unknown; tool_calls?: unknown[]; reasoning_content?: string }

function plan(json: Record<string, unknown>, callTools: boolean): { toolCall: { id: string; name: string; args: string } | null } {
  if (!callTools) return { toolCall: null };
  const messages = (json.messages as Msg[]) ?? [];
  const tools = (json.tools as { function: { name: string } }[] | undefined) ?? [];
  const answered = messages.some((m) => m.role === 'tool');
  if (tools.length > 0 && !answered) return { toolCall: { id: 'call_mock_1', name: tools[0]!.function.name, args: '{"path":"."}' } };
  return { toolCall: null };
}

function sse(res: ServerResponse, obj: unknown): void {
  res.write(`data: ${JSON.stringify(obj)}\n\n`);
}

/** `callTools: false` answers in text even when tools are offered (a real CLI would run the tool). */
export async function startOpenAiMock(opts: { model?: string; callTools?: boolean } = {}): Promise<OpenAiMock> {
  const served = opts.model ?? 'deepseek-chat-v3-mock';
  const requests: ChatRecorded[] = [];
  const failures: { status: number; body: unknown; headers: Record<string, string> }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let json: Record<string, unknown> | null = null;
    try { json = body.length ? JSON.parse(body.toString('utf8')) as Record<string, unknown> : null; } catch { json = null; }
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json });
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method === 'GET' && path === '/v1/models') {
      const text = JSON.stringify({ object: 'list', data: [
        { id: 'deepseek-chat', object: 'model', created: 1735689600, owned_by: 'deepseek' },
        { id: 'deepseek-reasoner', object: 'model', created: 1735689600, owned_by: 'deepseek' },
      ] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions' || !json) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `mock: no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const fail = failures.shift();
    if (fail) {
      const text = JSON.stringify(fail.body);
      res.writeHead(fail.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...fail.headers });
      res.end(text);
      return;
    }
    const { toolCall } = plan(json, opts.callTools ?? true);
    const id = `chatcmpl-mock${requests.length}`;
    const created = 1767225600;
    if (json.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': `req-oai-${requests.length}` });
      const base = { id, object: 'chat.completion.chunk', created, model: served };
      const withUsage = (json.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      const chunk = (delta: unknown, finish: string | null = null) => sse(res, { ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...(withUsage ? { usage: null } : {}) });
      chunk({ role: 'assistant', content: '' });
      for (const piece of MOCK_REASONING.match(/.{1,16}/g)!) chunk({ reasoning_content: piece });
      if (toolCall) {
        chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: '' } }] });
        chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.args.slice(0, 5) } }] });
        chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.args.slice(5) } }] });
        chunk({}, 'tool_calls');
      } else {
        for (const piece of MOCK_TEXT.match(/.{1,10}/g)!) chunk({ content: piece });
        chunk({}, 'stop');
      }
      if (withUsage) sse(res, { ...base, choices: [], usage: MOCK_USAGE });
      res.write('data: [DONE]\n\n');
      res.end();
      return;
    }
    const message: Record<string, unknown> = { role: 'assistant', content: toolCall ? null : MOCK_TEXT, reasoning_content: MOCK_REASONING };
    if (toolCall) message.tool_calls = [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: toolCall.args } }];
    const text = JSON.stringify({ id, object: 'chat.completion', created, model: served, choices: [{ index: 0, message, finish_reason: toolCall ? 'tool_calls' : 'stop' }], usage: MOCK_USAGE });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req-oai-${requests.length}` });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    failNext: (status, body, headers = {}) => { failures.push({ status, body, headers }); },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
