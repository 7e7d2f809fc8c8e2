import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus } from './events.js';

test('listeners receive events, unsubscribe works, a throwing listener does not stop the others', () => {
  const errors: string[] = [];
  const bus = createEventBus((err, type) => errors.push(`${type}:${(err as Error).message}`));
  const got: string[] = [];
  const off = bus.on('alert', (e) => got.push(`a:${e.message}`));
  bus.on('alert', () => { throw new Error('boom'); });
  bus.on('alert', (e) => got.push(`b:${e.message}`));
  bus.emit('alert', { kind: 'budget', level: 'warning', message: 'm1', ts: 1 });
  assert.deepEqual(got, ['a:m1', 'b:m1']);
  assert.deepEqual(errors, ['alert:boom']);
  off();
  bus.emit('alert', { kind: 'budget', level: 'warning', message: 'm2', ts: 2 });
  assert.deepEqual(got, ['a:m1', 'b:m1', 'b:m2']);
  assert.equal(bus.listenerCount('alert'), 2);
  assert.equal(bus.listenerCount('request:end'), 0);
});
