// Tests for the process-wide GC setting: applying it twice is harmless and never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tuneGcForBodies } from './gc-tuning.js';

test('tuneGcForBodies can be called any number of times', () => {
  assert.doesNotThrow(() => {
    tuneGcForBodies();
    tuneGcForBodies();
  });
});
