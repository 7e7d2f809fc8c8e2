// Plausible ledger history for the browser tests, the screenshots and the first-paint bench:
// sessions of several tools and models over past days, costs computed from list prices (so the
// numbers on screen add up). Deterministic for a given seed. Test support only.
import { createRng, makeRow } from '../../proxy/ledger/fixtures/rows.js';
import type { LedgerRow } from '../../proxy/ledger/types.js';

const DAY = 86_400_000;
/** USD per million tokens: input, 5m cache write, cache read, output (PROTOCOL.md, 2026-08). */
const PRICES: Record<string, [number, number, number, number] | null> = {
  'claude-sonnet-4-5-20250929': [3, 3.75, 0.3, 15],
  'claude-opus-4-5-20251101': [5, 6.25, 0.5, 25],
  'claude-haiku-4-5-20251001': [1, 1.25, 0.1, 5],
  'my-finetune-v2': null,
};
const MODELS = Object.keys(PRICES);
const TOOLS = ['claude-code', 'claude-code', 'claude-code', 'cline', 'cursor-terminal'];
const PROJECTS = ['/home/dev/work/payments-api', '/home/dev/work/web-app', '/home/dev/oss/sluice', '/home/dev/work/infra', null];

export interface SeedOptions {
  /** Newest timestamp (the seed never goes past it). */
  now: number;
  days: number;
  sessions: number;
  requests: number;
  seed?: number;
  /** Prefix for ids, so two seeds never collide. */
  idPrefix?: string;
}

/** Rows in time order; call `ledger.write(rows)` in chunks. */
export function* demoRows(o: SeedOptions): Generator<LedgerRow> {
  const rng = createRng(o.seed ?? 7);
  const start = o.now - o.days * DAY;
  const perSession = o.requests / o.sessions;
  const sid = (s: number) => `${(0x5f1c0000 + s).toString(16)}-${(s * 7919 % 65536).toString(16).padStart(4, '0')}-4${(s % 4096).toString(16).padStart(3, '0')}-8000-${(s * 104729).toString(16).padStart(12, '0').slice(-12)}`;
  for (let i = 0; i < o.requests; i++) {
    const ts = Math.min(o.now - 60_000, start + Math.floor(((i + rng()) / o.requests) * o.days * DAY));
    const s = Math.min(o.sessions - 1, Math.floor(i / perSession));
    // Sessions mostly stick to one main model, with a cheap model for side calls.
    const main = MODELS[s % 3]!;
    const model = rng() < 0.2 ? 'claude-haiku-4-5-20251001' : s % 17 === 5 ? 'my-finetune-v2' : main;
    const failed = rng() < 0.02;
    const input = failed ? 0 : 200 + Math.floor(rng() * 3000);
    const write = failed ? 0 : Math.floor(rng() * 12_000);
    const read = failed ? 0 : Math.floor(rng() * 90_000);
    const out = failed ? 0 : 50 + Math.floor(rng() * 1500);
    const p = PRICES[model] ?? null;
    // Pico-dollars: USD per million tokens x 1e6 per token.
    const cost = failed ? 0 : p === null ? null : Math.round((input * p[0] + write * p[1] + read * p[2] + out * p[3]) * 1e6);
    const ttfb = 300 + Math.floor(rng() * 1500);
    yield makeRow({
      id: `${o.idPrefix ?? 'seed'}_${i.toString(36).padStart(8, '0')}`,
      tsStart: ts,
      tsEnd: ts + ttfb + Math.floor(rng() * 9000),
      sessionId: sid(s),
      tool: TOOLS[s % TOOLS.length]!,
      clientFamily: 'claude-code',
      requestedModel: model,
      servedModel: failed ? null : model,
      status: failed ? 529 : 200,
      errorType: failed ? 'overloaded_error' : null,
      ttfbMs: failed ? null : ttfb,
      totalMs: ttfb + Math.floor(rng() * 9000),
      messageId: failed ? null : `msg_${o.idPrefix ?? 'seed'}_${i}`,
      inputTokens: input,
      cacheWrite5mTokens: write,
      cacheReadTokens: read,
      outputTokens: out,
      costPico: cost,
      billed: !failed,
      project: PROJECTS[s % PROJECTS.length]!,
    });
  }
}

export function seedLedger(ledger: { write(rows: readonly LedgerRow[]): unknown }, o: SeedOptions, chunk = 10_000): number {
  let buf: LedgerRow[] = [];
  let n = 0;
  for (const r of demoRows(o)) {
    buf.push(r);
    if (buf.length === chunk) {
      ledger.write(buf);
      n += buf.length;
      buf = [];
    }
  }
  if (buf.length) ledger.write(buf);
  return n + buf.length;
}
