// Tests for which alerts notify, their text, breaker transitions and the repeat gate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../proxy/events.js';
import { breakerTransition, createNotificationGate, notificationFor } from './alerts.js';

const alert = (kind: string, level: AlertEvent['level'], message = 'm', data?: Record<string, unknown>): AlertEvent => ({ kind, level, message, ts: 0, data });

test('budget thresholds notify; reaching the budget says so', () => {
  assert.deepEqual(notificationFor(alert('budget', 'warning', 'Daily budget at 80%')), { title: 'Sluice: budget alert', body: 'Daily budget at 80%' });
  assert.deepEqual(notificationFor(alert('budget', 'info', 'Daily budget at 50%')), { title: 'Sluice: budget alert', body: 'Daily budget at 50%' });
  assert.deepEqual(notificationFor(alert('budget', 'critical', 'Daily budget reached')), { title: 'Sluice: budget reached', body: 'Daily budget reached' });
});

test('fallbacks notify', () => {
  assert.deepEqual(notificationFor(alert('fallback', 'info', 'answered by sonnet')), { title: 'Sluice: using a fallback', body: 'answered by sonnet' });
});

test('a breaker opening notifies; closing does not', () => {
  assert.deepEqual(notificationFor(alert('breaker', 'critical', 'opened')), { title: 'Sluice: upstream circuit open', body: 'opened' });
  assert.equal(notificationFor(alert('breaker', 'info', 'closed again')), null);
  assert.equal(notificationFor(alert('breaker', 'warning', 'closed', { state: 'closed' })), null);
});

test('other kinds notify only when critical; bodies are clipped', () => {
  assert.equal(notificationFor(alert('capture', 'warning')), null);
  assert.deepEqual(notificationFor(alert('keychain', 'critical', 'locked')), { title: 'Sluice alert', body: 'locked' });
  assert.equal(notificationFor(alert('budget', 'warning', 'x'.repeat(1000)))!.body.length, 300);
});

test('breakerTransition reads data.state first, then the level', () => {
  assert.equal(breakerTransition(alert('budget', 'critical')), null);
  assert.equal(breakerTransition(alert('breaker', 'info', 'm', { state: 'open' })), 'open');
  assert.equal(breakerTransition(alert('breaker', 'info', 'm', { state: 'half-open' })), 'open');
  assert.equal(breakerTransition(alert('breaker', 'critical', 'm', { state: 'closed' })), 'closed');
  assert.equal(breakerTransition(alert('breaker', 'warning')), 'open');
  assert.equal(breakerTransition(alert('breaker', 'critical')), 'open');
  assert.equal(breakerTransition(alert('breaker', 'info')), 'closed');
});

test('the gate drops a repeat within the cooldown, per kind and message', () => {
  let t = 1_000;
  const gate = createNotificationGate(60_000, () => t);
  const a = alert('fallback', 'info', 'answered by sonnet');
  assert.equal(gate(a), true);
  t += 30_000;
  assert.equal(gate(a), false);
  assert.equal(gate(alert('fallback', 'info', 'another message')), true);
  assert.equal(gate(alert('budget', 'info', 'answered by sonnet')), true);
  t += 30_000;
  assert.equal(gate(a), true, 'after the cooldown it shows again');
});
