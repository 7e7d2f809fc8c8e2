// A real gateway with the admin extension (and, when asked, the control extension) over the mock
// upstream, in a temp data dir, for the admin API tests and the browser tests. Test support only.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import type { SecretStore } from '../../proxy/store/secrets.js';
import type { Ledger } from '../../proxy/ledger/index.js';
import { adminExtension, type AdminExtensionFactory, type AdminOptions } from '../../proxy/admin/index.js';
import { controlExtension, type ControlExtension, type ControlExtensionOptions } from '../../proxy/control/index.js';
import { teamExtension, type TeamExtension, type TeamExtensionOptions } from '../../proxy/team/index.js';
import { insightsExtension, type InsightsExtension } from '../../proxy/insights/index.js';
import { rawRequest, tempDir, PROVIDER_KEY, type RawResponse } from '../helpers.js';
import { startMockUpstream, type Behavior, type MockUpstream } from '../mock-upstream.js';

export interface AdminStack {
  gw: Gateway;
  admin: AdminExtensionFactory;
  /** The control extension, when the stack was started with `control`. */
  control: ControlExtension | null;
  /** The team extension, when the stack was started with `team`. */
  team: TeamExtension | null;
  /** The insights extension, when the stack was started with `insights`. */
  insights: InsightsExtension | null;
  mock: MockUpstream;
  dataDir: string;
  /** A fake home for the tool adapters. */
  home: string;
  /** A tool token (not an admin token). */
  toolToken: string;
  logs: string[];
  /** Calls the admin API with the admin token; JSON in, parsed JSON out. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse & { json: any }>;
  close(): Promise<void>;
}

export async function startAdminStack(opts: {
  secrets?: SecretStore | null;
  env?: Record<string, string>;
  admin?: AdminOptions;
  behavior?: Behavior;
  port?: number;
  /** The gateway's ledger, opened by the caller (a test that makes its writes fail); default the data dir's. */
  ledger?: Ledger;
  /** Also mount the control extension (budgets, policies, guardrails, capture), authorized by the admin's check. */
  control?: boolean | Omit<ControlExtensionOptions, 'authorize'>;
  /** Also mount the team extension (team.sqlite in the data dir), authorized by the admin's check. */
  team?: boolean | Omit<TeamExtensionOptions, 'authorize'>;
  /** Also mount the insights extension (GET /admin/api/insights), authorized by the admin's check. */
  insights?: boolean;
} = {}): Promise<AdminStack> {
  const mock = await startMockUpstream(opts.behavior);
  const dir = await tempDir('sluice-admin-');
  const home = join(dir.path, 'home');
  const dataDir = join(dir.path, 'data');
  await mkdir(home, { recursive: true });
  const logs: string[] = [];
  const admin = adminExtension({ machine: { home, platform: 'linux', cwd: home }, ...opts.admin });
  let control: ControlExtension | null = null;
  const makeControl = opts.control ? controlExtension({ ...(opts.control === true ? {} : opts.control), authorize: admin.authorize }) : null;
  let team: TeamExtension | null = null;
  const makeTeam = opts.team ? teamExtension({ ...(opts.team === true ? {} : opts.team), authorize: admin.authorize }) : null;
  let insights: InsightsExtension | null = null;
  const makeInsights = opts.insights ? insightsExtension({ authorize: admin.authorize }) : null;
  const gw = await createGateway({
    dataDir,
    port: opts.port ?? 0,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY, ...opts.env },
    secrets: opts.secrets ?? null,
    ...(opts.ledger ? { ledger: opts.ledger } : {}),
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    // Control before admin: extensions mount their routes in order, and the admin router ends in
    // a catch-all 404 under /admin/api that would answer every /admin/api/control route first.
    extensions: [
      ...(makeControl ? [(internals: Parameters<typeof makeControl>[0]) => (control = makeControl(internals))] : []),
      ...(makeTeam ? [(internals: Parameters<typeof makeTeam>[0]) => (team = makeTeam(internals))] : []),
      ...(makeInsights ? [(internals: Parameters<typeof makeInsights>[0]) => (insights = makeInsights(internals))] : []),
      admin,
    ],
  });
  const { token } = await gw.tokens.create('test-tool');
  return {
    gw, admin, control, team, insights, mock, dataDir, home, toolToken: token, logs,
    async api(method, path, body, headers = {}) {
      const h: Record<string, string> = { authorization: `Bearer ${admin.adminToken}`, ...headers };
      const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      if (text !== undefined) {
        if (!('content-type' in h)) h['content-type'] = 'application/json';
        // Node sends a DELETE body without framing unless told its length.
        h['content-length'] = String(Buffer.byteLength(text));
      }
      const r = await rawRequest(`${gw.url}/admin/api${path}`, { method, headers: h, body: text });
      let json: unknown = null;
      try { json = JSON.parse(r.body.toString('utf8')); } catch { /* CSV, SSE or empty */ }
      return { ...r, json };
    },
    async close() {
      await gw.close({ drainMs: 2000 });
      await mock.close();
      await dir.cleanup();
    },
  };
}
