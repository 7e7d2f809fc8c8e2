// OTLP export end to end: requests through a real gateway and the mock upstream, spans and
// metrics decoded by a local OTLP/HTTP receiver; then a collector that refuses, fails or hangs
// while requests keep flowing unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VERSION } from '../../proxy/version.js';
import { sendJson } from '../mock-upstream.js';
import { rawRequest } from '../helpers.js';
import { ADMIN_TOKEN, startObserveStack, startOtlpReceiver, waitFor, type Received } from './stack.js';

const MARKER = 'MARKER-7f3a-do-not-export';

function attrs(list: { key: string; value: Record<string, unknown> }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list) {
    if ('stringValue' in value) out[key] = value.stringValue;
    else if ('intValue' in value) out[key] = Number(value.intValue);
    else if ('doubleValue' in value) out[key] = value.doubleValue;
    else if ('boolValue' in value) out[key] = value.boolValue;
    else if ('arrayValue' in value) out[key] = (value.arrayValue as { values: { stringValue: string }[] }).values.map((v) => v.stringValue);
  }
  return out;
}

const spansOf = (got: Received[]) => got.filter((g) => g.path === '/v1/traces').flatMap((g) => g.json.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));

test('spans and metrics for known requests carry the right attributes, and no prompt text', { timeout: 20_000 }, async () => {
  const rx = await startOtlpReceiver('ok');
  const s = await startObserveStack({
    observe: { otlp: { enabled: true, endpoint: rx.url, intervalMs: 60_000, headers: { 'x-scope': 'team-a' }, secretHeader: 'authorization' } },
  });
  try {
    await s.secrets.set('observe:otlp', 'Bearer test-key-1');
    const ok1 = await s.ask(`first ${MARKER}`, { sessionId: 'sess-aaa' });
    const ok2 = await s.ask(`second ${MARKER}`, { stream: false, sessionId: 'sess-bbb' });
    assert.equal(ok1.status, 200);
    assert.equal(ok2.status, 200);
    s.mock.setBehavior((req, res) => sendJson(req, res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } }));
    const bad = await s.ask(`third ${MARKER}`);
    assert.equal(bad.status, 400);
    assert.ok(s.mock.requests.some((r) => r.body.includes(MARKER)), 'the marker did travel upstream');
    await s.gw.flushUsage();
    await s.ext.flush();

    const rows = s.gw.ledger!.requestsInRange({}).requests;
    assert.equal(rows.length, 3);
    const traces = rx.got.filter((g) => g.path === '/v1/traces');
    assert.equal(traces.length, 1, 'one batch');
    const t = traces[0]!;
    assert.match(String(t.headers['content-type']), /^application\/json/);
    assert.equal(t.headers.authorization, 'Bearer test-key-1');
    assert.equal(t.headers['x-scope'], 'team-a');
    const rs = t.json.resourceSpans[0];
    assert.deepEqual(attrs(rs.resource.attributes), { 'service.name': 'sluice', 'service.version': VERSION });
    const spans = spansOf(rx.got);
    assert.equal(spans.length, 3);
    for (const row of rows) {
      const span = spans.find((x: any) => attrs(x.attributes)['sluice.request_id'] === row.id);
      assert.ok(span, `a span for ${row.id}`);
      const a = attrs(span.attributes);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      assert.equal(span.kind, 3);
      assert.equal(span.name, 'chat claude-sonnet-4-5-20250929');
      assert.equal(span.startTimeUnixNano, String(BigInt(row.tsStart) * 1_000_000n));
      assert.equal(span.endTimeUnixNano, String(BigInt(row.tsEnd) * 1_000_000n));
      assert.equal(a['gen_ai.provider.name'], 'anthropic');
      assert.equal(a['gen_ai.system'], 'anthropic');
      assert.equal(a['gen_ai.operation.name'], 'chat');
      assert.equal(a['gen_ai.request.model'], 'claude-sonnet-4-5-20250929');
      assert.equal(a['sluice.tool'], 'tool-a');
      assert.equal(a['sluice.session_id'], row.sessionId ?? undefined);
      assert.equal(a['sluice.tag.team'], 'infra');
      assert.equal(a['sluice.tag.project'], 'apollo');
      assert.equal(a['sluice.target'], 'anthropic');
      assert.equal(a['sluice.attempts'], 1);
      assert.equal(a['sluice.fallback'], false);
      assert.equal(a['http.response.status_code'], row.status);
      if (row.status === 200) {
        assert.deepEqual(span.status, {});
        assert.equal(a['gen_ai.response.model'], 'claude-sonnet-4-5-20250929');
        assert.equal(a['gen_ai.response.id'], row.messageId);
        assert.match(String(a['gen_ai.response.id']), /^msg_mock_/);
        assert.deepEqual(a['gen_ai.response.finish_reasons'], ['end_turn']);
        // Mock usage: 12 input + 100 cache write + 2000 cache read, 9 output.
        assert.equal(a['gen_ai.usage.input_tokens'], 2112);
        assert.equal(a['gen_ai.usage.output_tokens'], 9);
        assert.equal(a['gen_ai.usage.cache_creation.input_tokens'], 100);
        assert.equal(a['gen_ai.usage.cache_read.input_tokens'], 2000);
        assert.ok(row.costPico! > 0);
        assert.equal(a['sluice.cost_usd'], row.costPico! / 1e12);
      } else {
        assert.equal(span.status.code, 2);
        assert.equal(a['error.type'], 'invalid_request_error');
        assert.equal(a['gen_ai.usage.input_tokens'], undefined);
      }
    }
    assert.deepEqual(rows.map((r) => r.sessionId).filter(Boolean).sort(), ['sess-aaa', 'sess-bbb']);

    const metrics = rx.got.filter((g) => g.path === '/v1/metrics');
    assert.equal(metrics.length, 1);
    const ms = new Map<string, any>(metrics[0]!.json.resourceMetrics[0].scopeMetrics[0].metrics.map((m: any) => [m.name, m]));
    const requests = ms.get('sluice.requests').sum;
    assert.equal(requests.aggregationTemporality, 2);
    const byClass = new Map<string, number>();
    for (const p of requests.dataPoints) byClass.set(String(attrs(p.attributes)['sluice.status_class']), (byClass.get(String(attrs(p.attributes)['sluice.status_class'])) ?? 0) + Number(p.asInt));
    assert.deepEqual(Object.fromEntries(byClass), { '2xx': 2, '4xx': 1 });
    const cost = ms.get('sluice.cost').sum.dataPoints;
    const pico = rows.reduce((x, r) => x + (r.billed ? r.costPico ?? 0 : 0), 0);
    assert.equal(cost.length, 1);
    assert.ok(Math.abs(cost[0].asDouble - pico / 1e12) < 1e-15);
    assert.equal(attrs(cost[0].attributes)['sluice.tag.team'], 'infra');
    const usage = ms.get('gen_ai.client.token.usage').histogram.dataPoints;
    const out = usage.find((p: any) => attrs(p.attributes)['gen_ai.token.type'] === 'output');
    assert.equal(out.count, '2');
    assert.equal(out.sum, 18);
    const dur = ms.get('gen_ai.client.operation.duration');
    assert.equal(dur.unit, 's');
    assert.equal(dur.histogram.dataPoints.reduce((x: number, p: any) => x + Number(p.count), 0), 3);

    // With capture off nothing of the prompt or the completion leaves the machine.
    for (const g of rx.got) {
      assert.ok(!g.raw.includes(MARKER), `${g.path} holds the prompt marker`);
      assert.ok(!g.raw.includes('Hello from the mock'), `${g.path} holds completion text`);
      assert.ok(!g.raw.includes('sk-sluice-') && !g.raw.includes('FAKEPROVIDERKEY'), `${g.path} holds a credential`);
    }
    const st = s.ext.status().otlp;
    assert.equal(st.exportedSpans, 3);
    assert.equal(st.metricExports, 1);
    assert.equal(st.droppedSpans, 0);
    assert.equal(st.failedExports, 0);
  } finally {
    await s.close();
    await rx.close();
  }
});

test('a hanging collector never slows requests; the queue stays bounded and drops are counted', { timeout: 20_000 }, async () => {
  const rx = await startOtlpReceiver('hang');
  const s = await startObserveStack({ observe: { otlp: { enabled: true, endpoint: rx.url, intervalMs: 100, timeoutMs: 2500, maxBatch: 2, maxQueue: 3, metrics: false } } });
  try {
    assert.equal((await s.ask('warm-up')).status, 200);
    await waitFor(() => rx.arrived >= 1, 5000, 'the exporter to reach the hanging collector');
    assert.equal(s.ext.otlp.status().exporting, true);
    const latencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const r = await s.ask(`request ${i}`);
      latencies.push(performance.now() - t0);
      assert.equal(r.status, 200);
    }
    // The export is still stuck (its timeout is 2.5 s) while every request has been answered.
    assert.equal(s.ext.otlp.status().exporting, true, 'the collector is still hanging');
    assert.ok(Math.max(...latencies) < 1000, `request latencies ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`);
    await s.gw.flushUsage();
    await waitFor(() => s.ext.otlp.status().droppedSpans >= 4, 3000, 'drops to be counted');
    const st = s.ext.otlp.status();
    assert.ok(st.queued <= 3, `queued ${st.queued}`);
    assert.equal(st.exportedSpans, 0);
    // 7 rows, room for 3: the 4 oldest are gone.
    assert.equal(st.droppedSpans, 4);
    await waitFor(() => s.ext.otlp.status().failedExports >= 1, 5000, 'the hung export to time out');
    assert.match(s.ext.otlp.status().lastError!, /no answer within 2500 ms/);
  } finally {
    await s.close();
    await rx.close();
  }
});

test('connection refused and HTTP 500: requests unaffected, failures counted with the last error', { timeout: 20_000 }, async () => {
  const gone = await startOtlpReceiver('ok');
  const deadUrl = gone.url;
  await gone.close();
  const s = await startObserveStack({ observe: { otlp: { enabled: true, endpoint: deadUrl, intervalMs: 100, maxQueue: 100 } } });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await s.ask(`q${i}`)).status, 200);
    await s.gw.flushUsage();
    await waitFor(() => s.ext.otlp.status().failedExports >= 1, 5000, 'a refused export');
    const st = s.ext.otlp.status();
    assert.match(st.lastError!, /ECONNREFUSED/);
    assert.equal(st.exportedSpans, 0);
    // Refused connections are retryable: the spans wait (bounded) for the collector.
    assert.equal(st.droppedSpans, 0);
    assert.equal(st.queued, 3);
    assert.ok(s.logs.filter((l) => l.includes('OTLP export')).length === 1, 'one warning per failure streak');
  } finally {
    await s.close();
  }

  const rx = await startOtlpReceiver(500);
  const s2 = await startObserveStack({ observe: { otlp: { enabled: true, endpoint: rx.url, intervalMs: 60_000, metrics: false } } });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await s2.ask(`q${i}`)).status, 200);
    await s2.gw.flushUsage();
    await s2.ext.flush();
    const st = s2.ext.otlp.status();
    assert.equal(rx.got.length, 1);
    assert.match(st.lastError!, /HTTP 500/);
    assert.equal(st.failedExports, 1);
    // 500 is not retryable in OTLP/HTTP: the batch is dropped and counted.
    assert.equal(st.droppedSpans, 2);
    assert.equal(st.queued, 0);
  } finally {
    await s2.close();
    await rx.close();
  }
});

test('export is off by default; the status route needs the admin credential', async () => {
  const rx = await startOtlpReceiver('ok');
  const s = await startObserveStack({ observe: { otlp: { endpoint: rx.url, intervalMs: 100 } } });
  try {
    assert.equal((await s.ask('hello')).status, 200);
    await s.gw.flushUsage();
    await s.ext.flush();
    assert.equal(rx.arrived, 0);
    assert.equal(s.ext.otlp.status().queued, 0);
    const denied = await rawRequest(`${s.gw.url}/admin/api/observe/status`);
    assert.equal(denied.status, 401);
    assert.equal(JSON.parse(denied.body.toString()).error.type, 'gateway_authentication_error');
    const ok = await rawRequest(`${s.gw.url}/admin/api/observe/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(ok.status, 200);
    const body = JSON.parse(ok.body.toString());
    assert.equal(body.otlp.enabled, false);
    assert.equal(body.otlp.endpoint, rx.url);
    assert.equal(body.otlp.exportedSpans, 0);
    assert.deepEqual(body.webhooks.hooks, []);
  } finally {
    await s.close();
    await rx.close();
  }
});
