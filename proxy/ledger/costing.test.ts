// rowFromReport and its helpers: pure functions, expected values worked out by hand from the
// fixture price table (test-sonnet: $3 in, $15 out, $3.75 5m write, $6 1h write, $0.30 read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UsageReport } from '../meter/usage-tap.js';
import { endpointOf, rowFromReport, splitUsage, type GatewayRequestContext } from './costing.js';
import { testPriceBook } from './fixtures/rows.js';

const book = testPriceBook();

function ctx(over: Partial<GatewayRequestContext> = {}): GatewayRequestContext {
  return {
    id: 'sluice_abc',
    tsStart: 1_000,
    tsEnd: 3_500,
    method: 'POST',
    path: '/v1/messages?beta=true',
    caller: { kind: 'token', tokenName: 'laptop-cc' },
    client: { family: 'claude-code', version: '2.1.197' },
    session: { sessionId: 'sess-1', source: 'header' },
    agent: { agentId: 'agent-1', parentAgentId: null },
    requestedModel: 'test-sonnet',
    stream: true,
    bytesIn: 76_000,
    provider: 'anthropic',
    keyId: 'anthropic:2',
    ttfbMs: 340.5,
    totalMs: 2_500,
    upstreamRequestId: 'req_upstream1',
    status: 200,
    ...over,
  };
}

function report(over: Partial<UsageReport> = {}): UsageReport {
  return {
    kind: 'message',
    streamed: true,
    status: 200,
    usage: { input_tokens: 1000, output_tokens: 500 },
    countTokens: null,
    servedModel: 'test-sonnet',
    messageId: 'msg_1',
    stopReason: 'end_turn',
    complete: true,
    aborted: false,
    error: null,
    parseError: null,
    bytes: 4321,
    contentDeltas: 40,
    ...over,
  };
}

test('a priced streamed message: tokens, cache split, exact cost and metadata', () => {
  const row = rowFromReport(ctx(), report({
    usage: {
      input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 3000, cache_read_input_tokens: 10_000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 1500 },
    },
  }), book);
  // 5m = 1000 + the 500 the parts do not cover; 1h = 1500.
  assert.equal(row.cacheWrite5mTokens, 1500);
  assert.equal(row.cacheWrite1hTokens, 1500);
  // 1000x3 + 500x15 + 1500x3.75 + 1500x6 + 10000x0.3 = 3000 + 7500 + 5625 + 9000 + 3000 = 28,125 micro-USD
  assert.equal(row.costPico, 28_125_000_000);
  assert.deepEqual(
    { ...row },
    {
      id: 'sluice_abc', tsStart: 1_000, tsEnd: 3_500, sessionId: 'sess-1', sessionSource: 'header', agentId: 'agent-1', parentAgentId: null,
      tool: 'laptop-cc', callerKind: 'token', clientFamily: 'claude-code', clientVersion: '2.1.197', method: 'POST', path: '/v1/messages',
      endpoint: 'messages', requestedModel: 'test-sonnet', servedModel: 'test-sonnet', stream: true, status: 200, stopReason: 'end_turn',
      errorType: null, ttfbMs: 340.5, totalMs: 2_500, upstreamRequestId: 'req_upstream1', messageId: 'msg_1', bytesIn: 76_000, bytesOut: 4321,
      provider: 'anthropic', keyId: 'anthropic:2', inputTokens: 1000, outputTokens: 500, cacheWrite5mTokens: 1500, cacheWrite1hTokens: 1500,
      cacheReadTokens: 10_000, webSearchRequests: 0, costPico: 28_125_000_000, billed: true, complete: true, source: 'gateway', project: null,
    },
  );
});

test('routing fields are copied to the row, and only the delivered response is billed', () => {
  const attempts = [
    { n: 1, ts: 1_000, target: 'anthropic', keyId: 'anthropic', model: 'test-sonnet', status: 529, error: 'overloaded_error', durationMs: 90, waitMs: 0 },
    { n: 2, ts: 1_600, target: 'anthropic-eu', keyId: 'anthropic-eu', model: 'test-sonnet', status: 200, error: null, durationMs: 1_800, waitMs: 510 },
  ];
  const tags = { team: 'infra', costCentre: 'cc-42' };
  const features = { promptTokens: 12_000 };
  const c = ctx({ target: 'anthropic-eu', attemptsMade: 2, fallback: true, route: 'eu', arm: 'B', tags, tier: 'complex', features, redacted: true, attempts });
  const row = rowFromReport(c, report(), book);
  // The same $0.0105 as a single-attempt request: the 529 attempt costs nothing.
  assert.equal(row.costPico, 10_500_000_000);
  assert.equal(row.billed, true);
  assert.deepEqual(
    [row.target, row.attemptsMade, row.fallback, row.route, row.arm, row.tags, row.tier, row.features, row.redacted, row.attempts],
    ['anthropic-eu', 2, true, 'eu', 'B', { team: 'infra', costCentre: 'cc-42' }, 'complex', { promptTokens: 12_000 }, true, attempts],
  );
  // Later changes to the context must not reach a row that is already queued.
  attempts[0]!.status = 200;
  c.attempts!.push({ ...attempts[1]!, n: 3 });
  tags.team = 'web';
  features.promptTokens = 1;
  assert.deepEqual([row.attempts!.length, row.attempts![0]!.status, row.tags!.team, row.features!.promptTokens], [2, 529, 'infra', 12_000]);
  // Explicit nulls are kept as nulls, not dropped.
  const nulls = rowFromReport(ctx({ target: null, tags: null, features: null, route: null }), report(), book);
  assert.deepEqual([nulls.target, nulls.tags, nulls.features, nulls.route, 'arm' in nulls], [null, null, null, null, false]);
});

test('passthrough callers are attributed to their client family', () => {
  const row = rowFromReport(ctx({ caller: { kind: 'passthrough' }, client: { family: 'cline', version: null } }), report(), book);
  assert.equal(row.tool, 'cline');
  assert.equal(row.callerKind, 'passthrough');
  // 1000 x $3/M + 500 x $15/M = $0.0105
  assert.equal(row.costPico, 10_500_000_000);
});

test('the served model prices the request, the requested one when nothing was served', () => {
  const opus = rowFromReport(ctx({ requestedModel: 'test-sonnet' }), report({ servedModel: 'test-opus' }), book);
  // 1000 x $5/M + 500 x $25/M = $0.0175
  assert.equal(opus.costPico, 17_500_000_000);
  const fallback = rowFromReport(ctx({ requestedModel: 'test-opus' }), report({ servedModel: null }), book);
  assert.equal(fallback.costPico, 17_500_000_000);
});

test('an unknown model is unpriced (null), not free', () => {
  const row = rowFromReport(ctx({ requestedModel: 'mystery' }), report({ servedModel: 'mystery' }), book);
  assert.equal(row.billed, true);
  assert.equal(row.costPico, null);
  assert.equal(row.inputTokens, 1000);
});

test('count_tokens is never billed', () => {
  const row = rowFromReport(ctx({ path: '/v1/messages/count_tokens' }),
    report({ kind: 'count_tokens', streamed: false, usage: null, countTokens: 1234, servedModel: null, messageId: null, stopReason: null }), book);
  assert.equal(row.endpoint, 'count_tokens');
  assert.equal(row.billed, false);
  assert.equal(row.costPico, 0);
  assert.equal(row.inputTokens, 0);
  assert.equal(row.errorType, null);
});

test('a failed attempt is an error and not billed', () => {
  const row = rowFromReport(ctx({ status: 529 }), report({
    kind: 'error', status: 529, usage: null, servedModel: null, messageId: null, stopReason: null, error: { type: 'overloaded_error', message: 'Overloaded' },
  }), book);
  assert.equal(row.status, 529);
  assert.equal(row.errorType, 'overloaded_error');
  assert.equal(row.billed, false);
  assert.equal(row.costPico, 0);
  const bare = rowFromReport(ctx({ status: 502 }), report({ kind: 'other', status: 502, usage: null, error: null }), book);
  assert.equal(bare.errorType, 'http_502');
});

test('no upstream response: status null, the gateway error code as the error type', () => {
  const row = rowFromReport(ctx({ status: null, gatewayErrorCode: 'GATEWAY_UPSTREAM_TIMEOUT', ttfbMs: null }), null, book);
  assert.equal(row.status, null);
  assert.equal(row.errorType, 'GATEWAY_UPSTREAM_TIMEOUT');
  assert.equal(row.billed, false);
  assert.equal(row.bytesOut, 0);
  assert.equal(row.complete, false);
  assert.equal(rowFromReport(ctx({ status: null }), null, book).errorType, 'no_response');
});

test('a stream cut off after message_start still bills what it reported', () => {
  const row = rowFromReport(ctx(), report({ complete: false, aborted: true, usage: { input_tokens: 2000, output_tokens: 0 }, stopReason: null, contentDeltas: 0 }), book);
  assert.equal(row.billed, true);
  assert.equal(row.complete, false);
  assert.equal(row.costPico, 6_000_000_000);
  assert.equal(row.estimated, 'upstream_cut');
});

test('a cancelled stream bills the deltas delivered when they pass the reported output, and says why', () => {
  const cut = report({ complete: false, aborted: true, usage: { input_tokens: 2000, output_tokens: 1 }, stopReason: null, contentDeltas: 25 });
  const row = rowFromReport(ctx({ clientLeft: true }), cut, book);
  assert.equal(row.outputTokens, 25);
  assert.equal(row.estimated, 'client_cancelled');
  assert.equal(row.costPico, rowFromReport(ctx(), report({ usage: { input_tokens: 2000, output_tokens: 25 } }), book).costPico);
  // A message_delta already seen (cumulative usage above the delta count) is kept as reported.
  const late = rowFromReport(ctx({ clientLeft: true }), report({ complete: false, usage: { input_tokens: 2000, output_tokens: 90 }, contentDeltas: 25 }), book);
  assert.equal(late.outputTokens, 90);
  assert.equal(late.estimated, 'client_cancelled');
  // A complete response is exact whatever the delta count.
  const whole = rowFromReport(ctx({ clientLeft: true }), report({ contentDeltas: 900 }), book);
  assert.equal(whole.outputTokens, 500);
  assert.equal(whole.estimated, undefined);
});

test('batch requests are priced at half', () => {
  const row = rowFromReport(ctx({ batch: true }), report(), book);
  assert.equal(row.costPico, 5_250_000_000);
});

test('splitUsage without the ephemeral parts counts every write as 5-minute', () => {
  assert.deepEqual(splitUsage({ input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 700, cache_read_input_tokens: 9, server_tool_use: { web_search_requests: 3 } }), {
    inputTokens: 1, outputTokens: 2, cacheWrite5mTokens: 700, cacheWrite1hTokens: 0, cacheReadTokens: 9, webSearchRequests: 3,
  });
  // Parts above the total win (pricing's rule).
  assert.deepEqual(splitUsage({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 100, cache_creation: { ephemeral_5m_input_tokens: 80, ephemeral_1h_input_tokens: 70 } }), {
    inputTokens: 0, outputTokens: 0, cacheWrite5mTokens: 80, cacheWrite1hTokens: 70, cacheReadTokens: 0, webSearchRequests: 0,
  });
  assert.equal(splitUsage(null).inputTokens, 0);
});

test('splitUsage agrees with the price book on the cost of the split', () => {
  const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 5000, cache_creation: { ephemeral_1h_input_tokens: 1000 } };
  const s = splitUsage(usage);
  assert.deepEqual([s.cacheWrite5mTokens, s.cacheWrite1hTokens], [4000, 1000]);
  // 4000 x 3.75 + 1000 x 6 = 21,000 micro-USD, which is what the price book charges for the same usage.
  assert.equal(book.cost('test-sonnet', usage).costPicoUsd, 21_000_000_000);
});

test('endpointOf classifies routes', () => {
  assert.equal(endpointOf('/v1/messages'), 'messages');
  assert.equal(endpointOf('/v1/messages?beta=true'), 'messages');
  assert.equal(endpointOf('/v1/chat/completions'), 'messages');
  assert.equal(endpointOf('/v1/messages/count_tokens?beta=true'), 'count_tokens');
  assert.equal(endpointOf('/v1/models'), 'models');
  assert.equal(endpointOf('/v1/models/claude-opus-4-8'), 'models');
  assert.equal(endpointOf('/v1/messages/batches/msgbatch_1/results'), 'batches');
  assert.equal(endpointOf('/'), 'other');
  assert.equal(endpointOf('/v1/messagesx'), 'other');
});
