// `sluice reconcile --anthropic` against a loopback mock of the Admin API's Usage and Cost
// Analytics endpoints (the documented shapes: data[] of {starting_at, ending_at, group, usage} and
// {…, cost: {amount, list_amount, currency}} in fractional cents, has_more/next_page paging, the
// analytics beta header). The ledger's own-key rows per UTC day and model against the report: a
// day that matches, a day with traffic that never came through this Sluice (explained), and a
// report that counts less than Sluice sent on a closed day (flagged as unexplained, exit 3).
// Cached: a second run does not call the API. Never the real API: the base URL is 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import { ANALYTICS_BETA, centsToPico } from '../proxy/reconcile-anthropic.js';
import type { SecretStore } from '../proxy/store/secrets.js';
import { tempDir } from './helpers.js';

const D1 = '2026-03-10';
const D2 = '2026-03-11';
const MODEL = 'claude-sonnet-4-5-20250929';
const ADMIN_KEY = 'sk-ant-admin01-test-0000';
let home: Awaited<ReturnType<typeof tempDir>>;
let server: Server;
let base: string;
const hits: string[] = [];
const problems: string[] = [];
/** What the mock reports per day: requests, tokens, cost in cents (as strings). */
let report: Record<string, { requests: number; input: number; w5: number; w1: number; read: number; out: number; cents: string; listCents: string }> = {};

const secrets = (): SecretStore => ({
  get: async (a: string) => (a === 'anthropic-admin' ? ADMIN_KEY : null), set: async () => {}, delete: async () => false, list: async () => [],
} as unknown as SecretStore);

async function cli(dataDir: string, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: dataDir, NO_COLOR: '1', SLUICE_ANTHROPIC_ADMIN_BASE_URL: base }, platform: 'linux', home: home.path, secrets };
  return { code: await runCli(args, io), out };
}

before(async () => {
  home = await tempDir('sluice-recon-anthropic-');
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.push(`${u.pathname}${u.searchParams.get('page') ? `?page=${u.searchParams.get('page')}` : ''}`);
    if (req.headers['x-api-key'] !== ADMIN_KEY) problems.push('no admin key');
    if (req.headers['anthropic-beta'] !== ANALYTICS_BETA) problems.push(`beta header ${String(req.headers['anthropic-beta'])}`);
    if (!req.headers['anthropic-version']) problems.push('no anthropic-version');
    if (!u.searchParams.getAll('group_by[]').includes('model') || u.searchParams.get('bucket_width') !== '1d') problems.push(`query ${u.search}`);
    const days = Object.keys(report).sort();
    const bucket = (day: string) => ({ starting_at: `${day}T00:00:00Z`, ending_at: `${new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 19)}Z` });
    res.setHeader('content-type', 'application/json');
    if (u.pathname === '/v1/organizations/analytics/usage') {
      // Two pages: one day each, so the client must follow next_page.
      const i = u.searchParams.get('page') === 'p2' ? 1 : 0;
      const day = days[i]!;
      const r = report[day]!;
      res.end(JSON.stringify({
        data: [{ ...bucket(day), group: { model: MODEL, service_tier: 'standard' }, usage: {
          uncached_input_tokens: r.input, cache_creation: { ephemeral_5m_input_tokens: r.w5, ephemeral_1h_input_tokens: r.w1 }, cache_read_input_tokens: r.read,
          output_tokens: r.out, requests: r.requests, server_tool_use: { web_search_requests: 0 }, total_tokens: r.input + r.w5 + r.w1 + r.read + r.out } }],
        has_more: i === 0 && days.length > 1, next_page: i === 0 && days.length > 1 ? 'p2' : null,
      }));
    } else if (u.pathname === '/v1/organizations/analytics/cost') {
      res.end(JSON.stringify({ data: days.map((day) => ({ ...bucket(day), group: { model: MODEL }, cost: { amount: report[day]!.cents, list_amount: report[day]!.listCents, currency: 'USD', requests: report[day]!.requests } })), has_more: false, next_page: null }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await home.cleanup();
});

/** A ledger with two own-key requests each on D1 and D2, plus rows the comparison must leave out. */
function seed(dataDir: string): void {
  const l = openLedger(join(dataDir, 'ledger.sqlite'), { tzOffsetMinutes: () => 0 });
  const at = (day: string, h: number) => Date.parse(`${day}T${String(h).padStart(2, '0')}:00:00Z`);
  const own = { servedModel: MODEL, requestedModel: 'claude-sonnet-4-5', target: 'anthropic', callerKind: 'token' as const };
  l.write([
    makeRow({ ...own, id: 'a1', tsStart: at(D1, 9), tsEnd: at(D1, 9) + 10, inputTokens: 100, cacheWrite5mTokens: 2000, cacheReadTokens: 0, outputTokens: 300, costPico: 12_345_678_901 }),
    makeRow({ ...own, id: 'a2', tsStart: at(D1, 23), tsEnd: at(D1, 23) + 10, inputTokens: 50, cacheWrite1hTokens: 10, cacheReadTokens: 2000, outputTokens: 20, costPico: 1_000_000_000 }),
    makeRow({ ...own, id: 'b1', tsStart: at(D2, 1), tsEnd: at(D2, 1) + 10, inputTokens: 10, outputTokens: 5, costPico: 200_000_000 }),
    makeRow({ ...own, id: 'b2', tsStart: at(D2, 2), tsEnd: at(D2, 2) + 10, inputTokens: 20, outputTokens: 7, costPico: 300_000_000 }),
    // Not sent with Sluice's keys, or not sent at all: never part of the comparison.
    makeRow({ ...own, id: 'pt', callerKind: 'passthrough', tsStart: at(D1, 10), tsEnd: at(D1, 10) + 10, inputTokens: 999, outputTokens: 999, costPico: 9_000_000_000 }),
    makeRow({ ...own, id: 'im', source: 'import', callerKind: 'import', tsStart: at(D1, 11), tsEnd: at(D1, 11) + 10, inputTokens: 999, outputTokens: 999, costPico: 9_000_000_000 }),
    makeRow({ ...own, id: 'fail', billed: false, status: 529, errorType: 'overloaded_error', tsStart: at(D1, 12), tsEnd: at(D1, 12) + 10, inputTokens: 0, outputTokens: 0, costPico: 0 }),
  ]);
  l.close();
}

test('cents to pico-dollars, exactly', () => {
  assert.equal(centsToPico('1.3345678901'), 13_345_678_901n);
  assert.equal(centsToPico('0.02'), 200_000_000n);
  assert.equal(centsToPico('123'), 1_230_000_000_000n);
});

test('per UTC day and model: a matching day, traffic that bypassed Sluice explained, cached on the second run', async () => {
  const dataDir = join(home.path, 'ok');
  seed(dataDir);
  report = {
    // D1: exactly the two own-key requests (1.2345678901 + 0.1 cents... in dollars $0.012345678901 + $0.001).
    [D1]: { requests: 2, input: 150, w5: 2000, w1: 10, read: 2000, out: 320, cents: '1.3345678901', listCents: '1.3345678901' },
    // D2: the injected difference: 3 more requests from elsewhere in the organization.
    [D2]: { requests: 5, input: 400, w5: 0, w1: 0, read: 0, out: 100, cents: '0.25', listCents: '0.25' },
  };
  const r = await cli(dataDir, ['reconcile', '--anthropic', '--since', D1, '--until', D2, '--json']);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(problems, []);
  assert.deepEqual(hits, ['/v1/organizations/analytics/usage', '/v1/organizations/analytics/usage?page=p2', '/v1/organizations/analytics/cost']);
  const j = JSON.parse(r.out) as { days: { day: string; status: string; causes: string[] }[]; rows: { day: string; matches: boolean; causes: string[]; sluice: { requests: number; costPico: number } }[] };
  assert.deepEqual(j.days, [{ day: D1, status: 'match', causes: [] }, { day: D2, status: 'explained', causes: ['not_via_sluice'] }]);
  assert.equal(j.rows[0]!.sluice.requests, 2, 'passthrough, imported and unbilled rows left out');
  assert.equal(j.rows[1]!.sluice.requests, 2);

  const text = await cli(dataDir, ['reconcile', '--anthropic', '--since', D1, '--until', D2]);
  assert.equal(text.code, 0, text.out);
  assert.equal(hits.length, 3, 'the second run reads the cache, not the API');
  assert.match(text.out, /\(cached\)/);
  const d2 = text.out.split('\n').find((l) => l.startsWith(D2))!;
  assert.match(d2, /2 \/ 5/);
  assert.match(d2, /not via Sluice/);
  assert.match(text.out, /^not via Sluice: traffic that did not pass through this Sluice/m);
  assert.match(text.out.split('\n').find((l) => l.startsWith(D1))!, /matches/);
  assert.match(text.out, /2 days: 1 match, 1 differ for a known reason, 0 differ unexplained\./);
});

test('a report that counts less than Sluice sent on a closed day is flagged, exit 3', async () => {
  const dataDir = join(home.path, 'bad');
  seed(dataDir);
  hits.length = 0;
  report = {
    [D1]: { requests: 2, input: 150, w5: 2000, w1: 10, read: 2000, out: 315, cents: '1.3345678901', listCents: '1.3345678901' },
    [D2]: { requests: 2, input: 30, w5: 0, w1: 0, read: 0, out: 12, cents: '0.05', listCents: '0.05' },
  };
  const r = await cli(dataDir, ['reconcile', '--anthropic', '--since', D1, '--until', D2]);
  assert.equal(r.code, 3, r.out);
  assert.match(r.out.split('\n').find((l) => l.startsWith(D1))!, /UNEXPLAINED/);
  assert.match(r.out.split('\n').find((l) => l.startsWith(D2))!, /matches/);
  assert.match(r.out, /1 differ unexplained/);
});

test('no Admin key in the keychain: says where to put it, calls nothing', async () => {
  const dataDir = join(home.path, 'nokey');
  hits.length = 0;
  let out = '';
  const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: dataDir, SLUICE_ANTHROPIC_ADMIN_BASE_URL: base }, platform: 'linux', home: home.path,
    secrets: () => ({ get: async () => null } as unknown as SecretStore) };
  assert.equal(await runCli(['reconcile', '--anthropic'], io), 1);
  assert.match(out, /sluice key set anthropic-admin/);
  assert.equal(hits.length, 0);
});
