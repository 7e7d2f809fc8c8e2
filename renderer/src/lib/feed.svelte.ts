// The live request feed: subscribes to the gateway's SSE stream and keeps the newest requests,
// each row going from "in flight" (request:start) to its result (request:end). EventSource is
// injected, so tests drive it without a browser.
import type { RequestEndEvent, RequestStartEvent } from './api.js';

export interface FeedItem {
  id: string;
  ts: number;
  tool: string;
  model: string | null;
  sessionId: string | null;
  stream: boolean;
  state: 'in-flight' | 'done' | 'error';
  status: number | null;
  costUsd: number | null;
  billed: boolean;
  /** Set when the stream ended early: output and cost are estimates, shown with "≈". */
  estimated?: string | null;
  inputTokens: number;
  outputTokens: number;
  totalMs: number | null;
}

/** The part of EventSource the feed uses. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (e: { data: string }) => void): void;
  onopen: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  readyState: number;
  close(): void;
}

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export class LiveFeed {
  items = $state<FeedItem[]>([]);
  status = $state<FeedStatus>('connecting');
  /** Requests finished since the feed opened. */
  finished = $state(0);
  readonly max: number;
  #source: EventSourceLike | null = null;
  #onEnd: ((e: RequestEndEvent) => void) | null;
  #onLedger: (() => void) | null;

  /** `onLedger`: rows were committed to the ledger, so figures read from it are now current. */
  constructor(opts: { max?: number; onEnd?: (e: RequestEndEvent) => void; onLedger?: () => void } = {}) {
    this.max = opts.max ?? 50;
    this.#onEnd = opts.onEnd ?? null;
    this.#onLedger = opts.onLedger ?? null;
  }

  connect(open: () => EventSourceLike): void {
    this.close();
    const src = open();
    this.#source = src;
    this.status = 'connecting';
    src.onopen = () => { this.status = 'live'; };
    // EventSource reconnects by itself (readyState CONNECTING = 0); CLOSED (2) means it gave up.
    src.onerror = () => { this.status = src.readyState === 2 ? 'closed' : 'reconnecting'; };
    src.addEventListener('request:start', (e) => this.start(JSON.parse(e.data) as RequestStartEvent));
    src.addEventListener('request:end', (e) => this.end(JSON.parse(e.data) as RequestEndEvent));
    src.addEventListener('ledger', () => this.#onLedger?.());
  }

  start(e: RequestStartEvent): void {
    const item: FeedItem = {
      id: e.id, ts: e.ts, tool: e.tool, model: e.model, sessionId: e.sessionId, stream: e.stream,
      state: 'in-flight', status: null, costUsd: null, billed: false, inputTokens: 0, outputTokens: 0, totalMs: null,
    };
    this.items = [item, ...this.items.filter((i) => i.id !== e.id)].slice(0, this.max);
  }

  end(e: RequestEndEvent): void {
    this.finished += 1;
    const done: Partial<FeedItem> = {
      state: e.status !== null && e.status < 400 && e.errorType === null ? 'done' : 'error',
      status: e.status,
      costUsd: e.costUsd,
      billed: e.billed,
      estimated: e.estimated ?? null,
      inputTokens: e.inputTokens + e.cacheWriteTokens + e.cacheReadTokens,
      outputTokens: e.outputTokens,
      totalMs: e.totalMs,
      model: e.servedModel ?? e.requestedModel,
    };
    const i = this.items.findIndex((x) => x.id === e.id);
    if (i >= 0) {
      this.items[i] = { ...this.items[i]!, ...done };
    } else {
      // The start happened before the page connected: show the finished request anyway.
      const item: FeedItem = {
        id: e.id, ts: e.tsStart, tool: e.tool, model: null, sessionId: e.sessionId, stream: e.stream,
        state: 'done', status: null, costUsd: null, billed: false, inputTokens: 0, outputTokens: 0, totalMs: null, ...done,
      };
      this.items = [item, ...this.items].slice(0, this.max);
    }
    this.#onEnd?.(e);
  }

  close(): void {
    this.#source?.close();
    this.#source = null;
    this.status = 'closed';
  }
}
