// Unit tests of the key pool: choice by headroom, in-flight and rest time, cooling on 429 until
// the right reset, the wait when every key rests, and key-list reloads keeping state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KeyPool, type PoolKey } from './key-pool.js';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const k = (n: number): PoolKey => ({ id: `anthropic:env${n}`, key: `test-key-${n}`, hint: `ey-${n}` });
const iso = (t: number) => new Date(t).toISOString();

function pool(n = 2, cooldownMs = 30_000) {
  const clock = { t: T0 };
  const p = new KeyPool('anthropic', () => clock.t, cooldownMs);
  p.setKeys(Array.from({ length: n }, (_, i) => k(i + 1)));
  return { p, clock };
}

function requests(limit: number, remaining: number, resetAt: number): Record<string, string> {
  return {
    'anthropic-ratelimit-requests-limit': String(limit),
    'anthropic-ratelimit-requests-remaining': String(remaining),
    'anthropic-ratelimit-requests-reset': iso(resetAt),
  };
}

const chosen = (p: KeyPool, exclude?: Set<string>) => {
  const c = p.choose(exclude);
  return c?.key?.id ?? null;
};

describe('KeyPool.choose', () => {
  test('prefers the key with the most request headroom', () => {
    const { p, clock } = pool(3);
    p.observe('anthropic:env1', 200, requests(100, 10, clock.t + 60_000));
    p.observe('anthropic:env2', 200, requests(100, 80, clock.t + 60_000));
    p.observe('anthropic:env3', 200, requests(100, 50, clock.t + 60_000));
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('token headroom counts too: the lower of requests and tokens decides', () => {
    const { p, clock } = pool(2);
    p.observe('anthropic:env1', 200, { ...requests(100, 90, clock.t + 60_000), 'anthropic-ratelimit-tokens-limit': '10000', 'anthropic-ratelimit-tokens-remaining': '500', 'anthropic-ratelimit-tokens-reset': iso(clock.t + 60_000) });
    p.observe('anthropic:env2', 200, { ...requests(100, 60, clock.t + 60_000), 'anthropic-ratelimit-input-tokens-limit': '10000', 'anthropic-ratelimit-input-tokens-remaining': '9000', 'anthropic-ratelimit-input-tokens-reset': iso(clock.t + 60_000) });
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('headroom from a window that has already reset counts as full', () => {
    const { p, clock } = pool(2);
    p.observe('anthropic:env1', 200, requests(100, 1, clock.t + 1_000));
    p.observe('anthropic:env2', 200, requests(100, 50, clock.t + 60_000));
    assert.equal(chosen(p), 'anthropic:env2');
    clock.t += 1_000;
    assert.equal(chosen(p), 'anthropic:env1');
  });

  test('among equal headroom, fewer in flight wins', () => {
    const { p } = pool(2);
    p.acquire('anthropic:env1');
    assert.equal(chosen(p), 'anthropic:env2');
    p.acquire('anthropic:env2');
    p.acquire('anthropic:env2');
    assert.equal(chosen(p), 'anthropic:env1');
    p.release('anthropic:env2');
    p.release('anthropic:env2');
    p.release('anthropic:env1');
    p.release('anthropic:env1'); // never below zero
    assert.deepEqual(p.snapshot().map((s) => s.inFlight), [0, 0]);
  });

  test('among equals, the key rested longest wins (used 1 s apart)', () => {
    const { p, clock } = pool(2);
    p.acquire('anthropic:env2');
    p.release('anthropic:env2');
    clock.t += 1_000;
    p.acquire('anthropic:env1');
    p.release('anthropic:env1');
    clock.t += 10;
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('among equals, the key rested longest wins (used 10 ms apart)', () => {
    const { p, clock } = pool(2);
    p.acquire('anthropic:env2');
    p.release('anthropic:env2');
    clock.t += 10;
    p.acquire('anthropic:env1');
    p.release('anthropic:env1');
    clock.t += 10;
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('exclude skips keys; null when nothing is left', () => {
    const { p } = pool(2);
    assert.equal(chosen(p, new Set(['anthropic:env1'])), 'anthropic:env2');
    assert.equal(p.choose(new Set(['anthropic:env1', 'anthropic:env2'])), null);
  });
});

describe('KeyPool.observe on 429', () => {
  test('retry-after rests the key for that long; the other key serves meanwhile', () => {
    const { p, clock } = pool(2);
    const r = p.observe('anthropic:env1', 429, { 'retry-after': '30' });
    assert.deepEqual(r, { coolingUntil: T0 + 30_000, limit: 'unknown' });
    assert.equal(chosen(p), 'anthropic:env2');
    clock.t += 29_999;
    assert.equal(chosen(p, new Set(['anthropic:env2'])), null);
    clock.t += 1;
    assert.equal(chosen(p, new Set(['anthropic:env2'])), 'anthropic:env1');
  });

  test('a request-limit 429 rests until the requests reset', () => {
    const { p } = pool(1);
    const r = p.observe('anthropic:env1', 429, requests(50, 0, T0 + 12_000));
    assert.deepEqual(r, { coolingUntil: T0 + 12_000, limit: 'requests' });
    assert.deepEqual(p.choose(), { key: null, waitMs: 12_000 });
  });

  test('a token-limit 429 rests until the token reset', () => {
    const { p } = pool(1);
    const r = p.observe('anthropic:env1', 429, {
      ...requests(50, 30, T0 + 60_000),
      'anthropic-ratelimit-input-tokens-limit': '1000', 'anthropic-ratelimit-input-tokens-remaining': '0', 'anthropic-ratelimit-input-tokens-reset': iso(T0 + 7_000),
    });
    assert.deepEqual(r, { coolingUntil: T0 + 7_000, limit: 'tokens' });
  });

  test('a 429 with no hint rests for the pool default', () => {
    const { p } = pool(1, 45_000);
    assert.deepEqual(p.observe('anthropic:env1', 429, {}), { coolingUntil: T0 + 45_000, limit: 'unknown' });
  });

  test('a later, shorter 429 never shortens a rest', () => {
    const { p } = pool(1);
    p.observe('anthropic:env1', 429, { 'retry-after': '30' });
    assert.equal(p.observe('anthropic:env1', 429, { 'retry-after': '5' }).coolingUntil, T0 + 30_000);
  });

  test('non-429 answers record status and limits but never rest the key', () => {
    const { p } = pool(1);
    assert.deepEqual(p.observe('anthropic:env1', 529, { 'retry-after': '30' }), { coolingUntil: null, limit: null });
    const s = p.snapshot()[0]!;
    assert.equal(s.coolingUntil, null);
    assert.equal(s.lastStatus, 529);
    assert.equal(s.rateLimited, 0);
  });

  test('unknown key ids are ignored', () => {
    const { p } = pool(1);
    assert.deepEqual(p.observe('anthropic:nope', 429, {}), { coolingUntil: null, limit: null });
  });
});

describe('KeyPool waits and reloads', () => {
  test('every key resting: waitMs until the first wakes', () => {
    const { p, clock } = pool(3);
    p.observe('anthropic:env1', 429, { 'retry-after': '20' });
    p.observe('anthropic:env2', 429, { 'retry-after': '8' });
    p.observe('anthropic:env3', 429, { 'retry-after': '15' });
    assert.deepEqual(p.choose(), { key: null, waitMs: 8_000 });
    clock.t += 8_000;
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('setKeys keeps the state of keys still present and drops the rest', () => {
    const { p } = pool(2);
    p.observe('anthropic:env1', 429, { 'retry-after': '30' });
    p.acquire('anthropic:env2');
    p.setKeys([k(1), k(2), k(3)]);
    const snap = p.snapshot();
    assert.deepEqual(snap.map((s) => s.id), ['anthropic:env1', 'anthropic:env2', 'anthropic:env3']);
    assert.equal(snap[0]!.coolingUntil, T0 + 30_000);
    assert.equal(snap[0]!.rateLimited, 1);
    assert.equal(snap[1]!.inFlight, 1);
    assert.equal(p.size, 3);
    p.setKeys([k(3)]);
    assert.equal(p.size, 1);
    p.setKeys([k(1), k(3)]);
    // env1 was removed in between: it comes back fresh, not resting.
    assert.equal(p.snapshot()[0]!.coolingUntil, null);
  });

  test('snapshot shows limits and the nearest reset, never the key', () => {
    const { p } = pool(1);
    p.observe('anthropic:env1', 200, requests(50, 49, T0 + 60_000));
    const s = p.snapshot()[0]!;
    assert.deepEqual(s, {
      id: 'anthropic:env1', hint: 'ey-1', requestsRemaining: 49, requestsLimit: 50, tokensRemaining: null, tokensLimit: null,
      resetAt: T0 + 60_000, coolingUntil: null, inFlight: 0, lastStatus: 200, rateLimited: 0,
      scopes: [{ scope: '*', limits: { requests: { limit: 50, remaining: 49, resetAt: T0 + 60_000 } }, resting: {} }],
      health: { state: 'answering', ejectedUntil: null, ejections: 0, transportFailures: 0 },
    });
    assert.ok(!JSON.stringify(p.snapshot()).includes('test-key-1'));
  });
});

describe('KeyPool limit scopes (per model class and limit kind)', () => {
  const SONNET = 'claude-sonnet';
  const HAIKU = 'claude-haiku';
  const outputLimited = (resetAt: number) => ({
    'anthropic-ratelimit-output-tokens-limit': '8000', 'anthropic-ratelimit-output-tokens-remaining': '0', 'anthropic-ratelimit-output-tokens-reset': iso(resetAt),
    'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '40', 'anthropic-ratelimit-requests-reset': iso(resetAt),
  });

  test('a 429 rests only the scope it came from; the same key serves another model class', () => {
    const { p } = pool(1);
    p.observe('anthropic:env1', 429, outputLimited(T0 + 20_000), SONNET);
    assert.deepEqual(p.choose(new Set(), SONNET), { key: null, waitMs: 20_000 });
    assert.equal(p.choose(new Set(), HAIKU)?.key?.id, 'anthropic:env1');
    assert.deepEqual(p.restingKinds(SONNET), ['output-tokens']);
    assert.deepEqual(p.restingKinds(HAIKU), []);
    const snap = p.snapshot()[0]!;
    assert.deepEqual(snap.scopes.map((x) => [x.scope, x.resting]), [[SONNET, { 'output-tokens': T0 + 20_000 }]]);
  });

  test('a 429 naming no limit rests its whole scope, still only that scope', () => {
    const { p } = pool(1);
    p.observe('anthropic:env1', 429, { 'retry-after': '30' }, SONNET);
    assert.deepEqual(p.restingKinds(SONNET), ['unknown']);
    assert.equal(p.choose(new Set(), HAIKU)?.key?.id, 'anthropic:env1');
  });

  test('headroom is read per scope', () => {
    const { p } = pool(2);
    p.observe('anthropic:env1', 200, requests(100, 5, T0 + 60_000), SONNET);
    p.observe('anthropic:env2', 200, requests(100, 90, T0 + 60_000), SONNET);
    p.observe('anthropic:env2', 200, requests(100, 5, T0 + 60_000), HAIKU);
    p.observe('anthropic:env1', 200, requests(100, 90, T0 + 60_000), HAIKU);
    assert.equal(p.choose(new Set(), SONNET)?.key?.id, 'anthropic:env2');
    assert.equal(p.choose(new Set(), HAIKU)?.key?.id, 'anthropic:env1');
  });

  test('OpenAI-format x-ratelimit headers rest the model scope until their reset duration', () => {
    const { p } = pool(1);
    p.observe('anthropic:env1', 429, { 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m30s' }, 'gpt-4.1');
    assert.deepEqual(p.choose(new Set(), 'gpt-4.1'), { key: null, waitMs: 90_000 });
    assert.equal(p.choose(new Set(), 'gpt-4.1-mini')?.key?.id, 'anthropic:env1');
  });

  test('after its rest, a key whose last answer in the scope was a 429 ranks below the others', () => {
    const { p, clock } = pool(2);
    p.observe('anthropic:env2', 200, requests(100, 50, T0 + 60_000), SONNET);
    p.observe('anthropic:env1', 429, { 'retry-after': '1' }, SONNET);
    clock.t += 2_000;
    assert.equal(p.choose(new Set(), SONNET)?.key?.id, 'anthropic:env2');
    p.acquire('anthropic:env2');
    p.acquire('anthropic:env2');
    assert.equal(p.choose(new Set(), SONNET)?.key?.id, 'anthropic:env2', 'even with more in flight');
    p.observe('anthropic:env1', 200, {}, SONNET);
    assert.equal(p.choose(new Set(), SONNET)?.key?.id, 'anthropic:env1');
  });
});

describe('KeyPool health (outlier ejection)', () => {
  test('a key with no data never outranks one that is answering', () => {
    const { p } = pool(2);
    p.observe('anthropic:env2', 200, {});
    p.acquire('anthropic:env2');
    p.acquire('anthropic:env2');
    assert.equal(chosen(p), 'anthropic:env2');
  });

  test('a transport failure ejects the key for a growing interval; one probe at a time; an answer restores it', () => {
    const { p, clock } = pool(2);
    p.observe('anthropic:env1', 200, {});
    p.observe('anthropic:env2', 200, {});
    p.transportFailure('anthropic:env1');
    assert.equal(p.snapshot()[0]!.health.state, 'ejected');
    assert.equal(chosen(p), 'anthropic:env2');
    assert.equal(chosen(p, new Set(['anthropic:env2'])), 'anthropic:env1', 'ejection never refuses: the last key left is used');
    clock.t += 1_000;
    assert.equal(chosen(p, new Set(['anthropic:env2'])), 'anthropic:env1');
    p.acquire('anthropic:env1');
    assert.equal(p.snapshot()[0]!.health.state, 'probing');
    p.release('anthropic:env1');
    p.transportFailure('anthropic:env1');
    assert.equal(p.snapshot()[0]!.health.ejectedUntil, clock.t + 2_000, 'the interval doubled');
    clock.t += 2_000;
    p.acquire('anthropic:env1');
    p.release('anthropic:env1');
    p.observe('anthropic:env1', 200, {});
    assert.deepEqual(p.snapshot()[0]!.health, { state: 'answering', ejectedUntil: null, ejections: 0, transportFailures: 2 });
  });

  test('a client that gave up waiting demotes the key below an answering one', () => {
    const { p } = pool(2);
    p.observe('anthropic:env1', 200, {});
    p.observe('anthropic:env2', 200, {});
    p.acquire('anthropic:env2'); // env2 is busier, so env1 would win
    p.abandoned('anthropic:env1');
    assert.equal(chosen(p), 'anthropic:env2');
    assert.equal(p.snapshot()[0]!.health.state, 'unproven');
  });
});
