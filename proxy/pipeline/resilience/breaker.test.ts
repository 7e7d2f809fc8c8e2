// Unit tests of the circuit breaker: every transition with a fake clock, the failure window,
// probe slots, release and the change callback.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, type BreakerOptions, type BreakerSnapshot, type BreakerState } from './breaker.js';

function make(o: Partial<BreakerOptions> = {}) {
  const clock = { t: 1_000_000 };
  const opts: BreakerOptions = { failureThreshold: 3, windowMs: 10_000, openMs: 5_000, halfOpenProbes: 1, ...o };
  const changes: { from: BreakerState; to: BreakerState; snap: BreakerSnapshot }[] = [];
  const b = new CircuitBreaker('anthropic', () => opts, () => clock.t, (snap, from) => changes.push({ from, to: snap.state, snap }));
  return { b, clock, opts, changes };
}

describe('CircuitBreaker', () => {
  test('closed admits everything; opens at the threshold within the window', () => {
    const { b, clock, changes } = make();
    assert.equal(b.tryAcquire(), true);
    b.onFailure();
    clock.t += 1000;
    b.onFailure();
    assert.equal(b.current(), 'closed');
    assert.equal(b.snapshot().recentFailures, 2);
    clock.t += 1000;
    b.onFailure();
    assert.equal(b.current(), 'open');
    assert.deepEqual(changes.map((c) => [c.from, c.to]), [['closed', 'open']]);
    assert.equal(changes[0]!.snap.openedAt, clock.t);
    assert.equal(changes[0]!.snap.retryAt, clock.t + 5_000);
  });

  test('failures older than the window are forgotten', () => {
    const { b, clock } = make();
    b.onFailure();
    b.onFailure();
    clock.t += 10_001;
    b.onFailure();
    assert.equal(b.current(), 'closed');
    assert.equal(b.snapshot().recentFailures, 1);
    b.onFailure();
    assert.equal(b.current(), 'closed');
    b.onFailure();
    assert.equal(b.current(), 'open');
  });

  test('a success while closed does not reset the count, it only prunes', () => {
    const { b } = make();
    b.onFailure();
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    assert.equal(b.current(), 'open');
  });

  test('open refuses at once and says how long until probes; half-open after openMs', () => {
    const { b, clock, changes } = make();
    for (let i = 0; i < 3; i++) b.onFailure();
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.waitMs(), 5_000);
    clock.t += 4_999;
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.waitMs(), 1);
    clock.t += 1;
    assert.equal(b.waitMs(), 0);
    assert.equal(b.current(), 'half_open');
    assert.deepEqual(changes.map((c) => c.to), ['open', 'half_open']);
    assert.equal(changes[1]!.from, 'open');
  });

  test('half-open admits exactly halfOpenProbes probes', () => {
    const { b, clock } = make({ halfOpenProbes: 2 });
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.t += 5_000;
    assert.deepEqual([b.tryAcquire(), b.tryAcquire(), b.tryAcquire()], [true, true, false]);
    assert.equal(b.current(), 'half_open');
  });

  test('a probe success closes and clears the failures', () => {
    const { b, clock, changes } = make();
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.t += 5_000;
    assert.equal(b.tryAcquire(), true);
    b.onSuccess();
    assert.equal(b.current(), 'closed');
    assert.deepEqual(b.snapshot(), { target: 'anthropic', model: null, state: 'closed', recentFailures: 0, recentCalls: 0, openedAt: null, retryAt: null });
    assert.deepEqual(changes.map((c) => [c.from, c.to]), [['closed', 'open'], ['open', 'half_open'], ['half_open', 'closed']]);
    // Closed again: it takes the full threshold to re-open.
    b.onFailure();
    b.onFailure();
    assert.equal(b.current(), 'closed');
  });

  test('a probe failure re-opens for another openMs', () => {
    const { b, clock, changes } = make();
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.t += 5_000;
    assert.equal(b.tryAcquire(), true);
    clock.t += 200;
    b.onFailure();
    assert.equal(b.current(), 'open');
    assert.equal(b.snapshot().openedAt, clock.t);
    assert.equal(b.waitMs(), 5_000);
    assert.deepEqual(changes.map((c) => c.to), ['open', 'half_open', 'open']);
    clock.t += 5_000;
    assert.equal(b.tryAcquire(), true, 'the next pause lets a probe through again');
  });

  test('release frees a probe slot without deciding', () => {
    const { b, clock } = make();
    for (let i = 0; i < 3; i++) b.onFailure();
    clock.t += 5_000;
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
    b.release();
    assert.equal(b.current(), 'half_open');
    assert.equal(b.tryAcquire(), true);
    // Releasing more than was taken never makes room for extra probes.
    b.release();
    b.release();
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false);
  });

  test('failures reported while open neither extend nor count', () => {
    const { b, clock } = make();
    for (let i = 0; i < 3; i++) b.onFailure();
    const opened = b.snapshot().openedAt;
    clock.t += 3_000;
    b.onFailure();
    assert.equal(b.snapshot().openedAt, opened);
    clock.t += 2_000;
    assert.equal(b.current(), 'half_open');
  });

  test('options are read live: a lower threshold applies to the next failure', () => {
    const { b, opts } = make({ failureThreshold: 10 });
    b.onFailure();
    opts.failureThreshold = 2;
    b.onFailure();
    assert.equal(b.current(), 'open');
  });

  test('snapshot: retryAt only while open, recentFailures pruned by the window', () => {
    const { b, clock } = make();
    b.onFailure();
    assert.deepEqual(b.snapshot(), { target: 'anthropic', model: null, state: 'closed', recentFailures: 1, recentCalls: 1, openedAt: null, retryAt: null });
    clock.t += 10_001;
    assert.equal(b.snapshot().recentFailures, 0);
  });
});

test('with a failure rate, a steady trickle of failures among successes keeps the breaker closed; an outage opens it', () => {
  let t = 0;
  const b = new CircuitBreaker('anthropic', () => ({ failureThreshold: 5, failureRate: 0.5, windowMs: 30_000, openMs: 1000, halfOpenProbes: 1 }), () => t);
  // 20 % failures: 10 failures among 50 calls, well over the count, under the rate.
  for (let i = 0; i < 50; i++) { t += 10; if (i % 5 === 0) b.onFailure(); else b.onSuccess(); }
  assert.equal(b.current(), 'closed');
  assert.equal(b.snapshot().recentFailures, 10);
  assert.equal(b.snapshot().recentCalls, 50);
  // Then everything fails: the share crosses one half and it opens.
  for (let i = 0; i < 40 && b.current() === 'closed'; i++) { t += 10; b.onFailure(); }
  assert.equal(b.current(), 'open');
  assert.ok(b.snapshot().recentFailures / b.snapshot().recentCalls >= 0.5);
});
