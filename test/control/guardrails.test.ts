// Guardrails through the real gateway: redaction changes exactly the matched bytes inside JSON
// strings (asserted on the bytes the mock received), block refuses with the detector named and
// the value never echoed, flag only reports, and a token without a guard is forwarded untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { requestStory } from '../../proxy/ledger/explain.js';
import { authHeaders, rawRequest } from '../helpers.js';
import { startControlStack, type ControlStack } from './stack.js';

const AKIA = `AKIA${'IOSFODNN7EXAMPLE'}`;
const ANT = `sk-ant-api03-${'FAKE'.repeat(6)}`;
let s: ControlStack;
before(async () => {
  s = await startControlStack({
    tokenNames: ['guarded', 'free'],
    control: {
      guardrails: {
        policies: [{
          name: 'default',
          match: { tokens: ['guarded'] },
          detectors: { email: 'redact', aws_access_key: 'redact', phone: 'flag', anthropic_key: 'block', private_key: 'block' },
          rules: [{ id: 'ticket', pattern: 'ACME-\\d{4}', action: 'redact' }],
        }],
      },
    },
  });
});
after(() => s.close());

const post = (token: string, body: string) => rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body });

test('redaction replaces only the matched bytes inside string values', async () => {
  // Escapes (\n, \u00e9, \"), multi-byte text and odd spacing must survive byte for byte.
  const raw = `{"model":"claude-sonnet-4-5-20250929", "max_tokens":64,"system":"admin ada@example.com",
  "messages":[{"role":"user","content":"caf\\u00e9 \\"mail\\" ada@example.com\\nkey ${AKIA} r\u00e9sum\u00e9 ACME-1234"},
  {"role":"assistant","content":[{"type":"text","text":"ok ACME-9999"}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"ada@example.com","content":[{"type":"text","text":"from bob@example.org, call 555-867-5309"}]}]}]}`;
  const r = await post(s.tokens.guarded!, raw);
  assert.equal(r.status, 200);
  const expected = raw
    .replace('"caf\\u00e9 \\"mail\\" ada@example.com', '"caf\\u00e9 \\"mail\\" [REDACTED:email]')
    .replace(AKIA, '[REDACTED:aws_access_key]')
    .replace('ACME-1234', '[REDACTED:rule:ticket]')
    .replace('ACME-9999', '[REDACTED:rule:ticket]')
    .replace('bob@example.org', '[REDACTED:email]');
  assert.equal(s.mock.requests.at(-1)!.body.toString('utf8'), expected);
  // The system prompt (not scanned by this policy) and ids are untouched.
  assert.ok(expected.includes('"system":"admin ada@example.com"') && expected.includes('"tool_use_id":"ada@example.com"'));
  JSON.parse(s.mock.requests.at(-1)!.body.toString('utf8'));
  const alert = s.alerts.filter((a) => a.kind === 'guardrail').at(-1)!;
  assert.deepEqual(alert.data?.redacted, { email: 2, aws_access_key: 1, 'rule:ticket': 2 });
  assert.ok((alert.data?.hits as { detector: string }[]).some((h) => h.detector === 'phone'), 'flagged, not redacted');
  assert.ok(!JSON.stringify(alert).includes('example.org') && !JSON.stringify(alert).includes(AKIA), 'alerts never carry the values');
});

test('block refuses before forwarding, names the detector and location, never echoes the value', async () => {
  const n = s.mock.requests.length;
  const body = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: `use ${ANT}` }] }] });
  const r = await post(s.tokens.guarded!, body);
  assert.equal(r.status, 400);
  assert.equal(s.mock.requests.length, n);
  const err = JSON.parse(r.body.toString()).error;
  assert.equal(err.type, 'gateway_guardrail_blocked');
  assert.match(err.message, /an Anthropic API key \(guardrail "anthropic_key", policy "default"\) in messages\[0\]\.content\[0\]\.text/);
  assert.ok(!r.body.toString().includes(ANT.slice(7)));
  assert.ok(!s.logs.join('\n').includes(ANT.slice(14)), 'not in the logs either');
});

test('a refusal is still a request: its ledger row has the status and reason, 0 attempts, nothing billed', async () => {
  const ledger = s.gw.ledger!;
  ledger.flush();
  const before = ledger.totals();
  const body = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 8, messages: [{ role: 'user', content: `again ${ANT}` }] });
  const r = await post(s.tokens.guarded!, body);
  assert.equal(r.status, 400);
  ledger.flush();
  const after = ledger.totals();
  assert.equal(after.requests, before.requests + 1, 'it counts in every request total');
  assert.equal(after.errors, before.errors + 1);
  assert.equal(after.billedRequests, before.billedRequests);
  assert.equal(after.costUsd, before.costUsd);
  const rows = ledger.requestsInRange({ limit: 100_000 }).requests;
  const row = rows.find((x) => x.id === r.headers['request-id'])!;
  assert.ok(row, 'the row carries the request id the client was given');
  assert.deepEqual([row.status, row.errorType, row.attemptsMade, row.billed, row.costUsd, row.tool], [400, 'GATEWAY_GUARDRAIL_BLOCKED', 0, false, 0, 'guarded']);
  assert.deepEqual(requestStory(row).map((x) => x.kind), ['refusal'], 'the session page can say why');
  assert.ok(!JSON.stringify(row).includes(ANT.slice(14)), 'the row holds no body text');
});

test('a caller no guard applies to is forwarded byte for byte', async () => {
  const body = `{"model":"claude-sonnet-4-5-20250929","max_tokens":8,"messages":[{"role":"user","content":"ada@example.com ${AKIA}"}]}`;
  const r = await post(s.tokens.free!, body);
  assert.equal(r.status, 200);
  assert.equal(s.mock.requests.at(-1)!.body.toString(), body);
});

test('count_tokens bodies are guarded too', async () => {
  const body = `{"model":"claude-sonnet-4-5-20250929","messages":[{"role":"user","content":"ada@example.com"}]}`;
  const r = await rawRequest(`${s.gw.url}/v1/messages/count_tokens`, { method: 'POST', headers: authHeaders(s.tokens.guarded!), body });
  assert.equal(r.status, 200);
  assert.equal(s.mock.requests.at(-1)!.body.toString(), body.replace('ada@example.com', '[REDACTED:email]'));
});
