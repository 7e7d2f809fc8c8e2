import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger, type RequestRecord } from '../ledger/index.js';
import { csvField, EXPORT_COLUMNS, exportLedger, formatPicoUsd, openAtomicFile } from './export.js';
import { parseCsv } from './fixtures/csv-parse.js';
import { row } from './fixtures/rows.js';

test('formatPicoUsd is exact decimal USD', () => {
  assert.equal(formatPicoUsd(0), '0.00');
  assert.equal(formatPicoUsd(1), '0.000000000001');
  assert.equal(formatPicoUsd(1_234_500_000), '0.0012345');
  assert.equal(formatPicoUsd(12_500_000_000_000), '12.50');
  assert.equal(formatPicoUsd(-300_000_000_000), '-0.30');
  // 0.1 + 0.2 in pico: a float sum would print 0.30000000000000004.
  assert.equal(formatPicoUsd(100_000_000_000 + 200_000_000_000), '0.30');
  assert.equal(formatPicoUsd(9_007_199_254_740_991), '9007.199254740991');
  assert.equal(formatPicoUsd(null), '');
});

test('csvField quotes commas, quotes and line breaks and nothing else', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('=1+1'), '=1+1');
  assert.equal(csvField(null), '');
  assert.equal(csvField(false), 'false');
});

function withLedger(fn: (l: ReturnType<typeof openLedger>, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-export-'));
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  return fn(ledger, dir).finally(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

const day = Date.parse('2026-03-10T12:00:00Z');

function seed(ledger: ReturnType<typeof openLedger>): void {
  ledger.write([
    row({ id: 'r1', tsStart: day, tsEnd: day + 900, tags: { team: 'infra, "core"', project: 'x' } }),
    row({ id: 'r2', tsStart: day + 1000, tsEnd: day + 1500, requestedModel: 'model,with,commas', tags: null, costPico: 100_000_000_001 }),
    row({ id: 'r3', tsStart: day + 2000, tsEnd: day + 2100, status: 500, errorType: 'api_error', billed: false, costPico: 0, sessionId: 'line\nbreak' }),
    row({ id: 'r4', tsStart: day + 3000, tsEnd: day + 3100, costPico: null, servedModel: 'unknown-model' }),
    row({ id: 'r5', tsStart: day + 4000, tsEnd: day + 4100, tool: 'cursor' }),
    // Outside the range below.
    row({ id: 'r6', tsStart: Date.parse('2026-04-01T12:00:00Z'), tsEnd: Date.parse('2026-04-01T12:00:01Z') }),
  ]);
}

function allRecords(ledger: ReturnType<typeof openLedger>, since: number, until: number): RequestRecord[] {
  return ledger.requestsInRange({ since, until, limit: 100 }).requests;
}

test('CSV export pages through the ledger and parses back to the same values', async () => {
  await withLedger(async (ledger) => {
    seed(ledger);
    const since = Date.parse('2026-03-01T00:00:00Z');
    const until = Date.parse('2026-03-31T00:00:00Z');
    const chunks: string[] = [];
    const queried: (string | undefined)[] = [];
    const paging = { requestsInRange: (q: Parameters<typeof ledger.requestsInRange>[0]) => { queried.push(q?.afterId); return ledger.requestsInRange(q); } };
    const n = await exportLedger(paging, { since, until, format: 'csv', pageSize: 2 }, (c) => { chunks.push(c); });
    assert.equal(n, 5);
    // Header, then three pages of at most 2 rows: never the whole range at once.
    assert.deepEqual(queried, [undefined, 'r2', 'r4']);
    assert.equal(chunks.length, 4);
    const table = parseCsv(chunks.join(''));
    assert.deepEqual(table[0], [...EXPORT_COLUMNS]);
    const col = (name: string) => EXPORT_COLUMNS.indexOf(name as (typeof EXPORT_COLUMNS)[number]);
    const want = allRecords(ledger, since, until);
    assert.equal(table.length - 1, want.length);
    for (const [i, r] of want.entries()) {
      const got = table[i + 1]!;
      assert.equal(got.length, EXPORT_COLUMNS.length);
      assert.equal(got[col('id')], r.id);
      assert.equal(got[col('ts_start')], new Date(r.tsStart).toISOString());
      assert.equal(got[col('session_id')], r.sessionId ?? '');
      assert.equal(got[col('requested_model')], r.requestedModel ?? '');
      assert.equal(got[col('tool')], r.tool);
      assert.equal(got[col('status')], r.status === null ? '' : String(r.status));
      assert.equal(got[col('input_tokens')], String(r.inputTokens));
      assert.equal(got[col('cache_read_tokens')], String(r.cacheReadTokens));
      assert.equal(got[col('cost_pico')], r.costPico === null ? '' : String(r.costPico));
      assert.equal(got[col('cost_usd')], r.costPico === null ? '' : formatPicoUsd(r.costPico));
      assert.deepEqual(JSON.parse(got[col('tags')]!), r.tags ?? {});
      assert.equal(got[col('billed')], String(r.billed));
    }
    assert.equal(table[1]![col('tags')], '{"team":"infra, \\"core\\"","project":"x"}');
    assert.equal(table[2]![col('cost_usd')], '0.100000000001');
    assert.equal(table[3]![col('session_id')], 'line\nbreak');
  });
});

test('JSONL export: one object per line, tags as an object, exact cost string', async () => {
  await withLedger(async (ledger) => {
    seed(ledger);
    let text = '';
    const n = await exportLedger(ledger, { since: '2026-03-10', until: '2026-03-10', format: 'jsonl' }, (c) => { text += c; });
    assert.equal(n, 5);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.id), ['r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(lines[0]!.tags, { team: 'infra, "core"', project: 'x' });
    assert.deepEqual(lines[1]!.tags, {});
    assert.equal(lines[0]!.cost_usd, '0.0012345');
    assert.equal(lines[3]!.cost_usd, null);
    assert.equal(lines[2]!.status, 500);
  });
});

test('an atomic export file appears whole on commit and not at all on abort', async () => {
  await withLedger(async (_ledger, dir) => {
    const target = join(dir, 'out.csv');
    const w = await openAtomicFile(target);
    await w.write('a,b\r\n');
    assert.throws(() => readFileSync(target), /ENOENT/);
    await w.write('1,2\r\n');
    await w.commit();
    assert.equal(readFileSync(target, 'utf8'), 'a,b\r\n1,2\r\n');
    const w2 = await openAtomicFile(target);
    await w2.write('partial');
    await w2.abort();
    assert.equal(readFileSync(target, 'utf8'), 'a,b\r\n1,2\r\n');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});
