// Tests for local tool tokens over a real settings file: only hashes are stored, verify finds
// the right record, names are validated and unique among active tokens, revoke by name or id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openSettings } from './settings.js';
import { createTokenStore, GATEWAY_AUDIENCE, generateGatewayToken, generateToken, hashToken, TOKEN_PREFIX, TokenError } from './tokens.js';

let root: string;
let n = 0;

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sluice-tokens-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function fresh(now?: () => Date) {
  const settings = await openSettings(join(root, `case-${n++}`));
  return { settings, tokens: createTokenStore(settings, now) };
}

function tokenError(code: TokenError['code']) {
  return (err: unknown) => err instanceof TokenError && err.code === code;
}

test('generateToken: prefix plus 256 random bits in base64url, never repeating', () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^sk-sluice-[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(TOKEN_PREFIX, 'sk-sluice-');
});

/** What Claude Code 2.1.332 does with ANTHROPIC_AUTH_TOKEN (its OL()/S7t()): split on ".", three parts, payload JSON. */
function claudeCodeSeesGateway(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return false;
  try {
    const p = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { aud?: unknown };
    return p.aud === 'claude-gateway' || (Array.isArray(p.aud) && p.aud.includes('claude-gateway'));
  } catch {
    return false;
  }
}

test('generateGatewayToken: a JWT in form whose payload has aud claude-gateway, its third part 256 random bits', () => {
  const a = generateGatewayToken();
  const b = generateGatewayToken();
  assert.match(a, /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.equal(GATEWAY_AUDIENCE, 'claude-gateway');
  assert.ok(claudeCodeSeesGateway(a));
  assert.ok(!claudeCodeSeesGateway(generateToken()));
  const [h, p, secret] = a.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'none', typ: 'JWT' });
  assert.deepEqual(JSON.parse(Buffer.from(p!, 'base64url').toString()), { iss: 'sluice', aud: 'claude-gateway' });
  // The secret is the only part that differs between tokens.
  assert.equal(a.slice(0, -43), b.slice(0, -43));
  assert.equal(Buffer.from(secret!, 'base64url').length, 32);
  assert.notEqual(secret, b.split('.')[2]);
});

test('a gateway-shaped token is stored as its hash and verified like any other; an edited payload is a wrong token', async () => {
  const { settings, tokens } = await fresh();
  const old = await tokens.create('cline');
  const { token, record } = await tokens.create('claude-code', { shape: 'gateway' });
  assert.ok(claudeCodeSeesGateway(token));
  assert.equal(record.hash, createHash('sha256').update(token).digest('hex'));
  assert.equal(record.hint, token.slice(-4));
  const text = await fs.readFile(settings.path, 'utf8');
  assert.ok(!text.includes(token.split('.')[2]!.slice(0, -4)), 'the secret is on disk');
  assert.deepEqual(tokens.verify(token), record);
  assert.deepEqual(tokens.verify(old.token), old.record, 'a sk-sluice- token keeps working beside it');
  const [h, , secret] = token.split('.');
  const otherPayload = Buffer.from(JSON.stringify({ iss: 'sluice', aud: 'claude-gateway', admin: true })).toString('base64url');
  assert.equal(tokens.verify(`${h}.${otherPayload}.${secret}`), null);
  assert.equal(tokens.verify(secret!), null);
  assert.equal(tokens.verify(token.slice(0, -1)), null);
  assert.equal(tokens.verify(generateGatewayToken()), null);
});

test('hashToken is sha256 of the UTF-8 token', () => {
  assert.equal(hashToken('abc').toString('hex'), createHash('sha256').update('abc').digest('hex'));
  assert.equal(hashToken('abc').toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('create returns a sk-sluice- token whose hash, not the token, is stored', async () => {
  const { settings, tokens } = await fresh(() => new Date('2026-03-04T05:06:07.000Z'));
  const { token, record } = await tokens.create('claude-code');
  assert.ok(token.startsWith('sk-sluice-'));
  assert.equal(record.name, 'claude-code');
  assert.equal(record.hash, createHash('sha256').update(token).digest('hex'));
  assert.equal(record.hint, token.slice(-4));
  assert.equal(record.createdAt, '2026-03-04T05:06:07.000Z');
  assert.equal(record.revokedAt, null);
  const text = await fs.readFile(settings.path, 'utf8');
  assert.ok(!text.includes(token), 'the token itself is on disk');
  assert.ok(!text.includes(token.slice(TOKEN_PREFIX.length, -4)), 'the token body is on disk');
  assert.ok(text.includes(record.hash));
  assert.deepEqual(tokens.list(), [record]);
});

test('verify finds the token and rejects wrong, altered and empty ones', async () => {
  const { tokens } = await fresh();
  const { token, record } = await tokens.create('cline');
  assert.deepEqual(tokens.verify(token), record);
  assert.equal(tokens.verify(`${token}x`), null);
  assert.equal(tokens.verify(token.slice(0, -1)), null);
  assert.equal(tokens.verify(token.toUpperCase()), null);
  assert.equal(tokens.verify(generateToken()), null);
  assert.equal(tokens.verify(''), null);
});

test('revoke by name: the token stops verifying and the record is stamped', async () => {
  const { settings, tokens } = await fresh(() => new Date('2026-05-01T00:00:00.000Z'));
  const { token } = await tokens.create('cursor');
  const revoked = await tokens.revoke('cursor');
  assert.equal(revoked.name, 'cursor');
  assert.equal(revoked.revokedAt, '2026-05-01T00:00:00.000Z');
  assert.equal(tokens.verify(token), null);
  const onDisk = JSON.parse(await fs.readFile(settings.path, 'utf8')) as { tokens: Array<{ revokedAt: string | null }> };
  assert.equal(onDisk.tokens[0]!.revokedAt, '2026-05-01T00:00:00.000Z');
});

test('revoke by id leaves other tokens working', async () => {
  const { tokens } = await fresh();
  const a = await tokens.create('a');
  const b = await tokens.create('b');
  const revoked = await tokens.revoke(a.record.id);
  assert.equal(revoked.id, a.record.id);
  assert.equal(tokens.verify(a.token), null);
  assert.deepEqual(tokens.verify(b.token), b.record);
});

test('revoking an unknown or already revoked token throws TOKEN_NOT_FOUND', async () => {
  const { tokens } = await fresh();
  await assert.rejects(tokens.revoke('nobody'), tokenError('TOKEN_NOT_FOUND'));
  await tokens.create('once');
  await tokens.revoke('once');
  await assert.rejects(tokens.revoke('once'), tokenError('TOKEN_NOT_FOUND'));
});

test('a duplicate active name is refused and nothing is stored', async () => {
  const { tokens } = await fresh();
  const first = await tokens.create('dup');
  await assert.rejects(tokens.create('dup'), tokenError('TOKEN_NAME_TAKEN'));
  assert.deepEqual(tokens.list(), [first.record]);
});

test('invalid names are refused', async () => {
  const { tokens } = await fresh();
  for (const name of ['', '-leading-dash', '.hidden', 'has space', 'slash/name', 'ünïcode', 'a'.repeat(65), 'new\nline']) {
    await assert.rejects(tokens.create(name), tokenError('TOKEN_NAME_INVALID'), JSON.stringify(name));
  }
  assert.deepEqual(tokens.list(), []);
  // The boundaries that are allowed.
  await tokens.create('a'.repeat(64));
  await tokens.create('A');
  await tokens.create('tool_1.2-x');
  assert.equal(tokens.list().length, 3);
});

test('after revoke, a new token with the same name works and the old one stays dead', async () => {
  const { tokens } = await fresh();
  const old = await tokens.create('claude-code');
  await tokens.revoke('claude-code');
  const next = await tokens.create('claude-code');
  assert.notEqual(next.token, old.token);
  assert.deepEqual(tokens.verify(next.token), next.record);
  assert.equal(tokens.verify(old.token), null);
  assert.equal(tokens.list().length, 2);
  // Revoking by name now hits the active one only.
  const revoked = await tokens.revoke('claude-code');
  assert.equal(revoked.id, next.record.id);
});

test('verify over many tokens returns exactly the matching record', async () => {
  const { tokens } = await fresh();
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) => tokens.create(`tool-${i}`)));
  assert.equal(tokens.list().length, 40);
  for (const { token, record } of made) assert.deepEqual(tokens.verify(token), record);
  await tokens.revoke('tool-17');
  assert.equal(tokens.verify(made[17]!.token), null);
  assert.deepEqual(tokens.verify(made[18]!.token), made[18]!.record);
});

test('a token created through another store instance verifies after a reload', async () => {
  const dir = join(root, `case-${n++}`);
  const s1 = await openSettings(dir);
  const s2 = await openSettings(dir);
  const t1 = createTokenStore(s1);
  const t2 = createTokenStore(s2);
  assert.equal(t1.verify(generateToken()), null); // primes the cache
  await new Promise((r) => setTimeout(r, 25)); // let the file mtime move past the last one seen
  const { token } = await t2.create('other-process');
  assert.equal(t1.verify(token), null, 'not visible before a reload');
  assert.equal(await s1.reloadIfChanged(), true);
  assert.equal(t1.verify(token)?.name, 'other-process');
});

test('a token verified before is refused once revoked, and carries new tags once they change', async () => {
  const { tokens } = await fresh();
  const { token } = await tokens.create('claude-code');
  const other = await tokens.create('cursor');
  for (let i = 0; i < 3; i++) assert.equal(tokens.verify(token)?.name, 'claude-code');
  await tokens.setTags('claude-code', { team: 'infra' });
  assert.deepEqual(tokens.verify(token)?.tags, { team: 'infra' });
  await tokens.revoke('claude-code');
  assert.equal(tokens.verify(token), null);
  assert.equal(tokens.verify(other.token)?.name, 'cursor');
  assert.equal(tokens.verify(`${other.token}x`), null);
});
