import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketIndex, createMetricsAggregator, resourceOf, spanFromRow, toAttributes, TOKEN_BUCKETS, type KeyValue } from './otlp.js';
import { attrMap, row } from './fixtures/rows.js';

test('toAttributes encodes ints as int64 strings, other numbers as doubles, drops null', () => {
  assert.deepEqual(toAttributes({ a: 3, b: 0.5, c: 'x', d: true, e: null, f: ['p', 'q'] }), [
    { key: 'a', value: { intValue: '3' } },
    { key: 'b', value: { doubleValue: 0.5 } },
    { key: 'c', value: { stringValue: 'x' } },
    { key: 'd', value: { boolValue: true } },
    { key: 'f', value: { arrayValue: { values: [{ stringValue: 'p' }, { stringValue: 'q' }] } } },
  ]);
});

test('a span carries the GenAI attributes, cost, routing and tags of its row', () => {
  const s = spanFromRow(row(), { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }, 'anthropic');
  assert.equal(s.name, 'chat claude-sonnet-4-5');
  assert.equal(s.kind, 3);
  assert.equal(s.startTimeUnixNano, '1700000000123000000');
  assert.equal(s.endTimeUnixNano, '1700000001456000000');
  assert.deepEqual(s.status, {});
  const a = attrMap(s.attributes);
  assert.equal(a['gen_ai.provider.name'], 'anthropic');
  assert.equal(a['gen_ai.system'], 'anthropic');
  assert.equal(a['gen_ai.operation.name'], 'chat');
  assert.equal(a['gen_ai.request.model'], 'claude-sonnet-4-5');
  assert.equal(a['gen_ai.response.model'], 'claude-sonnet-4-5-20250929');
  assert.equal(a['gen_ai.response.id'], 'msg_abc');
  assert.deepEqual(a['gen_ai.response.finish_reasons'], ['end_turn']);
  // Input includes cache writes and reads, as the conventions ask.
  assert.equal(a['gen_ai.usage.input_tokens'], 2112);
  assert.equal(a['gen_ai.usage.output_tokens'], 9);
  assert.equal(a['gen_ai.usage.cache_creation.input_tokens'], 100);
  assert.equal(a['gen_ai.usage.cache_read.input_tokens'], 2000);
  assert.equal(a['sluice.cost_usd'], 0.0012345);
  assert.equal(a['sluice.session_id'], 'sess-1');
  assert.equal(a['sluice.tool'], 'claude-code');
  assert.equal(a['sluice.attempts'], 2);
  assert.equal(a['sluice.fallback'], false);
  assert.equal(a['sluice.target'], 'anthropic');
  assert.equal(a['sluice.tag.team'], 'infra');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['error.type'], undefined);
});

test('an upstream error or a request without response marks the span as an error', () => {
  const e = spanFromRow(row({ status: 529, errorType: 'overloaded_error', billed: false, costPico: 0 }), { traceId: '1'.repeat(32), spanId: '2'.repeat(16) }, 'anthropic');
  assert.deepEqual(e.status, { code: 2, message: 'overloaded_error' });
  const a = attrMap(e.attributes);
  assert.equal(a['error.type'], 'overloaded_error');
  assert.equal(a['gen_ai.usage.input_tokens'], undefined, 'no usage on an unbilled row');
  assert.equal(a['sluice.cost_usd'], undefined);
  const none = spanFromRow(row({ status: null, errorType: 'GATEWAY_UPSTREAM_TIMEOUT', billed: false }), { traceId: '1'.repeat(32), spanId: '2'.repeat(16) }, 'anthropic');
  assert.equal(none.status.code, 2);
  assert.equal(attrMap(none.attributes)['http.response.status_code'], undefined);
});

test('bucketIndex: upper bounds are inclusive, past the last is the overflow bucket', () => {
  assert.equal(bucketIndex([1, 4, 16], 0), 0);
  assert.equal(bucketIndex([1, 4, 16], 1), 0);
  assert.equal(bucketIndex([1, 4, 16], 1.5), 1);
  assert.equal(bucketIndex([1, 4, 16], 16), 2);
  assert.equal(bucketIndex([1, 4, 16], 17), 3);
});

test('metrics are cumulative: token histogram by type, duration, request and cost sums', () => {
  const m = createMetricsAggregator(1_000);
  m.record(row(), 'anthropic');
  m.record(row({ id: 'r2', outputTokens: 5000, costPico: 2_000_000_000_000, totalMs: 250 }), 'anthropic');
  m.record(row({ id: 'r3', status: 500, errorType: 'api_error', billed: false, costPico: 0, totalMs: 40 }), 'anthropic');
  assert.equal(m.version(), 3);
  const req = m.toRequest(resourceOf('1.2.3'), { name: 'sluice', version: '1.2.3' }, 5_000) as {
    resourceMetrics: { resource: { attributes: KeyValue[] }; scopeMetrics: { metrics: Record<string, any>[] }[] }[];
  };
  const rm = req.resourceMetrics[0]!;
  assert.deepEqual(attrMap(rm.resource.attributes), { 'service.name': 'sluice', 'service.version': '1.2.3' });
  const byName = new Map(rm.scopeMetrics[0]!.metrics.map((x) => [x.name as string, x]));
  const tokens = byName.get('gen_ai.client.token.usage')!;
  assert.equal(tokens.unit, '{token}');
  assert.equal(tokens.histogram.aggregationTemporality, 2);
  const out = tokens.histogram.dataPoints.find((p: any) => attrMap(p.attributes)['gen_ai.token.type'] === 'output');
  assert.equal(out.count, '2');
  assert.equal(out.sum, 5009);
  assert.equal(out.min, 9);
  assert.equal(out.max, 5000);
  assert.deepEqual(out.explicitBounds, TOKEN_BUCKETS);
  // 9 falls in (4, 16], 5000 in (4096, 16384].
  const counts = out.bucketCounts.map(Number);
  assert.equal(counts[2], 1);
  assert.equal(counts[7], 1);
  assert.equal(counts.reduce((x: number, y: number) => x + y, 0), 2);
  assert.equal(out.startTimeUnixNano, '1000000000');
  assert.equal(out.timeUnixNano, '5000000000');
  const dur = byName.get('gen_ai.client.operation.duration')!;
  assert.equal(dur.unit, 's');
  const errPoint = dur.histogram.dataPoints.find((p: any) => attrMap(p.attributes)['error.type'] === 'api_error');
  assert.equal(errPoint.count, '1');
  assert.equal(errPoint.sum, 0.04);
  const reqs = byName.get('sluice.requests')!;
  assert.equal(reqs.sum.isMonotonic, true);
  const ok = reqs.sum.dataPoints.find((p: any) => attrMap(p.attributes)['sluice.status_class'] === '2xx');
  const bad = reqs.sum.dataPoints.find((p: any) => attrMap(p.attributes)['sluice.status_class'] === '5xx');
  assert.equal(ok.asInt, '2');
  assert.equal(bad.asInt, '1');
  assert.equal(attrMap(ok.attributes)['sluice.tag.team'], 'infra');
  const cost = byName.get('sluice.cost')!;
  assert.equal(cost.sum.dataPoints.length, 1);
  assert.equal(cost.sum.dataPoints[0].asDouble, 2.0012345);
});
