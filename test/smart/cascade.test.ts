// Cascades through a real gateway: the cheap step's answer is held back while it could still
// escalate (429, 529, a 500, a refusal or max_tokens stop reason) and the next step serves; each
// escalation is a ledger attempt. Once a byte reached the client (a stream past the hold limit,
// a trigger the rule does not hold for) nothing escalates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, rawRequest, startStack, type Stack } from '../helpers.js';
import {
  anthropicBehavior, messageJson, messageStreamEvents, sendJson, sseEvent, streamEvents, type Behavior,
} from '../mock-upstream.js';
import { HOLD_LIMIT_BYTES } from '../../proxy/pipeline/forward.js';
import type { RequestRecord } from '../../proxy/ledger/types.js';
import type { CascadeTrigger } from '../../proxy/smart/index.js';

const CHEAP = 'test-cheap-1';
const TOP = 'test-top-1';

let s: Stack;
before(async () => {
  // `lite` is a second provider on the same mock, so a 429 there does not rest the anthropic key.
  s = await startStack({ tokenName: 'claude-code', env: { SLUICE_LITE_API_KEY: 'test-key-lite' } });
});
after(async () => { await s.close(); });

async function configure(triggers: CascadeTrigger[], errorStatuses?: number[]): Promise<void> {
  await s.gw.settings.update((st) => {
    st.providers.lite = { type: 'anthropic-compatible', baseUrl: s.mock.url } as never;
    // Failures here are the point of the test: the breaker must not take `lite` out between tests.
    st.resilience.breaker.failureThreshold = 1000;
    st.routing.smart.cascades = [{ name: 'up', tiers: [{ provider: 'lite', model: CHEAP }, { provider: 'anthropic', model: TOP }], triggers, ...(errorStatuses ? { errorStatuses } : {}) }] as never;
    st.routing.rules = [{ name: 'casc', match: {}, cascade: 'up', fallbacks: [] }] as never;
  });
}

/** The cheap model answers with `cheap`; every other model as the real API would. */
function cheapAnswers(cheap: Behavior): Behavior {
  return async (req, res, mock) => {
    const model = JSON.parse(req.body.toString()).model;
    if (model === CHEAP) await cheap(req, res, mock);
    else await anthropicBehavior(req, res, mock);
  };
}

const request = (stream: boolean) => JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, stream, messages: [{ role: 'user', content: 'hello' }] });

async function rowOf(upstreamRequestId: string): Promise<RequestRecord> {
  await s.gw.flushUsage();
  const row = s.gw.ledger!.requestsInRange().requests.find((r) => r.upstreamRequestId === upstreamRequestId);
  assert.ok(row, `ledger row of ${upstreamRequestId}`);
  return row;
}

const cases: { name: string; triggers: CascadeTrigger[]; errorStatuses?: number[]; stream: boolean; cheap: Behavior; status: number; error: string }[] = [
  {
    name: '529 overloaded', triggers: ['overloaded'], stream: true, status: 529, error: 'escalated:overloaded',
    cheap: (req, res) => sendJson(req, res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  },
  {
    name: 'a 500 with error_status', triggers: ['error_status'], stream: true, status: 500, error: 'escalated:error_status',
    cheap: (req, res) => sendJson(req, res, 500, { type: 'error', error: { type: 'api_error', message: 'boom' } }),
  },
  {
    name: 'a listed 4xx with error_status', triggers: ['error_status'], errorStatuses: [400], stream: false, status: 400, error: 'escalated:error_status',
    cheap: (req, res) => sendJson(req, res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'too hard' } }),
  },
  {
    name: 'refusal stop reason (JSON)', triggers: ['refusal'], stream: false, status: 200, error: 'escalated:refusal',
    cheap: (req, res) => sendJson(req, res, 200, messageJson({ model: CHEAP, text: 'CHEAP-REFUSED', stopReason: 'refusal' })),
  },
  {
    name: 'max_tokens stop reason (stream)', triggers: ['max_tokens'], stream: true, status: 200, error: 'escalated:max_tokens',
    cheap: (req, res) => streamEvents(req, res, messageStreamEvents({ model: CHEAP, text: 'CHEAP-CUT-SHORT', stopReason: 'max_tokens' })),
  },
  // Last: the 429 rests lite's only key for a second, which later requests would feel.
  {
    name: '429 rate limit', triggers: ['rate_limit'], stream: false, status: 429, error: 'escalated:rate_limit',
    cheap: (req, res) => sendJson(req, res, 429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '1' }),
  },
];

test('a trigger the rule does not list is delivered from the first step', async () => {
  await configure(['rate_limit']);
  s.mock.setBehavior(cheapAnswers((req, res) => sendJson(req, res, 200, messageJson({ model: CHEAP, text: 'CHEAP-REFUSED', stopReason: 'refusal' }))));
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(false) });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-tier'], 'step-1');
  assert.equal(JSON.parse(res.body.toString()).stop_reason, 'refusal');
  const row = await rowOf(String(res.headers['request-id']));
  assert.deepEqual(row.attempts.map((a) => [a.model, a.error]), [[CHEAP, null]]);
});

test('a held answer that fires nothing is replayed byte for byte', async () => {
  await configure(['refusal', 'max_tokens']);
  s.mock.setBehavior(cheapAnswers((req, res) => streamEvents(req, res, messageStreamEvents({ model: CHEAP, text: 'CHEAP-FINE' }))));
  const before = s.mock.requests.length;
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(true) });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-tier'], 'step-1');
  assert.equal(s.mock.requests.length - before, 1);
  assert.ok(Buffer.concat(s.mock.requests.at(-1)!.sent).equals(res.body));
});

test('no escalation once the stream passed the hold limit', async () => {
  await configure(['max_tokens']);
  const bigText = 'x'.repeat(HOLD_LIMIT_BYTES + 64 * 1024);
  s.mock.setBehavior(cheapAnswers((req, res) => streamEvents(req, res, messageStreamEvents({ model: CHEAP, text: bigText, stopReason: 'max_tokens' }))));
  const before = s.mock.requests.length;
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(true) });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-tier'], 'step-1');
  assert.equal(s.mock.requests.length - before, 1, 'the top step was never asked');
  assert.match(res.body.toString(), /"stop_reason":"max_tokens"/);
  assert.ok(Buffer.concat(s.mock.requests.at(-1)!.sent).equals(res.body), 'the whole stream reached the client');
  const row = await rowOf(String(res.headers['request-id']));
  assert.deepEqual(row.attempts.map((a) => [a.model, a.error]), [[CHEAP, null]]);
  assert.equal(row.tier, 'step-1');
});

test('no escalation on an overload that shows only after bytes were sent', async () => {
  // Only status triggers: a 200 stream is not held, so an in-stream overload comes too late.
  await configure(['overloaded']);
  const events = messageStreamEvents({ model: CHEAP, text: 'CHEAP-PARTIAL' }).slice(0, 4);
  events.push(sseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
  s.mock.setBehavior(cheapAnswers((req, res) => streamEvents(req, res, events)));
  const before = s.mock.requests.length;
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(true) });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-tier'], 'step-1');
  assert.equal(s.mock.requests.length - before, 1);
  assert.match(res.body.toString(), /overloaded_error/);
  const row = await rowOf(String(res.headers['request-id']));
  assert.equal(row.attempts.length, 1);
});

test('the last step answers as it came: there is nowhere left to escalate', async () => {
  await configure(['overloaded']);
  s.mock.setBehavior(async (req, res) => sendJson(req, res, 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
  await s.gw.settings.update((st) => { st.resilience.retry.maxAttempts = 2; });
  try {
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(false) });
    assert.equal(res.status, 529);
    assert.equal(res.headers['x-sluice-tier'], 'step-2');
    const row = await rowOf(String(res.headers['request-id']));
    assert.deepEqual(row.attempts.map((a) => [a.model, a.status, a.error]), [[CHEAP, 529, 'escalated:overloaded'], [TOP, 529, null]]);
  } finally {
    await s.gw.settings.update((st) => { st.resilience.retry.maxAttempts = 5; });
  }
});

for (const c of cases) {
  test(`escalates on ${c.name} to the next step`, async () => {
    await configure(c.triggers, c.errorStatuses);
    s.mock.setBehavior(cheapAnswers(c.cheap));
    const before = s.mock.requests.length;
    const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: request(c.stream) });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['x-sluice-tier'], 'step-2');
    assert.equal(res.headers['x-sluice-served-by'], `anthropic; model=${TOP}`);
    assert.equal(res.headers['x-sluice-attempts'], '2');
    assert.ok(!res.body.toString().includes('CHEAP-'), 'nothing of the cheap answer reached the client');
    // The top step's own answer: the mock names the model it was asked for.
    assert.match(res.body.toString(), new RegExp(`"model":"${TOP}"`));
    assert.match(res.body.toString(), /"stop_reason":"end_turn"/);
    const sent = s.mock.requests.slice(before).map((r) => JSON.parse(r.body.toString()).model);
    assert.deepEqual(sent, [CHEAP, TOP]);
    const row = await rowOf(String(res.headers['request-id']));
    assert.equal(row.tier, 'step-2');
    assert.equal(row.route, 'casc');
    assert.equal(row.fallback, true);
    assert.deepEqual(row.attempts.map((a) => [a.target, a.model, a.status, a.error]), [
      ['lite', CHEAP, c.status, c.error],
      ['anthropic', TOP, 200, null],
    ]);
  });
}
