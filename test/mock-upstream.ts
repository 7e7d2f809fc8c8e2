// A mock Anthropic API on 127.0.0.1 that records exactly what it received (raw header list,
// body bytes, whether the client closed early) and what it sent. The only mock in the suite:
// it stands in for the upstream that costs money.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
  /** Bytes the mock wrote as the response body. */
  sent: Buffer[];
  /** The connection closed before the mock finished its response. */
  closedEarly: boolean;
  closed: Promise<void>;
}

export type Behavior = (req: RecordedRequest, res: ServerResponse, mock: MockUpstream) => void | Promise<void>;

export interface MockUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the behaviour for later requests (default: `anthropicBehavior`). */
  setBehavior(b: Behavior): void;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes and records a body chunk. */
export function send(req: RecordedRequest, res: ServerResponse, chunk: string | Buffer): boolean {
  const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  req.sent.push(b);
  return res.write(b);
}

export function sendJson(req: RecordedRequest, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'request-id': `req_mock_${randomBytes(6).toString('hex')}`,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  send(req, res, text);
  res.end();
}

export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface MessageFixture {
  id?: string;
  model?: string;
  text?: string;
  usage?: Record<string, unknown>;
  outputTokens?: number;
  stopReason?: string;
}

export const DEFAULT_USAGE = {
  input_tokens: 12,
  cache_creation_input_tokens: 100,
  cache_read_input_tokens: 2000,
  cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0 },
  output_tokens: 1,
  service_tier: 'standard',
};

/** A Messages stream as Anthropic sends it: start, one text block in pieces, delta, stop. */
export function messageStreamEvents(f: MessageFixture = {}): string[] {
  const id = f.id ?? `msg_mock_${randomBytes(6).toString('hex')}`;
  const model = f.model ?? 'claude-sonnet-4-5-20250929';
  const text = f.text ?? 'Hello from the mock.';
  const usage = { ...DEFAULT_USAGE, ...(f.usage ?? {}) };
  const pieces = text.match(/.{1,8}/gs) ?? [''];
  return [
    sseEvent('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sseEvent('ping', { type: 'ping' }),
    ...pieces.map((p) => sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: f.stopReason ?? 'end_turn', stop_sequence: null }, usage: { ...usage, output_tokens: f.outputTokens ?? 9 } }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
}

/**
 * A tool-use turn as Anthropic streams it: a text block, then a get_weather tool_use whose
 * input arrives in two input_json_delta pieces, stop_reason tool_use.
 */
export function toolUseStreamEvents(f: { id: string; model: string }): string[] {
  return [
    sseEvent('message_start', { type: 'message_start', message: { id: f.id, type: 'message', role: 'assistant', model: f.model, content: [], stop_reason: null, stop_sequence: null, usage: DEFAULT_USAGE } }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: {} } }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 1 }),
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { ...DEFAULT_USAGE, output_tokens: 30 } }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
}

export function messageJson(f: MessageFixture = {}): Record<string, unknown> {
  return {
    id: f.id ?? `msg_mock_${randomBytes(6).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: f.model ?? 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: f.text ?? 'Hello from the mock.' }],
    stop_reason: f.stopReason ?? 'end_turn',
    stop_sequence: null,
    usage: { ...DEFAULT_USAGE, ...(f.usage ?? {}), output_tokens: f.outputTokens ?? 9 },
  };
}

export async function streamEvents(req: RecordedRequest, res: ServerResponse, events: string[], gapMs = 0, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': `req_mock_${randomBytes(6).toString('hex')}`,
    ...headers,
  });
  res.flushHeaders();
  for (const e of events) {
    if (req.closedEarly) return;
    send(req, res, e);
    if (gapMs) await sleep(gapMs);
  }
  res.end();
}

export const MODELS = [
  { type: 'model', id: 'claude-opus-4-5-20251101', display_name: 'Claude Opus 4.5', created_at: '2025-11-01T00:00:00Z' },
  { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
  { type: 'model', id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
];

/** What the real API does for the endpoints the suite uses. */
export const anthropicBehavior: Behavior = async (req, res) => {
  const path = req.url.split('?', 1)[0]!;
  if (req.method === 'POST' && path === '/v1/messages') {
    let parsed: { stream?: boolean; model?: string };
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch {
      sendJson(req, res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'mock: body is not JSON' } });
      return;
    }
    if (parsed.stream) await streamEvents(req, res, messageStreamEvents({ model: parsed.model }));
    else sendJson(req, res, 200, messageJson({ model: parsed.model }));
    return;
  }
  if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
    sendJson(req, res, 200, { input_tokens: 1234 });
    return;
  }
  if (req.method === 'GET' && path === '/v1/models') {
    sendJson(req, res, 200, { data: MODELS, has_more: false, first_id: MODELS[0]!.id, last_id: MODELS.at(-1)!.id });
    return;
  }
  const m = /^\/v1\/models\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && m) {
    const model = MODELS.find((x) => x.id === decodeURIComponent(m[1]!));
    if (model) sendJson(req, res, 200, model);
    else sendJson(req, res, 404, { type: 'error', error: { type: 'not_found_error', message: `model: ${m[1]}` } });
    return;
  }
  if (path.startsWith('/v1/messages/batches')) {
    sendJson(req, res, 200, { id: 'msgbatch_mock_1', type: 'message_batch', processing_status: 'in_progress', request_counts: { processing: 1, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    return;
  }
  sendJson(req, res, 404, { type: 'error', error: { type: 'not_found_error', message: `mock: no route ${req.method} ${path}` } });
};

export async function startMockUpstream(behavior: Behavior = anthropicBehavior): Promise<MockUpstream> {
  let current = behavior;
  const requests: RecordedRequest[] = [];
  const mock: MockUpstream = {
    url: '',
    requests,
    setBehavior: (b) => { current = b; },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer({ noDelay: true }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let markClosed!: () => void;
    const rec: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks),
      sent: [],
      closedEarly: false,
      closed: new Promise<void>((r) => { markClosed = r; }),
    };
    res.on('close', () => {
      if (!res.writableFinished) rec.closedEarly = true;
      markClosed();
    });
    requests.push(rec);
    try {
      await current(rec, res, mock);
    } catch (err) {
      if (!res.headersSent) sendJson(rec, res, 500, { type: 'error', error: { type: 'api_error', message: `mock failed: ${(err as Error).message}` } });
      else res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return mock;
}
