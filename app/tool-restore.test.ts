// Tests for the toggle-off / toggle-on tool restore plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideToggleOff, planToggleOff, planToggleOn, rememberSuspended, toggleOffChoice, TOGGLE_OFF_CHOICES } from './tool-restore.js';
import type { ToolRow } from './tray-model.js';

const row = (id: ToolRow['id'], state: ToolRow['state'], label: string = id): ToolRow => ({ id, label, state });

test('no configured tools: turn off without a prompt', () => {
  const plan = planToggleOff([row('claude-code', 'not-configured'), row('cline', 'configured-elsewhere'), row('shell', 'not-installed')]);
  assert.equal(plan.prompt, null);
  assert.deepEqual(plan.configured, []);
  assert.deepEqual(decideToggleOff(plan, null), { proceed: true, undo: [] });
});

test('configured tools (by Sluice or drifted) are named in the prompt', () => {
  const one = planToggleOff([row('claude-code', 'configured-by-sluice', 'Claude Code (CLI)'), row('cline', 'not-configured', 'Cline')]);
  assert.deepEqual(one.configured.map((t) => t.id), ['claude-code']);
  assert.equal(one.prompt!.message, 'Claude Code (CLI) is set up to use Sluice and cannot reach the API while it is off.');
  assert.deepEqual(one.prompt!.buttons, ['Restore their settings', 'Leave them pointing at Sluice', 'Cancel']);
  assert.equal(one.prompt!.defaultId, 0);
  assert.equal(one.prompt!.cancelId, 2);

  const three = planToggleOff([
    row('claude-code', 'configured-by-sluice', 'Claude Code (CLI)'),
    row('cline', 'drifted', 'Cline'),
    row('shell', 'configured-by-sluice', 'Shell'),
  ]);
  assert.equal(three.prompt!.message, 'Claude Code (CLI), Cline and Shell are set up to use Sluice and cannot reach the API while it is off.');
});

test('button responses map to choices; an unknown response cancels', () => {
  assert.deepEqual(TOGGLE_OFF_CHOICES, ['restore', 'leave', 'cancel']);
  assert.equal(toggleOffChoice(0), 'restore');
  assert.equal(toggleOffChoice(1), 'leave');
  assert.equal(toggleOffChoice(2), 'cancel');
  assert.equal(toggleOffChoice(7), 'cancel');
  assert.equal(toggleOffChoice(-1), 'cancel');
});

test('decideToggleOff: restore undoes the configured tools, leave undoes none, cancel stays on', () => {
  const plan = planToggleOff([row('claude-code', 'configured-by-sluice'), row('cline', 'drifted'), row('shell', 'not-configured')]);
  assert.deepEqual(decideToggleOff(plan, 'restore'), { proceed: true, undo: ['claude-code', 'cline'] });
  assert.deepEqual(decideToggleOff(plan, 'leave'), { proceed: true, undo: [] });
  assert.deepEqual(decideToggleOff(plan, 'cancel'), { proceed: false, undo: [] });
  assert.deepEqual(decideToggleOff(plan, null), { proceed: false, undo: [] });
});

test('rememberSuspended keeps earlier ones and adds only what was undone, once', () => {
  assert.deepEqual(rememberSuspended([], ['claude-code']), ['claude-code']);
  assert.deepEqual(rememberSuspended(['cline'], ['claude-code', 'cline']), ['cline', 'claude-code']);
  assert.deepEqual(rememberSuspended(['cline'], []), ['cline']);
});

test('planToggleOn re-applies restored tools, respects a user re-pointing one, skips gone ones', () => {
  const plan = planToggleOn(
    ['claude-code', 'cline', 'shell', 'cursor-terminal', 'continue'],
    [
      row('claude-code', 'not-configured'),
      row('cline', 'configured-elsewhere'),
      row('shell', 'configured-by-sluice'),
      row('cursor-terminal', 'not-installed'),
    ],
  );
  assert.deepEqual(plan.reapply, ['claude-code']);
  assert.deepEqual(plan.skipped, [
    { tool: 'cline', reason: 'was pointed elsewhere while Sluice was off; left as you set it' },
    { tool: 'shell', reason: 'already uses Sluice' },
    { tool: 'cursor-terminal', reason: 'is no longer installed' },
    { tool: 'continue', reason: 'is not a tool this version knows' },
  ]);
});

test('planToggleOn with nothing remembered does nothing', () => {
  assert.deepEqual(planToggleOn([], [row('claude-code', 'not-configured')]), { reapply: [], skipped: [] });
});
