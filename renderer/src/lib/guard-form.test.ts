// The guardrail form: round trip, defaults of a new policy, validation of names, tokens and rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_IDS, describeGuard, findingLabel, findingPlace, guardDraft, readGuardDraft } from './guard-form.js';
import type { GuardPolicy } from './api.js';

const POLICY: GuardPolicy = {
  name: 'strict', match: { tokens: ['claude-code', 'ci-*'] }, scanSystem: true,
  detectors: { email: 'block', anthropic_key: 'redact' },
  rules: [{ id: 'ticket', pattern: 'PROJ-\\d+', flags: 'i', action: 'flag' }],
};

test('a saved policy survives the form; detectors left off are omitted', () => {
  const d = guardDraft(POLICY);
  assert.equal(d.tokens, 'claude-code, ci-*');
  assert.equal(d.detectors.phone, 'off');
  assert.equal(Object.keys(d.detectors).length, DETECTOR_IDS.length, 'every detector has a field');
  assert.deepEqual(readGuardDraft(d), { ok: true, value: POLICY });
});

test('a new policy matches every caller and redacts credentials only', () => {
  const d = guardDraft(null, 'default');
  assert.equal(d.name, 'default');
  assert.equal(d.tokens, '*');
  assert.equal(d.detectors.anthropic_key, 'redact');
  assert.equal(d.detectors.private_key, 'redact');
  assert.equal(d.detectors.email, 'off');
  assert.equal(d.detectors.card, 'off');
  assert.deepEqual(d.rules, []);
});

test('names, tokens and rules are checked before saving', () => {
  const d = guardDraft(POLICY);
  const dup = readGuardDraft(d, ['strict']);
  assert.deepEqual(dup, { ok: false, errors: { name: 'Another policy is already named "strict".' } });
  const bad = readGuardDraft({
    ...d, name: ' ', tokens: 'ok, not/valid',
    rules: [
      { id: 'Bad Id', pattern: 'a', flags: '', action: 'flag' },
      { id: 'r2', pattern: '(unclosed', flags: '', action: 'block' },
      { id: 'r2', pattern: 'x', flags: 'gx', action: 'redact' },
      { id: 'r4', pattern: '', flags: 'ii', action: 'redact' },
    ],
  });
  assert.equal(bad.ok, false);
  const e = (bad as { errors: Record<string, string> }).errors;
  assert.deepEqual(Object.keys(e).sort(), ['name', 'rules.0.id', 'rules.1.pattern', 'rules.2.flags', 'rules.2.id', 'rules.3.flags', 'rules.3.pattern', 'tokens']);
  assert.match(e.tokens!, /"not\/valid"/);
  assert.match(e['rules.1.pattern']!, /^Not a valid regular expression/);
  assert.match(e['rules.2.id']!, /used twice/);
  assert.equal(readGuardDraft({ ...d, tokens: ' ,' }).ok, false, 'at least one token glob');
});

test('findings read as words and places, never values', () => {
  assert.equal(findingLabel('aws_access_key'), 'AWS access key ids');
  assert.equal(findingLabel('rule:ticket'), 'Rule "ticket"');
  assert.equal(findingLabel('future_detector'), 'future_detector');
  assert.equal(findingPlace({ line: 2, column: 5, length: 20 }), 'line 2, column 5, 20 characters');
  assert.equal(findingPlace({ line: 1, column: 1, length: 1 }), 'line 1, column 1, 1 character');
  assert.equal(describeGuard(POLICY), `2 of ${DETECTOR_IDS.length} detectors on · 1 rule`);
});
