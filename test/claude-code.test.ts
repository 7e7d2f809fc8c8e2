// The real Claude Code CLI (from the @anthropic-ai/claude-code package) talking through the
// gateway to the mock upstream. A TCP relay in front of the gateway records what Claude Code
// itself put on the wire, so "forwarded unchanged" is checked against the client's bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { headerMap, PROVIDER_KEY, startStack, tempDir, type Stack } from './helpers.js';
import { parseHttpRequests, startRelay, type Relay } from './relay.js';
import { CLAUDE_BIN, runClaude } from './claude-cli.js';

let s: Stack;
let relay: Relay;
let home: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  s = await startStack({ tokenName: 'claude-code' });
  relay = await startRelay(s.gw.port);
  home = await tempDir('sluice-cc-home-');
});
after(async () => {
  await relay.close();
  await s.close();
  await home.cleanup();
});

test('claude -p completes a prompt through Sluice, forwarded byte for byte', { timeout: 90_000 }, async () => {
  assert.ok(existsSync(CLAUDE_BIN), `Claude Code binary missing at ${CLAUDE_BIN} (npm ci installs it)`);
  const run = await runClaude(['-p', 'Say hello'], {
    HOME: home.path,
    ANTHROPIC_BASE_URL: relay.url,
    ANTHROPIC_AUTH_TOKEN: s.token,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
  }, home.path);
  assert.equal(run.code, 0, `claude exited ${run.code}: ${run.stderr}`);
  assert.match(run.stdout, /Hello from the mock\./);

  const sent = relay.connections().flatMap((c) => parseHttpRequests(c)).filter((r) => r.method === 'POST' && r.target.startsWith('/v1/messages'));
  const got = s.mock.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages'));
  assert.ok(sent.length >= 1, 'Claude Code sent a Messages request');
  assert.equal(got.length, sent.length, 'every Messages request reached the mock');
  for (let i = 0; i < sent.length; i++) {
    const c = sent[i]!;
    const m = got[i]!;
    assert.equal(m.url, c.target, 'path and ?beta=true query unchanged');
    assert.ok(m.body.equals(c.body), `body ${i} identical to what Claude Code sent (${c.body.length} bytes)`);
    const ch = headerMap(c.headers.flat());
    const mh = headerMap(m.rawHeaders);
    const session = ch.get('x-claude-code-session-id')?.[0];
    assert.match(session ?? '', /^[0-9a-f-]{36}$/, 'Claude Code sent its session id');
    assert.deepEqual(mh.get('x-claude-code-session-id'), [session]);
    assert.ok((ch.get('anthropic-beta')?.[0] ?? '').includes('claude-code-20250219'));
    assert.deepEqual(mh.get('anthropic-beta'), ch.get('anthropic-beta'));
    assert.deepEqual(mh.get('user-agent'), ch.get('user-agent'));
    assert.deepEqual(mh.get('x-api-key'), [PROVIDER_KEY], 'the Sluice token was swapped for the provider key');
    assert.equal(mh.get('authorization'), undefined);
  }
  assert.ok(got[0]!.body.length > 10_000, 'a real Claude Code body (system prompt and tools), not a toy');
});

test('the ledger session is the transcript Claude Code wrote, with the same token totals', { timeout: 90_000 }, async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const projects = join(home.path, '.claude', 'projects');
  const files: string[] = [];
  for (const d of await readdir(projects)) for (const f of await readdir(join(projects, d))) if (f.endsWith('.jsonl')) files.push(join(projects, d, f));
  assert.equal(files.length, 1, 'one transcript from the one session');
  const sessionId = files[0]!.split('/').at(-1)!.replace(/\.jsonl$/, '');

  // Token totals from the transcript, one per response (lines repeat per content block).
  const seen = new Map<string, { input_tokens: number; output_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number }>();
  for (const line of (await readFile(files[0]!, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as { type?: string; requestId?: string; message?: { id?: string; usage?: never } };
    if (o.type === 'assistant' && o.message?.usage) seen.set(`${o.message.id}:${o.requestId}`, o.message.usage);
  }
  assert.ok(seen.size >= 1);
  const t = [...seen.values()].reduce((a, u) => ({
    input: a.input + u.input_tokens, output: a.output + u.output_tokens,
    write: a.write + (u.cache_creation_input_tokens ?? 0), read: a.read + (u.cache_read_input_tokens ?? 0),
  }), { input: 0, output: 0, write: 0, read: 0 });

  await s.gw.flushUsage();
  const detail = s.gw.ledger!.getSession(sessionId);
  assert.ok(detail, `ledger has session ${sessionId}`);
  const g = detail.session;
  assert.equal(g.tool, 'claude-code');
  assert.deepEqual([g.inputTokens, g.outputTokens, g.cacheWriteTokens, g.cacheReadTokens], [t.input, t.output, t.write, t.read]);
  assert.ok(g.costUsd !== null && g.costUsd > 0);

  // Importing the same transcripts adds nothing to the totals and reconciles cleanly.
  const { importClaudeCodeTranscripts } = await import('../proxy/ledger/import-claude-code.js');
  const { createPriceBook, loadBundledPrices } = await import('../proxy/pricing/index.js');
  const r = await importClaudeCodeTranscripts(s.gw.ledger!, { dir: projects, priceBook: createPriceBook(await loadBundledPrices()) });
  assert.equal(r.responses, seen.size);
  const after = s.gw.ledger!.getSession(sessionId)!.session;
  assert.equal(after.outputTokens, g.outputTokens, 'no double counting');
  const rec = s.gw.ledger!.reconcile({ sessionId });
  assert.equal(rec.length, 1);
  assert.equal(rec[0]!.differs, false);
});

test('resume and fork with the real CLI: the transcripts, imported in any file order, give each session the gateway\'s numbers', { timeout: 180_000 }, async () => {
  const { mkdir, readdir, copyFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { openLedger } = await import('../proxy/ledger/index.js');
  const { importClaudeCodeTranscripts } = await import('../proxy/ledger/import-claude-code.js');
  const { createPriceBook, loadBundledPrices } = await import('../proxy/pricing/index.js');
  const own = await tempDir('sluice-cc-fork-');
  try {
    const env = {
      HOME: own.path, ANTHROPIC_BASE_URL: relay.url, ANTHROPIC_AUTH_TOKEN: s.token,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1',
    };
    const claude = async (args: string[]) => {
      const run = await runClaude(['-p', ...args, '--output-format', 'json'], env, own.path);
      assert.equal(run.code, 0, `claude ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
      return (JSON.parse(run.stdout) as { session_id: string }).session_id;
    };
    const x = await claude(['Say hello']);
    assert.equal(await claude(['Once more', '--resume', x]), x, 'a plain resume continues the same session');
    const y = await claude(['And a fork', '--resume', x, '--fork-session']);
    assert.notEqual(y, x);

    await s.gw.flushUsage();
    const sums = (d: { session: { requests: number; inputTokens: number; outputTokens: number; cacheWriteTokens: number; cacheReadTokens: number; costUsd: number | null } } | null) =>
      d && [d.session.requests, d.session.inputTokens, d.session.outputTokens, d.session.cacheWriteTokens, d.session.cacheReadTokens, d.session.costUsd];
    const truth = { [x]: sums(s.gw.ledger!.getSession(x)), [y]: sums(s.gw.ledger!.getSession(y)) };
    assert.equal(truth[x]![0], 2, 'X made two calls (its prompt and the resumed one)');
    assert.equal(truth[y]![0], 1, "the fork made one call of its own");

    // The transcripts laid out so sorted path order reads X first, then Y first.
    const projects = join(own.path, '.claude', 'projects');
    const files: string[] = [];
    for (const d of await readdir(projects)) for (const f of await readdir(join(projects, d))) if (f.endsWith('.jsonl')) files.push(join(projects, d, f));
    assert.equal(files.length, 2, 'one transcript for X (resumed in place) and one for the fork');
    const priceBook = createPriceBook(await loadBundledPrices());
    for (const first of [x, y]) {
      const layout = join(own.path, `layout-${first}`);
      for (const f of files) {
        const d = join(layout, f.includes(first) ? '0' : '1');
        await mkdir(d, { recursive: true });
        await copyFile(f, join(d, f.split('/').at(-1)!));
      }
      const l = openLedger(join(own.path, `ledger-${first}.sqlite`));
      try {
        const r = await importClaudeCodeTranscripts(l, { dir: layout, priceBook });
        assert.equal(r.responses, 3);
        assert.deepEqual({ [x]: sums(l.getSession(x)), [y]: sums(l.getSession(y)) }, truth, `import with ${first === x ? 'the original' : 'the fork'} read first`);
      } finally {
        l.close();
      }
    }

    // The gateway's own ledger: the import adds nothing and reconcile finds nothing to flag.
    await importClaudeCodeTranscripts(s.gw.ledger!, { dir: projects, priceBook });
    assert.deepEqual({ [x]: sums(s.gw.ledger!.getSession(x)), [y]: sums(s.gw.ledger!.getSession(y)) }, truth);
    const rec = s.gw.ledger!.reconcile().filter((r) => r.sessionId === x || r.sessionId === y);
    assert.deepEqual(rec.map((r) => [r.sessionId, r.differs, r.reasons]).sort(), [[x, false, []], [y, false, []]].sort());
  } finally {
    await own.cleanup();
  }
});
