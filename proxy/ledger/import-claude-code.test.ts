// The Claude Code transcript importer against fixture transcripts shaped like real ones
// (fixtures/claude-projects) and a real ledger file. Costs worked out by hand from the fixture
// prices: test-sonnet $3 in / $15 out / $3.75 5m / $6 1h / $0.30 read; test-opus $5 / $25.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger, type Ledger } from './ledger.js';
import { importClaudeCodeTranscripts } from './import-claude-code.js';
import { makeRow, testPriceBook } from './fixtures/rows.js';
import { rollupMismatches } from './fixtures/check-rollups.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/claude-projects', import.meta.url));
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const UTC = () => 0;
const book = testPriceBook();

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-import-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
const ledgerPath = () => join(dir, `l${n++}.sqlite`);
const open = (path: string): Ledger => openLedger(path, { tzOffsetMinutes: UTC });

test('imports one row per response: streamed lines deduped, synthetic and malformed lines counted', async () => {
  const path = ledgerPath();
  const l = open(path);
  const r = await importClaudeCodeTranscripts(l, { dir: FIXTURES, priceBook: book });
  assert.deepEqual(r, {
    files: 3, lines: 17, responses: 5, inserted: 5,
    skippedDuplicates: 1, // the resumed session B repeats msg_A2
    updated: 0, shadowedByGateway: 0, malformed: 2, synthetic: 1, unreadableFiles: 0,
  });

  const a = l.getSession(A)!;
  // msg_A1 (final line: 120 out), msg_A2, msg_A3 (unpriced) and the subagent's msg_S1.
  assert.deepEqual(a.requests.map((x) => x.id), ['import:req_A1', 'import:req_S1', 'import:req_A2', 'import:req_A3']);
  const a1 = a.requests[0]!;
  assert.equal(a1.outputTokens, 120);
  assert.equal(a1.cacheWrite5mTokens, 2000);
  assert.equal(a1.stopReason, 'tool_use');
  assert.equal(a1.tsStart, Date.parse('2026-03-10T10:00:05.000Z'), 'the first line of the response');
  assert.equal(a1.tsEnd, Date.parse('2026-03-10T10:00:07.000Z'), 'the last line of the response');
  assert.equal(a1.project, '/home/dev/app');
  assert.equal(a1.clientVersion, '2.1.197');
  assert.equal(a1.messageId, 'msg_A1');
  assert.equal(a1.upstreamRequestId, 'req_A1');
  assert.equal(a1.source, 'import');
  assert.equal(a1.callerKind, 'import');
  // 3x3 + 120x15 + 2000x3.75 + 10000x0.3 = 12,309 micro-USD
  assert.equal(a1.costPico, 12_309_000_000);
  const a2 = a.requests[2]!;
  assert.deepEqual([a2.cacheWrite5mTokens, a2.cacheWrite1hTokens, a2.cacheReadTokens], [0, 1000, 12_000]);
  // 5x3 + 40x15 + 1000x6 + 12000x0.3 = 10,215 micro-USD
  assert.equal(a2.costPico, 10_215_000_000);
  assert.equal(a.requests[1]!.agentId, 'abc123');
  assert.equal(a.requests[3]!.costPico, null);

  const s = a.session;
  assert.equal(s.requests, 4);
  assert.equal(s.tool, 'claude-code');
  assert.equal(s.project, '/home/dev/app');
  assert.deepEqual(s.models, ['mystery-model', 'test-sonnet']);
  assert.equal(s.imported, true);
  assert.equal(s.viaGateway, false);
  // 12,309 + 10,215 + (50x3 + 60x15 = 1,050) micro-USD; msg_A3 unpriced.
  assert.equal(s.costUsd, 0.023574);
  assert.equal(s.unpricedRequests, 1);
  assert.equal(s.outputTokens, 120 + 40 + 10 + 60);

  const b = l.getSession(B)!;
  assert.deepEqual(b.requests.map((x) => x.id), ['import:req_B1']);
  // 100x5 + 200x25 = 5,500 micro-USD
  assert.equal(b.session.costUsd, 0.0055);
  assert.deepEqual(rollupMismatches(path, UTC), []);
  l.close();
});

test('importing twice adds nothing', async () => {
  const l = open(ledgerPath());
  await importClaudeCodeTranscripts(l, { dir: FIXTURES, priceBook: book });
  const before = l.totals();
  const again = await importClaudeCodeTranscripts(l, { dir: FIXTURES, priceBook: book });
  assert.equal(again.inserted, 0);
  assert.equal(again.skippedDuplicates, 6);
  assert.equal(again.responses, 5);
  assert.deepEqual(l.totals(), before);
  l.close();
});

test('a transcript read mid-response is completed by a later import', async () => {
  const projects = join(dir, `partial-${n++}`);
  const file = join(projects, '-tmp-x', 'sess-partial.jsonl');
  mkdirSync(join(projects, '-tmp-x'), { recursive: true });
  const line = (out: number, stop: string | null, ts: string) => JSON.stringify({
    type: 'assistant', sessionId: 'sess-partial', cwd: '/tmp/x', timestamp: ts, requestId: 'req_P',
    message: { id: 'msg_P', model: 'test-sonnet', role: 'assistant', stop_reason: stop, usage: { input_tokens: 10, output_tokens: out } },
  });
  writeFileSync(file, line(1, null, '2026-03-10T10:00:00.000Z') + '\n');
  const path = ledgerPath();
  const l = open(path);
  const first = await importClaudeCodeTranscripts(l, { dir: projects, priceBook: book });
  assert.equal(first.inserted, 1);
  assert.equal(l.totals().outputTokens, 1);
  assert.equal(l.getSession('sess-partial')!.requests[0]!.complete, false);
  appendFileSync(file, line(300, 'end_turn', '2026-03-10T10:00:09.000Z') + '\n');
  const second = await importClaudeCodeTranscripts(l, { dir: projects, priceBook: book });
  assert.equal(second.updated, 1);
  assert.equal(second.inserted, 0);
  const t = l.totals();
  assert.equal(t.requests, 1);
  assert.equal(t.outputTokens, 300);
  // 10x3 + 300x15 = 4,530 micro-USD
  assert.equal(t.costUsd, 0.00453);
  assert.equal(l.getSession('sess-partial')!.requests[0]!.complete, true);
  assert.deepEqual(rollupMismatches(path, UTC), []);
  l.close();
});

test('a response the gateway already recorded is not counted twice, and reconcile shows the gap', async () => {
  const path = ledgerPath();
  const l = open(path);
  // The gateway saw msg_A1 only (with the same usage the transcript reports) and a title call
  // the transcript never records.
  l.write([
    makeRow({ id: 'sluice_g1', sessionId: A, messageId: 'msg_A1', tool: 'laptop', inputTokens: 3, outputTokens: 120, cacheWrite5mTokens: 2000, cacheReadTokens: 10_000, costPico: 12_309_000_000 }),
    makeRow({ id: 'sluice_g2', sessionId: A, messageId: 'msg_title', tool: 'laptop', inputTokens: 200, outputTokens: 9, costPico: 735_000_000 }),
  ]);
  const r = await importClaudeCodeTranscripts(l, { dir: FIXTURES, priceBook: book });
  assert.equal(r.inserted, 5);
  assert.equal(r.shadowedByGateway, 1);
  const s = l.getSession(A)!;
  assert.equal(s.session.requests, 5, 'g1, g2, A2, A3, S1: msg_A1 counted once');
  assert.equal(s.session.outputTokens, 120 + 9 + 40 + 10 + 60);
  assert.equal(s.session.tool, 'laptop');
  assert.equal(s.session.viaGateway, true);
  assert.equal(s.session.imported, true);
  assert.equal(s.requests.find((x) => x.id === 'import:req_A1')!.counted, false);

  const [rec] = l.reconcile({ sessionId: A });
  assert.ok(rec);
  assert.equal(rec.matchedMessages, 1);
  assert.equal(rec.gateway.responses, 2);
  assert.equal(rec.imported.responses, 4);
  assert.equal(rec.gateway.outputTokens, 129);
  assert.equal(rec.imported.outputTokens, 230);
  // The sums differ, but every response both saw agrees: the gaps are explained, not a mismatch.
  assert.equal(rec.differs, false);
  assert.deepEqual(rec.reasons, [
    { kind: 'not_via_gateway', responses: 3 }, // A2, A3, the subagent's S1
    { kind: 'not_in_transcripts', responses: 1 }, // the title call
    { kind: 'unpriced', responses: 1 }, // A3's mystery-model
  ]);
  // Every session seen either way is listed (B only in transcripts).
  assert.deepEqual(l.reconcile().map((x) => x.sessionId), [A, B]);
  assert.deepEqual(rollupMismatches(path, UTC), []);
  l.close();
});

test('reconcile flags a response the two sides recorded differently', async () => {
  const l = open(ledgerPath());
  // The gateway's msg_A2 says 41 output tokens; the transcript says 40.
  l.write([makeRow({ id: 'sluice_a2', sessionId: A, messageId: 'msg_A2', inputTokens: 5, outputTokens: 41, cacheWrite1hTokens: 1000, cacheReadTokens: 12_000, costPico: 10_230_000_000 })]);
  await importClaudeCodeTranscripts(l, { dir: FIXTURES, priceBook: book });
  const [rec] = l.reconcile({ sessionId: A });
  assert.equal(rec!.differs, true);
  assert.deepEqual(rec!.reasons.find((x) => x.kind === 'mismatch'), { kind: 'mismatch', responses: 1 });
  l.close();
});

test('a missing projects dir imports nothing; empty files and directories named *.jsonl are harmless', async () => {
  const l = open(ledgerPath());
  const r = await importClaudeCodeTranscripts(l, { dir: join(dir, 'does-not-exist'), priceBook: book });
  assert.equal(r.files, 0);
  assert.equal(r.inserted, 0);
  const projects = join(dir, `perm-${n++}`);
  cpSync(FIXTURES, projects, { recursive: true });
  // A directory named like a transcript cannot be read as one.
  mkdirSync(join(projects, '-home-dev-app', 'weird.jsonl'));
  const lines = join(projects, '-home-dev-app', 'empty.jsonl');
  writeFileSync(lines, '\n\n');
  const r2 = await importClaudeCodeTranscripts(l, { dir: projects, priceBook: book });
  assert.equal(r2.files, 4, 'the empty file is read; the directory is not a file');
  assert.equal(r2.inserted, 5);
  l.close();
});

test('a line without a timestamp falls back to now()', async () => {
  const projects = join(dir, `nots-${n++}`);
  mkdirSync(join(projects, 'p'), { recursive: true });
  writeFileSync(join(projects, 'p', 's-nots.jsonl'), JSON.stringify({
    type: 'assistant', requestId: 'req_T', message: { id: 'msg_T', model: 'test-sonnet', usage: { input_tokens: 1, output_tokens: 1 } },
  }) + '\n');
  const l = open(ledgerPath());
  await importClaudeCodeTranscripts(l, { dir: projects, priceBook: book, now: () => 1_234_567 });
  const s = l.getSession('s-nots')!;
  assert.equal(s.requests[0]!.tsStart, 1_234_567);
  assert.equal(s.session.sessionId, 's-nots', 'the file name names the session when the line does not');
  l.close();
});

// fixtures/claude-forks: session O (bbbb…) ran three turns; at t=100 `claude --resume O
// --fork-session` made F (aaaa…), whose transcript begins with O's first two turns copied with
// only sessionId changed (as Claude Code 2.1.332 writes them), then F's own turn. Sorted by
// path, F's file comes first.
const FORKS = fileURLToPath(new URL('./fixtures/claude-forks', import.meta.url));
const O = 'bbbbbbbb-0000-4000-8000-00000000000b';
const F = 'aaaaaaaa-0000-4000-8000-00000000000a';
const FORK_TRUTH = {
  // O1 (50 out), O2 (70), O3 (30): 35x3 + 150x15 + 6000x0.3 = 4,155 micro-USD.
  [O]: { ids: ['import:req_O1', 'import:req_O2', 'import:req_O3'], inputTokens: 35, outputTokens: 150, cacheReadTokens: 6000, costUsd: 0.004155 },
  // F1 only: 7x3 + 90x15 + 4000x0.3 = 2,571 micro-USD.
  [F]: { ids: ['import:req_F1'], inputTokens: 7, outputTokens: 90, cacheReadTokens: 4000, costUsd: 0.002571 },
};

/** The fork fixture laid out so that sorted path order reads the files in `order`. */
function forkLayout(order: readonly string[]): string {
  const root = join(dir, `forks-${n++}`);
  order.forEach((session, i) => {
    const d = join(root, `${i}-project`);
    mkdirSync(d, { recursive: true });
    cpSync(join(FORKS, '-home-dev-fork', `${session}.jsonl`), join(d, `${session}.jsonl`));
  });
  return root;
}

const perSession = (l: Ledger) => Object.fromEntries([O, F].map((id) => {
  const d = l.getSession(id);
  return [id, d && { ids: d.requests.map((r) => r.id), inputTokens: d.session.inputTokens, outputTokens: d.session.outputTokens, cacheReadTokens: d.session.cacheReadTokens, costUsd: d.session.costUsd }];
}));

test('a forked session: each response belongs to the session that produced it, whatever the file order', async () => {
  for (const projects of [FORKS, forkLayout([F, O]), forkLayout([O, F])]) {
    const path = ledgerPath();
    const l = open(path);
    const r = await importClaudeCodeTranscripts(l, { dir: projects, priceBook: book });
    assert.equal(r.responses, 4, 'O1, O2, O3, F1: the copies are not responses of their own');
    assert.equal(r.inserted, 4);
    assert.equal(r.skippedDuplicates, 2, "the fork's copies of O1 and O2");
    assert.deepEqual(perSession(l), FORK_TRUTH, projects);
    assert.deepEqual(rollupMismatches(path, UTC), []);
    l.close();
  }
});

test('reconcile on a fork: both sessions listed, no false alarm, the bypassed one says so', async () => {
  const path = ledgerPath();
  const l = open(path);
  // F ran through Sluice (its own turn only); O bypassed it.
  l.write([makeRow({ id: 'sluice_f1', sessionId: F, messageId: 'msg_F1', inputTokens: 7, outputTokens: 90, cacheReadTokens: 4000, costPico: 2_571_000_000 })]);
  await importClaudeCodeTranscripts(l, { dir: FORKS, priceBook: book });
  assert.deepEqual(perSession(l)[O], FORK_TRUTH[O]);
  assert.equal(l.getSession(F)!.session.costUsd, 0.002571, 'F1 counted once');
  const rec = l.reconcile();
  assert.deepEqual(rec.map((x) => [x.sessionId, x.differs]), [[F, false], [O, false]]);
  const [f, o] = rec;
  assert.equal(f!.matchedMessages, 1);
  assert.deepEqual(f!.reasons, []);
  assert.equal(o!.gateway.responses, 0);
  assert.equal(o!.imported.responses, 3);
  assert.deepEqual(o!.reasons, [{ kind: 'not_via_gateway', responses: 3 }]);
  l.close();
});
