// CPU per gateway row through the ledger's real batched path (record -> flush -> one transaction
// per batch), rows shaped as the gateway writes them: random upstream message and request ids,
// one attempt each, ten sessions. What metering's SQLite half costs per request.
//
//   node --import tsx bench/ledger-row.bench.ts [--rows 60000] [--batch 500] [--no-attempts]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import type { LedgerRow } from '../proxy/ledger/types.js';

const { values: a } = parseArgs({ options: { rows: { type: 'string', default: '60000' }, batch: { type: 'string', default: '500' }, 'no-attempts': { type: 'boolean', default: false } } });
const ROWS = Number(a.rows);
const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-row-'));
try {
  const ledger = openLedger(join(dir, 'ledger.sqlite'), { batchMax: Number(a.batch) });
  const prefix = randomBytes(8).toString('hex');
  const row = (i: number): LedgerRow => {
    const now = Date.now();
    return makeRow({
      id: `sluice_${prefix}${i.toString(36).padStart(6, '0')}`, tsStart: now, tsEnd: now + 3, sessionId: `sess-${i % 10}`, stream: false,
      messageId: `msg_${randomBytes(12).toString('base64url')}`, upstreamRequestId: `req_${randomBytes(12).toString('base64url')}`,
      inputTokens: 10, outputTokens: 20, costPico: 12_345,
      ...(a['no-attempts'] ? {} : { attempts: [{ n: 1, ts: now, target: 'anthropic', keyId: 'anthropic', model: 'test-sonnet', status: 200, error: null, durationMs: 1.2, waitMs: 0 }] }),
    });
  };
  // Warm-up: a ledger that already holds rows, and a JIT that has seen the path.
  for (let i = 0; i < 20_000; i++) ledger.record(row(i));
  ledger.flush();
  const rows = Array.from({ length: ROWS }, (_, i) => row(20_000 + i));
  const before = process.cpuUsage();
  for (const r of rows) ledger.record(r);
  ledger.flush();
  const cpu = process.cpuUsage(before);
  const stats = ledger.stats();
  ledger.close();
  if (stats.inserted !== 20_000 + ROWS || stats.writeErrors > 0) throw new Error(`write problems: ${JSON.stringify(stats)}`);
  console.log(`${ROWS} rows in batches of ${a.batch}${a['no-attempts'] ? ', no attempts' : ''}: ${((cpu.user + cpu.system) / ROWS).toFixed(1)} µs CPU per row (user ${(cpu.user / ROWS).toFixed(1)}, system ${(cpu.system / ROWS).toFixed(1)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
