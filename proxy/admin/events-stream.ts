// GET /admin/api/events: the gateway's event bus as Server-Sent Events (request:start, a
// request:end trimmed to safe metadata, ledger when rows are committed, alert, profile when
// the active profile changed), heartbeats, and clean teardown on disconnect or
// shutdown. Imports the bus and ledger types only; never express.
import type { ServerResponse } from 'node:http';
import type { EventBus } from '../events.js';
import type { LedgerRow } from '../ledger/types.js';
import { picoToUsd } from '../pricing/cost.js';
import type { RequestEndEvent } from './api-types.js';

export const HEARTBEAT_MS = 15_000;

/** The ledger row without ids of keys, upstream request ids, agents or byte counts. */
export function toRequestEndEvent(r: LedgerRow): RequestEndEvent {
  return {
    id: r.id,
    tsStart: r.tsStart,
    tsEnd: r.tsEnd,
    sessionId: r.sessionId,
    tool: r.tool,
    method: r.method,
    path: r.path,
    endpoint: r.endpoint,
    requestedModel: r.requestedModel,
    servedModel: r.servedModel,
    stream: r.stream,
    status: r.status,
    errorType: r.errorType,
    ttfbMs: r.ttfbMs,
    totalMs: r.totalMs,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheWriteTokens: r.cacheWrite5mTokens + r.cacheWrite1hTokens,
    cacheReadTokens: r.cacheReadTokens,
    costUsd: r.costPico === null ? null : picoToUsd(r.costPico),
    billed: r.billed,
    estimated: r.estimated ?? null,
  };
}

export interface EventStreams {
  /** Takes over the response: headers, then events until the client leaves or close() runs. */
  attach(res: ServerResponse): void;
  /** Open streams. */
  count(): number;
  /** Ends every stream (gateway shutdown) and refuses none later: attach after close ends at once. */
  close(): void;
}

export function createEventStreams(bus: EventBus, opts: { heartbeatMs?: number } = {}): EventStreams {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const open = new Set<() => void>();
  let closed = false;

  return {
    attach(res) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      if (closed) {
        res.end();
        return;
      }
      // Tells EventSource how long to wait before reconnecting after the gateway restarts.
      res.write('retry: 2000\n\n');
      let seq = 0;
      const send = (type: string, data: unknown) => {
        res.write(`id: ${++seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const offs = [
        bus.on('request:start', (e) => send('request:start', e)),
        bus.on('request:end', (r) => send('request:end', toRequestEndEvent(r))),
        bus.on('ledger:flush', (f) => send('ledger', f)),
        bus.on('alert', (a) => send('alert', a)),
        bus.on('profile:switch', (p) => send('profile', { name: p.name, previous: p.previous, ts: p.ts })),
      ];
      // An SSE comment: keeps proxies and idle timers from closing a quiet stream.
      const beat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
      beat.unref();
      let done = false;
      const teardown = () => {
        if (done) return;
        done = true;
        clearInterval(beat);
        for (const off of offs) off();
        open.delete(teardown);
        if (!res.writableEnded) res.end();
      };
      open.add(teardown);
      res.on('close', teardown);
      res.flushHeaders();
    },
    count: () => open.size,
    close() {
      closed = true;
      for (const t of [...open]) t();
    },
  };
}
