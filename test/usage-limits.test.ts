// Exact subscription usage, read passively (issue 19, item 4): on claude.ai OAuth traffic the
// gateway records Anthropic's `anthropic-ratelimit-unified-*` window state per account (keyed by
// metadata.user_id's account_uuid, or a hash of the credential: never the credential), the
// headers reach the client unchanged, and `sluice report blocks` shows the exact utilization of
// the windows it saw and a marked estimate for the others (a hand-computed table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { controlExtension } from '../proxy/control/index.js';
import { readUsageLimits, type UsageLimitsDoc, type UnifiedObservation } from '../proxy/control/unified-limits.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import { buildReport, openReadOnly, renderReport, type BlockRow } from '../proxy/cli-report.js';
import { messageJson, sendJson, startMockUpstream } from './mock-upstream.js';
import { headerMap, rawRequest, tempDir, until } from './helpers.js';

const OAUTH = 'sk-ant-oat01-FAKE-oauth';
const ACCOUNT = '3f1c2a9e-0000-4000-8000-00000000abcd';
const RESET_5H = 1_900_000_000;
const RESET_7D = 1_900_400_000;
const UNIFIED = {
  'anthropic-ratelimit-unified-status': 'allowed',
  'anthropic-ratelimit-unified-reset': String(RESET_5H),
  'anthropic-ratelimit-unified-representative-claim': 'five_hour',
  'anthropic-ratelimit-unified-5h-utilization': '0.42',
  'anthropic-ratelimit-unified-5h-reset': String(RESET_5H),
  'anthropic-ratelimit-unified-5h-status': 'allowed',
  'anthropic-ratelimit-unified-7d-utilization': '0.27',
  'anthropic-ratelimit-unified-7d-reset': String(RESET_7D),
  'anthropic-ratelimit-unified-7d-status': 'allowed',
  'anthropic-ratelimit-unified-overage-status': 'rejected',
};

test('OAuth passthrough: unified headers reach the client unchanged and are recorded per account, never the credential', { timeout: 30_000 }, async () => {
  const mock = await startMockUpstream((req, res) => sendJson(req, res, 200, messageJson({}), UNIFIED));
  const dir = await tempDir('sluice-ulimits-');
  const gw = await createGateway({
    dataDir: dir.path, port: 0, secrets: null, env: { SLUICE_ANTHROPIC_BASE_URL: mock.url },
    logger: createLogger({ level: 'error', write: () => {} }), extensions: [controlExtension()],
  });
  try {
    const body = JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }],
      metadata: { user_id: JSON.stringify({ device_id: 'd', account_uuid: ACCOUNT, session_id: 's' }) } });
    const r = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${OAUTH}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body });
    assert.equal(r.status, 200, r.body.toString());
    const got = headerMap(r.rawHeaders);
    for (const [k, v] of Object.entries(UNIFIED)) assert.deepEqual(got.get(k), [v], `${k} reached the client unchanged`);
    const doc = await until(() => readUsageLimits(dir.path) ?? undefined, 'usage-limits.json');
    assert.equal(doc.accounts.length, 1);
    const a = doc.accounts[0]!;
    assert.equal(a.account, `account:${ACCOUNT}`);
    assert.equal(a.latest.fiveHour?.utilization, 0.42);
    assert.equal(a.latest.fiveHour?.resetsAt, RESET_5H * 1000);
    assert.equal(a.latest.sevenDay?.utilization, 0.27);
    assert.equal(a.latest.status, 'allowed');
    assert.equal(a.windows.length, 1);

    // Without an account id the key is a hash; the token itself is in no file of the data dir.
    await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': OAUTH.replace('FAKE', 'OTHER'), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 5, messages: [] }) });
    const two = await until(() => { const d = readUsageLimits(dir.path); return d !== null && d.accounts.length === 2 ? d : undefined; }, 'the second account');
    assert.ok(two.accounts.some((x) => /^credential:[0-9a-f]{16}$/.test(x.account)), JSON.stringify(two.accounts.map((x) => x.account)));
    for (const f of await readdir(dir.path)) {
      const text = await readFile(join(dir.path, f)).catch(() => Buffer.alloc(0));
      assert.ok(!text.includes('FAKEOAUTHTOKEN') && !text.includes('OTHEROAUTHTOKEN'), `${f} holds no credential`);
    }
    // A Sluice-token request carries no unified headers of Anthropic's and records nothing.
    assert.equal(mock.requests.length, 2);
  } finally {
    await gw.close({ drainMs: 500 });
    await mock.close();
    await dir.cleanup();
  }
});

const obs = (seenAt: number, u: number, reset: number): UnifiedObservation => ({
  seenAt, status: 'allowed', representativeClaim: 'five_hour', overageStatus: null,
  fiveHour: { utilization: u, resetsAt: reset, status: 'allowed', surpassedThreshold: null }, sevenDay: null, headers: {},
});

test('report blocks: exact utilization where headers were seen, a marked estimate elsewhere (hand-computed)', { timeout: 30_000 }, async () => {
  const dir = await tempDir('sluice-blocks-ul-');
  try {
    const ledger = openLedger(join(dir.path, 'ledger.sqlite'));
    const t = (d: number, h: number, m: number) => Date.UTC(2026, 8, d, h, m);
    const pattern: [number, number][] = [
      [t(1, 10, 15), 1], [t(1, 11, 40), 2], [t(1, 14, 59), 3], // 10:00-15:00, $6, no headers
      [t(1, 15, 0), 4], [t(1, 15, 30), 5], //                      15:00-20:00, $9, seen 18% (and 10% of another account)
      [t(1, 23, 10), 6], [t(2, 3, 59), 7], //                      23:00-04:00, $13, no headers
      [t(2, 4, 0), 8], //                                          04:00-09:00, $8, seen 32%
    ];
    ledger.write(pattern.map(([ts, usd], i) => makeRow({ id: `u${i}`, tsStart: ts, tsEnd: ts + 1000, outputTokens: 100, costPico: usd * 1e12, requestedModel: 'claude-opus-4-6', servedModel: 'claude-opus-4-6' })));
    ledger.close();
    const doc: UsageLimitsDoc = { schema: 'sluice.usage-limits/1', accounts: [
      { account: 'account:a', latest: obs(t(2, 4, 1), 0.32, t(2, 8, 0)), windows: [obs(t(1, 15, 31), 0.18, t(1, 19, 0)), obs(t(2, 4, 1), 0.32, t(2, 8, 0))] },
      { account: 'account:b', latest: obs(t(1, 16, 0), 0.1, t(1, 20, 0)), windows: [obs(t(1, 16, 0), 0.1, t(1, 20, 0))] },
    ] };
    const ro = openReadOnly(dir.path)!;
    const rep = buildReport(ro.q, 'blocks', {}, t(2, 5, 0), doc);
    ro.close();
    const blocks = (rep.rows as BlockRow[]).filter((b) => b.kind === 'block');
    // The estimate scales a block's cost by the latest seen block's cost per percent: 32% / $8.
    assert.deepEqual(blocks.map((b) => [b.costUsd, b.utilization, b.estimated, b.estimatedUtilization ?? null]), [
      [6, null, true, (6 / 8) * 0.32],
      [9, 0.18, false, null],
      [13, null, true, (13 / 8) * 0.32],
      [8, 0.32, false, null],
    ]);
    const table = renderReport(rep, false, t(2, 5, 0));
    assert.match(table, /≈24% est\./);
    assert.match(table, /≈52% est\./);
    assert.match(table, /\b18%/);
    assert.match(table, /\b32%/);
    // Nothing recorded at all: no basis, so "est." alone.
    const ro2 = openReadOnly(dir.path)!;
    const bare = buildReport(ro2.q, 'blocks', {}, t(2, 5, 0), null);
    ro2.close();
    assert.ok((bare.rows as BlockRow[]).filter((b) => b.kind === 'block').every((b) => b.utilization === null && b.estimated && b.estimatedUtilization === null));
  } finally {
    await dir.cleanup();
  }
});
