// A request's detours in words: retries, key switches, fallbacks, skips and refusals, table-driven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptReason, requestStory, type RequestStoryInput } from './explain.js';
import type { AttemptRecord } from './types.js';

const att = (n: number, o: Partial<AttemptRecord> = {}): AttemptRecord => ({
  n, ts: 1_000 + n, target: 'anthropic', keyId: 'anthropic:1', model: null, status: 200, error: null, durationMs: 100, waitMs: 0, ...o,
});
const row = (attempts: AttemptRecord[], o: Partial<RequestStoryInput> = {}): RequestStoryInput => ({
  status: 200, errorType: null, fallback: false, target: 'anthropic', attempts, ...o,
});

test('attempt reasons name the status and the error', () => {
  assert.equal(attemptReason({ status: 529, error: null }), '529 overloaded');
  assert.equal(attemptReason({ status: 429, error: 'rate_limit_error' }), '429 rate limited');
  assert.equal(attemptReason({ status: null, error: 'GATEWAY_UPSTREAM_TIMEOUT' }), 'no response (timed out)');
  assert.equal(attemptReason({ status: 200, error: 'escalated:max_tokens' }), '200 escalated (max_tokens)');
  assert.equal(attemptReason({ status: 418, error: null }), '418 client error');
});

test('each kind of detour reads as a sentence with its reason and wait', () => {
  const cases: [string, RequestStoryInput, string[]][] = [
    ['first try', row([att(1)]), []],
    ['no attempts, no error', row([]), []],
    ['retry on the same key', row([att(1, { status: 529 }), att(2, { waitMs: 431 })]),
      ['retried after 529 overloaded on key anthropic:1, waited 431 ms']],
    ['key switch', row([att(1, { status: 429 }), att(2, { keyId: 'anthropic:2' })]),
      ['switched to key anthropic:2 after 429 rate limited on key anthropic:1']],
    ['fallback', row([att(1, { status: 503 }), att(2, { status: 503, waitMs: 1_530 }), att(3, { target: 'bedrock', keyId: null, model: 'claude-x' })], { fallback: true }),
      ['retried after 503 unavailable on key anthropic:1, waited 1.53 s', 'fell back to bedrock (claude-x) after 503 unavailable on key anthropic:1']],
    ['escalation', row([att(1, { error: 'escalated:max_tokens', model: 'haiku' }), att(2, { target: 'big', model: 'opus' })]),
      ['escalated to big (opus) after 200 escalated (max_tokens) on key anthropic:1']],
    ['breaker skip', row([att(1, { target: 'bedrock', keyId: null })], { fallback: true }),
      ['primary skipped (circuit open or keys resting), sent to bedrock']],
    ['wait before the first attempt', row([att(1, { waitMs: 2_000 })]),
      ['waited 2.00 s for a resting key or open circuit before sending']],
    ['gave up', row([att(1, { status: null, error: 'GATEWAY_UPSTREAM_UNREACHABLE' })], { status: null, errorType: 'GATEWAY_UPSTREAM_UNREACHABLE' }),
      ['gave up after 1 attempt: no response (unreachable) on key anthropic:1']],
    ['guardrail refusal', row([], { status: 400, errorType: 'gateway_guardrail_blocked' }),
      ['blocked by a guardrail before it left the machine']],
    ['circuit open refusal', row([], { status: null, errorType: 'GATEWAY_CIRCUIT_OPEN' }),
      ['refused without sending: circuit open (the upstream kept failing)']],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(requestStory(input).map((s) => s.text), want, name);
  assert.deepEqual(requestStory(row([att(1, { status: 529 }), att(2, { keyId: 'anthropic:2' })])).map((s) => s.kind), ['key-switch']);
});
