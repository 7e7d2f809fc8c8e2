// 100 concurrent requests against a nearly exhausted daily budget, through the real gateway and
// the mock upstream (whose usage makes the real costs): reservations admit exactly what fits,
// spend never passes the limit (the stated bound is 0 when estimates are upper bounds), and the
// refused requests get the budget refusal (429 billing_error, x-should-retry: false, retry-after to
// local midnight) naming the budget and the command that raises it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest } from '../helpers.js';
import { messageJson, sendJson, sleep } from '../mock-upstream.js';
import { startControlStack, messagesBody, type ControlStack } from './stack.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { createPriceBook, loadBundledPrices } from '../../proxy/pricing/index.js';
import { estimateCost, worstCasePrice } from '../../proxy/control/estimate.js';

const USAGE = { input_tokens: 1500, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
// Sonnet 4.5: 1500 x $3/M + 50 x $15/M = $0.00525 per request, exactly.
const REAL_COST_PICO = 1500 * 3_000_000 + 50 * 15_000_000;
const LIMIT_USD = 1;
const PRESPENT_PICO = 950_000_000_000; // $0.95

let s: ControlStack;
// Admitted requests are held at the mock until every request of the wave has been admitted or
// refused, so all admitted ones are in flight together (the race the reservations must win).
let gate: Promise<void> = Promise.resolve();
let openGate: () => void = () => {};
before(async () => {
  s = await startControlStack({
    control: { budgets: { dailyUsd: LIMIT_USD } },
    behavior: async (req, res) => {
      await gate;
      sendJson(req, res, 200, messageJson({ usage: USAGE, outputTokens: 50 }));
    },
  });
  const now = Date.now();
  s.gw.ledger!.write([makeRow({ id: 'prespent', tsStart: now - 1000, tsEnd: now - 500, tool: 'earlier', costPico: PRESPENT_PICO, sessionId: null })]);
});
after(() => s.close());

test('reservations keep 100 concurrent requests within the daily budget', async () => {
  const body = messagesBody({ pad: 7000 });
  const table = await loadBundledPrices();
  const est = estimateCost(createPriceBook(table), worstCasePrice(table), 'claude-sonnet-4-5-20250929', Buffer.from(body), 64);
  assert.ok(est.pico > REAL_COST_PICO, 'the estimate over-estimates this request');
  const limitPico = LIMIT_USD * 1e12;

  let spentPico = PRESPENT_PICO;
  let admittedTotal = 0;
  let wave = 0;
  for (;;) {
    wave++;
    const forwardedBefore = s.mock.requests.length;
    gate = new Promise((r) => { openGate = r; });
    let refusedSoFar = 0;
    const pending = Promise.all(Array.from({ length: 100 }, () => rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body })
      .then((r) => { if (r.status !== 200) refusedSoFar++; return r; })));
    while (s.mock.requests.length - forwardedBefore + refusedSoFar < 100) await sleep(5);
    openGate();
    const results = await pending;
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    // Exactly what fits beside the settled spend at the worst-case estimate.
    assert.equal(ok.length, Math.floor((limitPico - spentPico) / est.pico), `wave ${wave}`);
    assert.equal(s.mock.requests.length - forwardedBefore, ok.length, 'refused requests never reach upstream');
    for (const r of refused) {
      assert.equal(r.status, 429);
      assert.equal(r.headers['x-sluice-error-code'], 'GATEWAY_BUDGET_EXCEEDED');
      assert.equal(r.headers['x-should-retry'], 'false');
      assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/);
      assert.ok(Number(r.headers['retry-after']) <= 86_400, 'at most a day to the daily reset');
      const err = JSON.parse(r.body.toString()).error;
      assert.equal(err.type, 'billing_error');
      assert.match(err.message, /the daily budget \(all tools\) \(\$1\.00/);
      assert.match(err.message, /sluice budget set daily <usd>/);
    }
    await s.gw.flushUsage();
    spentPico += ok.length * REAL_COST_PICO;
    admittedTotal += ok.length;
    const totals = s.gw.ledger!.totals({ since: Date.now() - 86_400_000, until: Date.now() + 1000 });
    assert.equal(Math.round(totals.costUsd! * 1e12), spentPico);
    assert.ok(spentPico <= limitPico, `overspend: ${spentPico} > ${limitPico}`);
    if (ok.length === 0) break;
  }
  assert.ok(admittedTotal >= 5 && wave >= 3, 'settling the real (lower) cost released room for later waves');
  const budgetAlerts = s.alerts.filter((a) => a.kind === 'budget');
  assert.deepEqual(budgetAlerts.map((a) => a.data?.threshold), [0.5, 0.8], 'each threshold once; 100% never reached');
  const status = await s.ext.status();
  const daily = status.budgets.find((b) => b.id === 'daily')!;
  assert.equal(daily.reservedPico, 0);
  assert.equal(daily.inFlight, 0);
  assert.equal(daily.settledPico, spentPico);
});
