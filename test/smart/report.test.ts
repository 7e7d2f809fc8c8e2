// `sluice smart report` over a seeded ledger: per rule and tier, requests and actual cost, and
// what the same tokens would have cost on the rule's top tier (bundled prices, per MTok: Opus 5.5
// $4 in / $20 out, Sonnet 5.5 $2 / $10, Haiku 5.5 $0.10 / $0.50), worked out here by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../proxy/cli-main.js';
import { openSettings } from '../../proxy/store/settings.js';
import { openLedger } from '../../proxy/ledger/index.js';
import { createMemorySecretStore } from '../../proxy/store/secrets.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { tempDir } from '../helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
const HAIKU = 'claude-haiku-5-5';
const SONNET = 'claude-sonnet-5-5';
const OPUS = 'claude-opus-5-5';

before(async () => {
  dir = await tempDir('sluice-smart-report-');
  const settings = await openSettings(dir.path);
  await settings.update((s) => {
    s.routing.smart.cascades = [{ name: 'up', tiers: [{ provider: 'anthropic', model: HAIKU }, { provider: 'anthropic', model: SONNET }], triggers: ['refusal'] }] as never;
    s.routing.rules = [
      { name: 'smart', match: {}, tiers: true, fallbacks: [] },
      { name: 'casc', match: { model: 'x-*' }, cascade: 'up', fallbacks: [] },
      { name: 'plain', match: { model: 'y-*' }, target: { provider: 'anthropic' }, fallbacks: [] },
    ] as never;
  });
  const ledger = openLedger(join(dir.path, 'ledger.sqlite'));
  const t = Date.UTC(2026, 10, 20, 12);
  const row = (id: string, route: string | null, tier: string | null, servedModel: string, inputTokens: number, outputTokens: number, costPico: number | null, billed = true) =>
    makeRow({ id, tsStart: t, tsEnd: t + 1, route, tier, servedModel, inputTokens, outputTokens, costPico, billed });
  ledger.write([
    // smart (top: Opus). Haiku 1000 in + 200 out: 1e8 + 1e8 pico; on Opus 4e9 + 4e9.
    row('s1', 'smart', 'simple', HAIKU, 1000, 200, 200_000_000),
    row('s2', 'smart', 'simple', HAIKU, 1000, 200, 200_000_000),
    // Sonnet 1000 in + 1000 out: 2e9 + 1e10; on Opus 4e9 + 2e10.
    row('s3', 'smart', 'moderate', SONNET, 1000, 1000, 12_000_000_000),
    // Opus itself 2000 in + 100 out: 8e9 + 2e9, the same both ways.
    row('s4', 'smart', 'complex', OPUS, 2000, 100, 10_000_000_000),
    // Unpriced actual cost: counted as a request, flagged, kept out of the saving.
    row('s5', 'smart', 'simple', HAIKU, 1000, 200, null),
    // Left out: an unbilled attempt, a row without a tier, a rule that is not smart.
    row('s6', 'smart', 'simple', HAIKU, 1000, 200, 200_000_000, false),
    row('s7', 'smart', null, HAIKU, 1000, 200, 200_000_000),
    row('p1', 'plain', 'simple', HAIKU, 1000, 200, 200_000_000),
    // casc (top: Sonnet). Haiku 1000 in: 1e8; on Sonnet 2e9.
    row('c1', 'casc', 'step-1', HAIKU, 1000, 0, 100_000_000),
    row('c2', 'casc', 'step-2', SONNET, 1000, 0, 2_000_000_000),
  ]);
  ledger.close();
});
after(async () => { await dir.cleanup(); });

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const secrets = createMemorySecretStore();
  const io: CliIo = {
    stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '',
    env: { SLUICE_DATA_DIR: dir.path }, platform: 'linux', home: dir.path, secrets: () => secrets,
  };
  return { code: await runCli(args, io), out, err };
}

interface Totals { requests: number; costPico: string; unpriced: number; comparable: number; counterfactualPico: string; savingPico: string; savingUsd: number; models: string[] }
interface Report { routes: { route: string; topModel: string; tiers: (Totals & { tier: string; share: number })[]; total: Totals }[] }

test('per tier: requests, cost, and the saving against the top tier', async () => {
  const r = await cli(['smart', 'report', '--json', '--since', '2026-11-01']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as Report;
  // Routes come in order of first appearance: rows sort by (time, id), and 'c1' < 's1'.
  assert.deepEqual(rep.routes.map((x) => [x.route, x.topModel]), [['casc', SONNET], ['smart', OPUS]]);
  const smart = rep.routes[1]!;
  assert.deepEqual(smart.tiers.map((x) => [x.tier, x.requests, x.costPico, x.counterfactualPico, x.savingPico, x.unpriced]), [
    ['simple', 3, '400000000', '16000000000', '15600000000', 1],
    ['moderate', 1, '12000000000', '24000000000', '12000000000', 0],
    ['complex', 1, '10000000000', '10000000000', '0', 0],
  ]);
  assert.equal(smart.tiers[0]!.share, 3 / 5);
  assert.equal(smart.total.requests, 5);
  assert.equal(smart.total.comparable, 4);
  assert.equal(smart.total.costPico, '22400000000');
  assert.equal(smart.total.counterfactualPico, '50000000000');
  assert.equal(smart.total.savingPico, '27600000000');
  assert.equal(smart.total.savingUsd, 0.0276);
  const casc = rep.routes[0]!;
  assert.deepEqual(casc.tiers.map((x) => [x.tier, x.requests, x.savingPico]), [['step-1', 1, '1900000000'], ['step-2', 1, '0']]);
  assert.equal(casc.total.savingUsd, 0.0019);
});

test('--rule narrows to one rule; the table names the top tier and the saving', async () => {
  const j = JSON.parse((await cli(['smart', 'report', '--rule', 'casc', '--json'])).out) as Report;
  assert.deepEqual(j.routes.map((x) => x.route), ['casc']);
  const text = await cli(['smart', 'report', '--rule', 'smart']);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^rule smart: top tier claude-opus-5-5$/m);
  // Dollars through the shared formatter (proxy/format.ts): cents from one cent up.
  assert.match(text.out, /^total\s+5\s+100%\s+\$0\.02 \(\+1 unpriced\)\s+\$0\.05\s+\$0\.03/m);
  assert.doesNotMatch(text.out, /casc/);
  const none = await cli(['smart', 'report', '--since', '2026-11-21']);
  assert.match(none.out, /No smart-routed requests recorded yet/);
  const bad = await cli(['smart', 'report', '--since', 'yesterday']);
  assert.equal(bad.code, 2);
});
