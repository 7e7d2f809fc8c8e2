// A gateway for the resilience tests: settings written before start (the retry budget reads its
// ratio once), env key pools, a primary and an optional backup mock upstream, and readers for
// the ledger rows and /health. Test code only.
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { writeFileAtomic } from '../../proxy/store/atomic-file.js';
import type { RequestRecord } from '../../proxy/ledger/index.js';
import { startMockUpstream, type Behavior, type MockUpstream } from '../mock-upstream.js';
import { authHeaders, rawRequest, tempDir, type RawResponse } from '../helpers.js';

// Obviously fake keys; the mock tells them apart by x-api-key.
export const KEY_1 = 'test-key-1';
export const KEY_2 = 'test-key-2';
export const BACKUP_KEY = 'test-backup-1';

export const BODY = '{"model":"claude-sonnet-4-5-20250929","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}';
export const STREAM_BODY = '{"model":"claude-sonnet-4-5-20250929","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}';

export interface ResilienceStack {
  gw: Gateway;
  primary: MockUpstream;
  backup: MockUpstream | null;
  token: string;
  logs: string[];
  post(body?: string, headers?: Record<string, string>): Promise<RawResponse>;
  health(): Promise<{ resilience: { breakers: { target: string; state: string; recentFailures: number }[]; pools: Record<string, { id: string; coolingUntil: number | null; rateLimited: number; hint?: string }[]>; retryBudget: number } }>;
  /** Every ledger row written so far, oldest first, with its attempts. */
  rows(): Promise<RequestRecord[]>;
  close(): Promise<void>;
}

export interface StackOptions {
  behavior?: Behavior;
  /** Starts a second mock as provider `backup` with SLUICE_BACKUP_API_KEY. */
  backup?: Behavior;
  /** The `resilience` settings section (merged over the defaults by the schema). */
  resilience?: Record<string, unknown>;
  timeouts?: Record<string, number>;
  /** Anthropic keys, as SLUICE_ANTHROPIC_API_KEYS (ids anthropic:env1, anthropic:env2, ...). */
  keys?: readonly string[];
}

export async function startResilienceStack(o: StackOptions = {}): Promise<ResilienceStack> {
  const primary = await startMockUpstream(o.behavior);
  const backup = o.backup ? await startMockUpstream(o.backup) : null;
  const dir = await tempDir('sluice-resil-');
  const settings: Record<string, unknown> = { version: 1, resilience: o.resilience ?? {} };
  if (o.timeouts) settings.timeouts = o.timeouts;
  if (backup) settings.providers = { backup: { type: 'anthropic', baseUrl: backup.url } };
  await writeFileAtomic(join(dir.path, 'settings.json'), JSON.stringify(settings), { backup: false });
  const logs: string[] = [];
  const gw = await createGateway({
    dataDir: dir.path,
    port: 0,
    secrets: null,
    env: {
      SLUICE_ANTHROPIC_BASE_URL: primary.url,
      SLUICE_ANTHROPIC_API_KEYS: (o.keys ?? [KEY_1]).join(','),
      ...(backup ? { SLUICE_BACKUP_API_KEY: BACKUP_KEY } : {}),
    },
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
  });
  const { token } = await gw.tokens.create('resil-test');
  return {
    gw, primary, backup, token, logs,
    post: (body = BODY, headers = {}) => rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token, headers), body }),
    health: async () => JSON.parse((await rawRequest(`${gw.url}/health`)).body.toString()),
    async rows() {
      await gw.flushUsage();
      return gw.ledger!.requestsInRange({ limit: 100_000 }).requests;
    },
    async close() {
      await gw.close({ drainMs: 2000 });
      await primary.close();
      await backup?.close();
      await dir.cleanup();
    },
  };
}

/** Which provider key each upstream request carried, in order. */
export function keysSeen(mock: MockUpstream): (string | null)[] {
  return mock.requests.map((r) => (typeof r.headers['x-api-key'] === 'string' ? r.headers['x-api-key'] : null));
}
