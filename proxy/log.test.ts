// Tests for the logger: key redaction (patterns and added secrets) and level filtering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, parseLogLevel, redact } from './log.js';
import { generateGatewayToken } from './store/tokens.js';

test('redact masks Anthropic keys and OAuth tokens, keeping only a short prefix', () => {
  const line = redact('key=sk-ant-api03-FAKEabc123 oauth sk-ant-oat01-FAKEx_y-z end');
  assert.doesNotMatch(line, /FAKE/);
  assert.equal(line, 'key=sk-ant-…[redacted] oauth sk-ant-…[redacted] end');
});

test('redact masks Sluice tokens', () => {
  const line = redact('token sk-sluice-AbCdEf_12-3 used');
  assert.doesNotMatch(line, /AbCdEf/);
  assert.match(line, /^token sk-slui…\[redacted\] used$/);
});

test('redact masks gateway-shaped (JWT) tokens whole, alone, in a header or a URL', () => {
  const token = generateGatewayToken();
  const secret = token.split('.')[2]!;
  for (const line of [token, `authorization: Bearer ${token}`, `x-api-key=${token};`, `"ANTHROPIC_AUTH_TOKEN":"${token}"`, `http://h/?t=${token}&x=1`]) {
    const out = redact(line);
    assert.ok(!out.includes(secret), out);
    assert.ok(!out.includes(token.split('.')[1]!), out);
    assert.match(out, /eyJhbGc…\[redacted\]/);
  }
  assert.equal(redact('a.b.c and e.g. eyJ alone'), 'a.b.c and e.g. eyJ alone');
});

test('a logger never writes a gateway-shaped token, at any level', () => {
  const token = generateGatewayToken();
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  logger.debug(`auth ${token}`);
  logger.info(`Bearer ${token}`);
  logger.warn(JSON.stringify({ headers: { authorization: `Bearer ${token}` } }));
  logger.error(`failed for ${token}`);
  assert.equal(lines.length, 4);
  for (const l of lines) assert.ok(!l.includes(token.split('.')[2]!), l);
});

test('redact masks other long sk- keys but leaves short sk- words alone', () => {
  assert.doesNotMatch(redact('openai sk-proj-FAKEFAKEFAKEFAKEFAKE1'), /FAKEFAKE/);
  assert.equal(redact('a sk-ant-ab skip'), 'a sk-ant-ab skip');
  assert.equal(redact('no keys here'), 'no keys here');
});

test('redact masks every occurrence of added secrets, ignoring ones shorter than 6', () => {
  assert.equal(redact('x=upstream-FAKE y=upstream-FAKE', ['upstream-FAKE']), 'x=[redacted] y=[redacted]');
  assert.equal(redact('abc abcde', ['abc', 'abcde']), 'abc abcde');
  assert.equal(redact('abcdef!', ['abcdef']), '[redacted]!');
});

function capture(level?: Parameters<typeof parseLogLevel>[0]) {
  const lines: string[] = [];
  const logger = createLogger({ level: parseLogLevel(level), write: (l) => lines.push(l) });
  return { logger, lines };
}

test('lines carry an ISO timestamp, the level and the message, redacted', () => {
  const { logger, lines } = capture('debug');
  logger.info('using sk-ant-api03-FAKE1234');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  using sk-ant-…\[redacted\]$/);
});

test('addSecret masks that value in later lines only', () => {
  const { logger, lines } = capture('debug');
  logger.info('resolved provider-secret-FAKE');
  logger.addSecret('provider-secret-FAKE');
  logger.info('sending provider-secret-FAKE');
  logger.addSecret('short');
  logger.info('short stays');
  assert.match(lines[0]!, /provider-secret-FAKE/);
  assert.match(lines[1]!, /sending \[redacted\]$/);
  assert.match(lines[2]!, /short stays$/);
});

test('level filtering: each level writes itself and above', () => {
  const expected: Record<string, string[]> = {
    debug: ['debug', 'info', 'warn', 'error'],
    info: ['info', 'warn', 'error'],
    warn: ['warn', 'error'],
    error: ['error'],
    silent: [],
  };
  for (const [level, want] of Object.entries(expected)) {
    const { logger, lines } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(lines.map((l) => l.split(' ')[1]), want, `level ${level}`);
  }
});

test('the default level is info', () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l) });
  logger.debug('hidden');
  logger.info('shown');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /shown$/);
});

test('parseLogLevel accepts the five levels and falls back to info', () => {
  for (const l of ['debug', 'info', 'warn', 'error', 'silent']) assert.equal(parseLogLevel(l), l);
  for (const v of [undefined, '', 'verbose', 'DEBUG', 'trace']) assert.equal(parseLogLevel(v), 'info');
});

test('parseLogLevel refuses Object.prototype names', () => {
  for (const v of ['constructor', 'toString', '__proto__']) assert.equal(parseLogLevel(v), 'info', v);
});
