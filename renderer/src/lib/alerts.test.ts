// The alert log: stored and live alerts merged once each, newest first, and the live stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importRunes } from './testing/runes.js';
import type * as Mod from './alerts.svelte.js';
import type { AlertView } from './api.js';

const { AlertLog, alertKindLabel, mergeAlerts } = await importRunes<typeof Mod>('./alerts.svelte.ts', import.meta.url);

const stored = (id: number, ts: number, message: string, kind = 'budget'): AlertView => ({ id, ts, kind, level: 'warning', message, onceKey: null, data: null });

test('merge: newest first, a live alert already stored shows once, capped', () => {
  const s = [stored(2, 200, 'b'), stored(1, 100, 'a')];
  const live = [{ kind: 'budget', level: 'critical' as const, ts: 200, message: 'b' }, { kind: 'breaker', level: 'warning' as const, ts: 300, message: 'circuit open' }];
  const m = mergeAlerts(s, live, 10);
  assert.deepEqual(m.map((x) => [x.ts, x.kind, x.live]), [[300, 'breaker', true], [200, 'budget', false], [100, 'budget', false]]);
  assert.equal(mergeAlerts(s, live, 2).length, 2);
  assert.equal(alertKindLabel('breaker'), 'Circuit breaker');
  assert.equal(alertKindLabel('fallback'), 'Fallback');
  assert.equal(alertKindLabel('quota'), 'Quota');
});

test('the log follows the stream and drops live copies once stored', () => {
  const listeners = new Map<string, (e: { data: string }) => void>();
  const src = { onopen: null as ((e: unknown) => void) | null, onerror: null as ((e: unknown) => void) | null, readyState: 0, closed: false,
    addEventListener(t: string, l: (e: { data: string }) => void) { listeners.set(t, l); }, close() { this.closed = true; } };
  const seen: string[] = [];
  const log = new AlertLog({ max: 5, onAlert: (a) => seen.push(a.kind) });
  log.connect(() => src);
  assert.equal(log.status, 'connecting');
  src.onopen!({});
  assert.equal(log.status, 'live');
  listeners.get('alert')!({ data: JSON.stringify({ kind: 'fallback', level: 'info', ts: 500, message: 'Served by fallback' }) });
  listeners.get('alert')!({ data: JSON.stringify({ kind: 'budget', level: 'critical', ts: 600, message: 'at 100%' }) });
  assert.deepEqual(log.items.map((i) => i.kind), ['budget', 'fallback']);
  assert.deepEqual(seen, ['fallback', 'budget']);
  log.setStored([stored(9, 600, 'at 100%')]);
  assert.deepEqual(log.live.map((a) => a.kind), ['fallback'], 'the stored one is not kept twice');
  assert.deepEqual(log.items.map((i) => [i.kind, i.live]), [['budget', false], ['fallback', true]]);
  src.readyState = 2;
  src.onerror!({});
  assert.equal(log.status, 'closed');
  log.close();
  assert.equal(src.closed, true);
});
