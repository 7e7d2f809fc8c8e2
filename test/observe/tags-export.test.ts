// Billing tags and ledger export from the outside: tagged tool tokens -> ledger rows -> `sluice
// stats --by tag` and `sluice export` (CSV parsed back with an independent RFC 4180 reader).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../proxy/cli-main.js';
import { EXPORT_COLUMNS, formatPicoUsd } from '../../proxy/observe/export.js';
import { parseCsv } from '../../proxy/observe/fixtures/csv-parse.js';
import { createMemorySecretStore } from '../../proxy/store/secrets.js';
import { openSettings } from '../../proxy/store/settings.js';
import { startObserveStack } from './stack.js';

function io(dir: string, stdin = ''): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const secrets = createMemorySecretStore();
  return {
    out, err, cwd: dir, stdout: (s) => { out.push(s); }, stderr: (s) => { err.push(s); }, readStdin: async () => stdin,
    env: {}, platform: 'linux', home: dir, secrets: () => secrets,
  };
}

test('tagged tokens: rows, stats --by tag and export carry the tags', { timeout: 20_000 }, async () => {
  const s = await startObserveStack({ tags: { team: 'infra', project: 'apollo' } });
  try {
    const data = (await s.gw.tokens.create('tool-b', { tags: { team: 'data' } })).token;
    const plain = (await s.gw.tokens.create('tool-c')).token;
    for (let i = 0; i < 3; i++) assert.equal((await s.ask(`a${i}`)).status, 200);
    assert.equal((await s.ask('b', { token: data, stream: false })).status, 200);
    assert.equal((await s.ask('c', { token: plain })).status, 200);
    await s.gw.flushUsage();
    const rows = s.gw.ledger!.requestsInRange({}).requests;
    assert.deepEqual(rows.map((r) => [r.tool, r.tags]), [
      ['tool-a', { team: 'infra', project: 'apollo' }], ['tool-a', { team: 'infra', project: 'apollo' }], ['tool-a', { team: 'infra', project: 'apollo' }],
      ['tool-b', { team: 'data' }], ['tool-c', null],
    ]);

    const a = io(s.dataDir);
    assert.equal(await runCli(['stats', '--by', 'tag', '--tag', 'team', '--json', '--data-dir', s.dataDir], a), 0, a.err.join(''));
    const report = JSON.parse(a.out.join('')) as { tag: string; rows: { key: string; requests: number; costUsd: number }[] };
    assert.equal(report.tag, 'team');
    const by = Object.fromEntries(report.rows.map((r) => [r.key, r]));
    assert.equal(by.infra!.requests, 3);
    assert.equal(by.data!.requests, 1);
    assert.equal(by['']!.requests, 1);
    const infraPico = rows.filter((r) => r.tags?.team === 'infra').reduce((x, r) => x + r.costPico!, 0);
    assert.ok(Math.abs(by.infra!.costUsd - infraPico / 1e12) < 1e-12);
    const t = io(s.dataDir);
    assert.equal(await runCli(['stats', '--by=tag', '--tag', 'project', '--data-dir', s.dataDir], t), 0);
    assert.match(t.out.join(''), /^project\s+requests/);
    assert.match(t.out.join(''), /\napollo\s+3\s/);
    assert.match(t.out.join(''), /\n\(untagged\)\s+2\s/);

    const e = io(s.dataDir);
    assert.equal(await runCli(['export', '--format', 'csv', '--out', 'spend.csv', '--data-dir', s.dataDir], e), 0, e.err.join(''));
    assert.match(e.err.join(''), /Exported 5 requests/);
    const table = parseCsv(readFileSync(join(s.dataDir, 'spend.csv'), 'utf8'));
    assert.deepEqual(table[0], [...EXPORT_COLUMNS]);
    const col = (c: string) => EXPORT_COLUMNS.indexOf(c as (typeof EXPORT_COLUMNS)[number]);
    assert.equal(table.length, 6);
    for (const [i, r] of rows.entries()) {
      const got = table[i + 1]!;
      assert.equal(got[col('id')], r.id);
      assert.equal(got[col('tool')], r.tool);
      assert.deepEqual(JSON.parse(got[col('tags')]!), r.tags ?? {});
      assert.equal(got[col('cost_usd')], formatPicoUsd(r.costPico));
      assert.equal(got[col('output_tokens')], String(r.outputTokens));
      assert.equal(got[col('served_model')], r.servedModel ?? '');
    }
    const j = io(s.dataDir);
    assert.equal(await runCli(['export', '--format', 'jsonl', '--data-dir', s.dataDir], j), 0);
    const lines = j.out.join('').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; tags: Record<string, string> });
    assert.deepEqual(lines.map((l) => [l.id, l.tags]), rows.map((r) => [r.id, r.tags ?? {}]));
  } finally {
    await s.close();
  }
});

test('token create --tag and token tag write validated tags to settings', async () => {
  const s = await startObserveStack();
  try {
    const c = io(s.dataDir);
    assert.equal(await runCli(['token', 'create', 'ci-bot', '--tag', 'team=platform', '--tag', 'costCentre=cc-42', '--data-dir', s.dataDir], c), 0, c.err.join(''));
    assert.match(c.out.join(''), /^sk-sluice-/);
    let settings = await openSettings(s.dataDir);
    assert.deepEqual(settings.get().tokens.find((t) => t.name === 'ci-bot')!.tags, { team: 'platform', costCentre: 'cc-42' });

    const tg = io(s.dataDir);
    assert.equal(await runCli(['token', 'tag', 'ci-bot', 'team=search', '--data-dir', s.dataDir], tg), 0, tg.err.join(''));
    assert.match(tg.out.join(''), /tags: team=search/);
    settings = await openSettings(s.dataDir);
    assert.deepEqual(settings.get().tokens.find((t) => t.name === 'ci-bot')!.tags, { team: 'search' });

    const bad = io(s.dataDir);
    assert.equal(await runCli(['token', 'tag', 'ci-bot', '9team=x', '--data-dir', s.dataDir], bad), 2);
    assert.match(bad.err.join(''), /tag keys are/);
    const long = io(s.dataDir);
    assert.equal(await runCli(['token', 'create', 'other', '--tag', `team=${'x'.repeat(65)}`, '--data-dir', s.dataDir], long), 2);
    assert.match(long.err.join(''), /at most 64/);
    const missing = io(s.dataDir);
    assert.equal(await runCli(['token', 'tag', 'nobody', 'team=x', '--data-dir', s.dataDir], missing), 1);
    assert.match(missing.err.join(''), /No active token/);
  } finally {
    await s.close();
  }
});
