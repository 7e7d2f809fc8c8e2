// The benchmark's upstream: a deliberately minimal Anthropic-shaped HTTP server, so that what the
// bench measures is the gateway, not the mock. Imports node:http only; never proxy/ code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Request headers that shape a stream (the gateway forwards every non-hop header unchanged). */
export const EVENTS_HEADER = 'x-bench-events';
export const GAP_HEADER = 'x-bench-gap-ms';
/** SSE comment line carrying the mock's CLOCK_MONOTONIC send time, shared by every process on the host. */
export const SENT_PREFIX = ': sent_ns=';
export const MIN_EVENTS = 6;

export interface BenchUpstreamOptions {
  /** Events per stream when the request does not say (>= MIN_EVENTS). */
  events?: number;
  gapMs?: number;
  /** Clock for the send stamps; process.hrtime.bigint (CLOCK_MONOTONIC on Linux) by default. */
  now?: () => bigint;
  /** Message id source; ids must be as long as the placeholder. */
  messageIds?: () => string;
}

export interface BenchUpstream {
  url: string;
  server: Server;
  /** Streams currently open (headers sent, not yet ended or closed). */
  openStreams(): number;
  close(): Promise<void>;
}

/** Message ids are unique per response, as Anthropic's are: the ledger dedupes on them. */
const ID_PLACEHOLDER = 'msg_bench_0000000000000000';

/** A fresh id generator; the random prefix keeps two upstream processes apart. */
export function createMessageIds(prefix = randomBytes(3).toString('hex')): () => string {
  let n = 0;
  return () => `msg_bench_${prefix}${(n++).toString(16).padStart(10, '0')}`;
}

/** A Messages response of about 500 bytes, the size of a short real answer (id is a placeholder). */
export const MESSAGE_JSON = Buffer.from(JSON.stringify({
  id: ID_PLACEHOLDER,
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'The benchmark upstream answers every request with this same short text, about the size of a one-line answer from the model.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: {
    input_tokens: 512, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 26, service_tier: 'standard',
  },
}));

const JSON_HEADERS = {
  'content-type': 'application/json',
  'content-length': String(MESSAGE_JSON.length),
  'request-id': 'req_bench_000000000000',
};
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'request-id': 'req_bench_000000000000',
};

const ID_OFFSET = MESSAGE_JSON.indexOf(ID_PLACEHOLDER);

/** MESSAGE_JSON with `id` (same length as the placeholder) in place of the placeholder. */
export function messageJsonWithId(id: string): Buffer {
  if (id.length !== ID_PLACEHOLDER.length) throw new RangeError(`a message id must have ${ID_PLACEHOLDER.length} characters`);
  const out = Buffer.from(MESSAGE_JSON);
  out.write(id, ID_OFFSET, 'latin1');
  return out;
}

function event(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

/** The message_start event of a stream with message id `id`. */
export function messageStartEvent(id: string): string {
  return event('message_start', `{"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":512,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`);
}

/**
 * The events of one stream in Anthropic's order after message_start (which carries the
 * per-stream id): `n` >= MIN_EVENTS in all, n - 5 text deltas.
 */
export function streamEventBodies(n: number): string[] {
  const deltas = Math.max(1, n - 5);
  const out = [
    event('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'),
  ];
  for (let i = 0; i < deltas; i++) {
    out.push(event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token ${i} "}}`));
  }
  out.push(
    event('content_block_stop', '{"type":"content_block_stop","index":0}'),
    event('message_delta', `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":${deltas}}}`),
    event('message_stop', '{"type":"message_stop"}'),
  );
  return out;
}

const STREAM_TRUE = Buffer.from('"stream":true');

function intHeader(req: IncomingMessage, name: string, fallback: number, min: number, max: number): number {
  const v = Number(req.headers[name]);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

export async function startBenchUpstream(opts: BenchUpstreamOptions = {}): Promise<BenchUpstream> {
  const defaultEvents = Math.max(MIN_EVENTS, opts.events ?? 20);
  const defaultGap = opts.gapMs ?? 10;
  const now = opts.now ?? process.hrtime.bigint;
  const bodies = new Map<number, string[]>();
  const nextId = opts.messageIds ?? createMessageIds();
  let open = 0;

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    const n = intHeader(req, EVENTS_HEADER, defaultEvents, MIN_EVENTS, 100_000);
    const gap = intHeader(req, GAP_HEADER, defaultGap, 0, 60_000);
    let events = bodies.get(n);
    if (!events) bodies.set(n, events = streamEventBodies(n));
    const list = [messageStartEvent(nextId()), ...events];
    res.writeHead(200, SSE_HEADERS);
    open++;
    let i = 0;
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      open--;
      if (timer) clearTimeout(timer);
    };
    res.on('close', finish);
    const next = () => {
      timer = null;
      if (done) return;
      // The stamp is taken right before the write: arrival minus stamp is the one-way delay.
      res.write(`${SENT_PREFIX}${now()}\n${list[i]!}`);
      i++;
      if (i === list.length) {
        res.end();
        finish();
      } else {
        timer = setTimeout(next, gap);
      }
    };
    next();
  };

  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"type":"error","error":{"type":"not_found_error","message":"bench upstream: POST /v1/messages only"}}');
      return;
    }
    // The body is read and discarded; only `"stream":true` matters, found across chunk
    // boundaries by keeping the last few bytes of the previous chunk.
    let isStream = false;
    let tail: Buffer = Buffer.alloc(0);
    req.on('data', (chunk: Buffer) => {
      if (isStream) return;
      const window = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      if (window.includes(STREAM_TRUE)) isStream = true;
      else tail = window.subarray(Math.max(0, window.length - (STREAM_TRUE.length - 1)));
    });
    req.on('end', () => {
      if (isStream) stream(req, res);
      else {
        res.writeHead(200, JSON_HEADERS);
        res.end(messageJsonWithId(nextId()));
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    openStreams: () => open,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
