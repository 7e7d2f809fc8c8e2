// A cancelled stream's row is an estimate: `sluice report` marks the figures it is part of with
// "≈" and says what share of the billed responses is estimated; exact periods stay unmarked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import type { ReportResult } from '../proxy/cli-report.js';
import { tempDir } from './helpers.js';

test('report: ≈ on the day and total holding a cancelled stream, the estimated share under the table', async () => {
  const home = await tempDir('sluice-report-est-');
  try {
    const dataDir = join(home.path, 'data');
    const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
    const day1 = Date.UTC(2026, 6, 1, 12);
    const day2 = Date.UTC(2026, 6, 3, 12);
    const base = { tool: 'claude-code', sessionId: 's-1', requestedModel: 'claude-sonnet-4-5', servedModel: 'claude-sonnet-4-5', status: 200, billed: true, inputTokens: 100 };
    ledger.write([
      makeRow({ ...base, id: 'a', tsStart: day1, tsEnd: day1 + 10, outputTokens: 40, costPico: 1_000_000_000 }),
      makeRow({ ...base, id: 'b', tsStart: day2, tsEnd: day2 + 10, outputTokens: 12, costPico: 500_000_000, estimated: 'client_cancelled' }),
      makeRow({ ...base, id: 'c', tsStart: day2 + 60_000, tsEnd: day2 + 60_010, outputTokens: 30, costPico: 700_000_000 }),
    ]);
    ledger.close();
    const run = async (args: string[]) => {
      let out = '';
      const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: dataDir, NO_COLOR: '1', TZ: 'UTC' }, platform: 'linux', home: home.path };
      assert.equal(await runCli(args, io), 0, out);
      return out;
    };
    const json = JSON.parse(await run(['report', 'daily', '--json'])) as ReportResult;
    assert.equal(json.totals.estimatedRequests, 1);
    assert.equal(json.totals.billedRequests, 3);
    const byDay = new Map(json.rows.map((r) => [(r as { key: string }).key, r]));
    assert.equal([...byDay.values()].filter((r) => r.estimatedRequests === 1).length, 1, 'one day holds the estimate');
    assert.equal([...byDay.values()].filter((r) => r.estimatedRequests === 0).length, 1);

    const text = await run(['report', 'daily']);
    const lines = text.split('\n');
    const exact = lines.find((l) => l.includes('$0.0010'));
    const estimated = lines.find((l) => l.includes('$0.0012'));
    assert.ok(exact && !exact.includes('≈'), `exact day unmarked:\n${text}`);
    assert.ok(estimated?.includes('≈$0.0012') && estimated.includes('≈42'), `estimated day marked on cost and output:\n${text}`);
    assert.ok(lines.find((l) => l.startsWith('total'))?.includes('≈$0.0022'), `total marked:\n${text}`);
    assert.match(text, /≈ 1 of 3 billed responses estimated \(33\.3%\): cancelled or cut streams/);
  } finally {
    await home.cleanup();
  }
});
