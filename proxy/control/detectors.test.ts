import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_DETECTORS, luhnValid, type DetectorId } from './detectors.js';
import { checkUserPattern, compileUserRule } from './user-rules.js';

const found = (id: DetectorId, text: string) => BUILTIN_DETECTORS[id](text).map((f) => text.slice(f.start, f.end));

// Fake values built at run time so no file holds a string that looks like a real credential.
const AKIA = `AKIA${'IOSFODNN7EXAMPLE'}`;
const SECRET40 = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY0a';
const ANT = `sk-ant-api03-${'FAKE'.repeat(6)}`;
const OAI_PROJ = `sk-proj-${'FAKE0'.repeat(5)}`;
const OAI_LEGACY = `sk-${'Ab1'.repeat(12)}`;
const GHP = `ghp_${'a1B2'.repeat(9)}`;
const JWT = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"1"}').toString('base64url')}.c2lnbmF0dXJl`;

const cases: [DetectorId, string[], string[]][] = [
  ['email', ['mail ada@example.com now', 'x <bob.smith+tag@mail.example.co.uk>'], ['icon@2x.png', '@types/node', 'user@localhost', 'an @ sign']],
  ['phone', ['call 555-867-5309', 'tel (555) 867-5309.', '+1 555 867 5309', '+442071838750'], ['ts 1700000000000', 'version 1.2.3', 'date 2024-01-15', 'ip 10.0.0.1', 'v1.555.867.5309.2']],
  ['card', ['4111 1111 1111 1111', 'card 5555-5555-5555-4444 ok', '378282246310005'], ['4111 1111 1111 1112', '1234567812345670', '4111-1111 1111-1111', 'id 4111111111111111111111']],
  ['aws_access_key', [`key ${AKIA}`, `ASIA${'Y34FZKBOKMUTVV7A'}`], [`AKIA${'short'}`, `XAKIA${'IOSFODNN7EXAMPLE'}`, 'AKIAIOSFODNN7EXAMPLE1234']],
  ['aws_secret_key', [`aws_secret_access_key = ${SECRET40}`, `"SecretAccessKey": "${SECRET40}"`], [`commit ${'a'.repeat(40)}`, `sha ${SECRET40}`]],
  ['private_key', ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----\nMIIE'], ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----']],
  ['anthropic_key', [`export K=${ANT}`], ['keys start with sk-ant-', 'sk-ant-api03-short']],
  ['openai_key', [OAI_PROJ, `key=${OAI_LEGACY}`], ['uses sk-learn and risk-free', `task-${'Ab1'.repeat(12)}`, ANT, `sk-${'abcdefgh'.repeat(5)}`]],
  ['github_token', [GHP, `github_pat_${'A1'.repeat(11)}_${'b2'.repeat(30)}`], ['ghp_example', `ghp_${'a'.repeat(10)}`]],
  ['jwt', [`Bearer ${JWT}`], [`eyJub3Rqc29u.${'eyJzdWIiOiIxIn0'}.sig`, 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9 alone']],
];

for (const [id, yes, no] of cases) {
  test(`${id}: true positives and look-alikes`, () => {
    for (const t of yes) assert.equal(found(id, t).length, 1, `should find ${id} in ${JSON.stringify(t)}`);
    for (const t of no) assert.deepEqual(found(id, t), [], `should not find ${id} in ${JSON.stringify(t)}`);
  });
}

test('spans are exact', () => {
  assert.deepEqual(found('email', 'to: ada@example.com.'), ['ada@example.com']);
  assert.deepEqual(found('aws_secret_key', `aws_secret_access_key=${SECRET40}`), [SECRET40]);
  assert.deepEqual(found('card', 'pay 4111 1111 1111 1111 now'), ['4111 1111 1111 1111']);
});

test('luhn', () => {
  assert.equal(luhnValid('79927398713'), true);
  assert.equal(luhnValid('79927398710'), false);
});

test('user rules: catastrophic patterns are rejected, safe ones compile', () => {
  for (const bad of ['(a+)+$', '(\\w*)*x', '(a|aa)+$', '(x+x+)+y', '(a)\\1', '[', '']) assert.notEqual(checkUserPattern(bad), null, bad);
  assert.match(checkUserPattern('a*')!, /empty string/);
  assert.equal(checkUserPattern('ACME-\\d{6}'), null);
  assert.equal(checkUserPattern('(?:project|proj)-[a-z]{3,8}', 'i'), null);
  const rule = compileUserRule('acme', 'ACME-\\d{6}');
  assert.deepEqual(rule('id ACME-123456 and ACME-12'), [{ detector: 'rule:acme', start: 3, end: 14 }]);
});
