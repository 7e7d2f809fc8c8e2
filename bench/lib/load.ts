// The load generator: closed-loop request workers and SSE stream readers over an undici Pool,
// each bounded by a request count and a wall-clock budget. Imports undici and bench/lib only.
import { setMaxListeners } from 'node:events';
import type { Pool } from 'undici';
import { createStampReader } from './sse-timing.js';
import { nsToUs } from './stats.js';
import type { TargetName } from './args.js';

export interface Target {
  name: TargetName;
  pool: Pool;
  /** Headers every request carries (the gateway token for the gateway target). */
  headers: Record<string, string>;
}

export interface LoadOptions {
  path: string;
  body: Buffer;
  concurrency: number;
  maxRequests: number;
  maxMs: number;
  /** Bytes a correct response body has; anything else counts as an error. */
  expectBytes: number;
  clock?: () => bigint;
}

export interface LoadResult {
  latenciesUs: number[];
  completed: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
}

/** `concurrency` workers, each sending the next request once the previous response ended. */
export async function runClosedLoop(target: Target, o: LoadOptions): Promise<LoadResult> {
  const clock = o.clock ?? process.hrtime.bigint;
  const latenciesUs: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = clock();
  const deadline = t0 + BigInt(Math.round(o.maxMs * 1e6));
  const headers = { ...target.headers, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  const fail = (msg: string) => {
    errors++;
    firstError ??= msg;
  };
  const worker = async () => {
    while (issued < o.maxRequests && clock() < deadline) {
      issued++;
      const start = clock();
      try {
        const res = await target.pool.request({ path: o.path, method: 'POST', headers, body: o.body });
        const buf = Buffer.from(await res.body.arrayBuffer());
        const end = clock();
        if (res.statusCode !== 200) fail(`${target.name}: HTTP ${res.statusCode} ${buf.toString('utf8').slice(0, 200)}`);
        else if (buf.length !== o.expectBytes) fail(`${target.name}: body of ${buf.length} bytes, expected ${o.expectBytes}`);
        else latenciesUs.push(nsToUs(end - start));
      } catch (err) {
        fail(`${target.name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { latenciesUs, completed: latenciesUs.length, errors, firstError, elapsedMs: nsToUs(clock() - t0) / 1000 };
}

export interface StreamOptions {
  path: string;
  body: Buffer;
  concurrency: number;
  maxStreams: number;
  maxMs: number;
  events: number;
  gapMs: number;
  clock?: () => bigint;
}

export interface StreamResult {
  /** Request start to the arrival of the first event. */
  ttfbUs: number[];
  /** Arrival minus the upstream's send stamp, for every event after the first. */
  delayUs: number[];
  /** Arrival gap between consecutive events of one stream. */
  gapUs: number[];
  streams: number;
  errors: number;
  firstError: string | null;
  /** Events that arrived before their stamp: the clocks are not shared and delayUs is void. */
  negativeDelays: number;
}

/** Reads one stream to its end, timestamping each chunk as the socket delivers it. */
async function readStream(target: Target, o: StreamOptions, clock: () => bigint, r: StreamResult): Promise<void> {
  const start = clock();
  const res = await target.pool.request({
    path: o.path,
    method: 'POST',
    headers: {
      ...target.headers, 'content-type': 'application/json', 'anthropic-version': '2023-06-01',
      'x-bench-events': String(o.events), 'x-bench-gap-ms': String(o.gapMs),
    },
    body: o.body,
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  }
  const reader = createStampReader();
  let count = 0;
  let prev = 0n;
  await new Promise<void>((resolve, reject) => {
    res.body.on('data', (chunk: Buffer) => {
      const at = clock();
      for (const ev of reader.push(chunk, at)) {
        if (count === 0) r.ttfbUs.push(nsToUs(at - start));
        else {
          const d = ev.arrivedNs - ev.sentNs;
          if (d < 0n) r.negativeDelays++;
          r.delayUs.push(nsToUs(d));
          r.gapUs.push(nsToUs(ev.arrivedNs - prev));
        }
        prev = ev.arrivedNs;
        count++;
      }
    });
    res.body.once('end', () => resolve());
    res.body.once('error', reject);
  });
  if (count !== o.events) throw new Error(`stream ended after ${count} of ${o.events} events (${reader.unstamped} unstamped)`);
}

export async function runStreams(target: Target, o: StreamOptions): Promise<StreamResult> {
  const clock = o.clock ?? process.hrtime.bigint;
  const r: StreamResult = { ttfbUs: [], delayUs: [], gapUs: [], streams: 0, errors: 0, firstError: null, negativeDelays: 0 };
  let issued = 0;
  const deadline = clock() + BigInt(Math.round(o.maxMs * 1e6));
  const worker = async () => {
    while (issued < o.maxStreams && clock() < deadline) {
      issued++;
      try {
        await readStream(target, o, clock, r);
        r.streams++;
      } catch (err) {
        r.errors++;
        r.firstError ??= `${target.name}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return r;
}

export interface HeldStreams {
  /** Resolves once every stream delivered its first event. */
  ready: Promise<void>;
  /** Aborts every stream (client side) and waits for them to settle. */
  release(): Promise<void>;
}

/** Opens `count` slow streams and keeps them open until released (the RSS scenario). */
export function holdStreams(target: Target, o: { path: string; body: Buffer; count: number; gapMs: number }): HeldStreams {
  const abort = new AbortController();
  // One signal aborts every held stream; each request adds a listener to it.
  setMaxListeners(o.count + 10, abort.signal);
  const firsts: Promise<void>[] = [];
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < o.count; i++) {
    let first!: () => void;
    let failFirst!: (e: Error) => void;
    firsts.push(new Promise<void>((res, rej) => { first = res; failFirst = rej; }));
    const run = (async () => {
      const res = await target.pool.request({
        path: o.path,
        method: 'POST',
        headers: {
          ...target.headers, 'content-type': 'application/json', 'anthropic-version': '2023-06-01',
          // Enough events at this gap to outlast any hold; the stream ends by our abort.
          'x-bench-events': '100000', 'x-bench-gap-ms': String(o.gapMs),
        },
        body: o.body,
        signal: abort.signal,
      });
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        res.body.once('data', () => first());
        res.body.resume();
        res.body.once('error', () => resolve());
        res.body.once('close', () => resolve());
      });
    })().catch((err: Error) => {
      if (!abort.signal.aborted) failFirst(err);
    });
    settled.push(run);
  }
  return {
    ready: Promise.all(firsts).then(() => undefined),
    release: async () => {
      abort.abort();
      await Promise.all(settled);
    },
  };
}
