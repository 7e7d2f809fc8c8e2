// Plumbing shared by the team tests: gateways with team mode in child processes, joining through
// the real CLI code, load, and reading a ledger file the way the replicator does.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTeamCli } from '../../proxy/team/cli.js';
import { createMemorySecretStore } from '../../proxy/store/secrets.js';
import { openDatabase } from '../../proxy/ledger/sqlite.js';
import { authHeaders, rawRequest } from '../helpers.js';

const CHILD = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));

export interface ChildGateway {
  url: string;
  token: string;
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startChildGateway(dataDir: string, mockUrl: string, extraEnv: Record<string, string> = {}): Promise<ChildGateway> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, MOCK_URL: mockUrl, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    proc.stderr!.on('data', (d) => { err += d; });
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      const { url, token } = JSON.parse(out.slice(0, nl)) as { url: string; token: string };
      resolve({ url, token, proc, exited, stderr: () => err, stop: async (signal = 'SIGTERM') => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal); return exited; } });
    });
    proc.on('exit', (code) => reject(new Error(`gateway child exited ${code}: ${err}`)));
  });
}

export async function cli(dataDir: string, args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const secrets = createMemorySecretStore();
  const code = await runTeamCli(args, {
    stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, readStdin: async () => stdin,
    env: {}, platform: 'linux', home: dataDir, secrets: () => secrets,
  }, dataDir);
  return { code, stdout, stderr };
}

/** One Messages request; resolves with the status (0: the gateway was not there). */
export async function message(url: string, token: string, maxTokens = 64): Promise<number> {
  try {
    const r = await rawRequest(`${url}/v1/messages`, {
      method: 'POST', headers: authHeaders(token),
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: maxTokens, messages: [{ role: 'user', content: 'hello team' }] }),
    });
    return r.status;
  } catch {
    return 0;
  }
}

export interface LocalRow { id: string; cost: number | null; input: number; output: number; billed: number }

/** This machine's gateway rows, as the replicator reads them. */
export function localRows(dataDir: string): LocalRow[] {
  const db = openDatabase(join(dataDir, 'ledger.sqlite'), { readonly: true });
  try {
    return db.prepare("SELECT id, cost_pico AS cost, input_tokens AS input, output_tokens AS output, billed FROM requests WHERE source = 'gateway'").all() as unknown as LocalRow[];
  } finally {
    db.close();
  }
}

export interface TeamSeedRow {
  member: string;
  machine: string;
  tool: string;
  project: string | null;
  model: string;
  ts: number;
  input: number;
  output: number;
  cacheRead?: number;
  costPico: number | null;
  status?: number;
}

/**
 * Rows of other members' machines straight into the team database (as their gateways would have
 * replicated them), with their machines registered. Test support only.
 */
export async function seedTeamRows(query: (sql: string, params?: unknown[]) => Promise<unknown>, rows: TeamSeedRow[]): Promise<void> {
  for (const [i, r] of rows.entries()) {
    const machineId = `seed-${r.machine}`;
    await query(`INSERT INTO team_machines (machine_id, member, name, sluice_version) VALUES ($1, $2, $3, 'seed') ON CONFLICT (machine_id) DO NOTHING`, [machineId, r.member, r.machine]);
    await query(`INSERT INTO team_requests (machine_id, id, member, ts_start, ts_end, session_id, tool, caller_kind, client_family, endpoint, requested_model, served_model,
      provider, status, error_type, stream, input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests,
      cost_pico, billed, complete, counted, project)
      VALUES ($1, $2, $3, $4, $5, NULL, $6, 'tool', 'claude-code', 'messages', $7, $7, 'anthropic', $8, $9, false, $10, $11, 0, 0, $12, 0, $13, $14, true, true, $15)`,
    [machineId, `seed-${i}`, r.member, r.ts, r.ts + 1000, r.tool, r.model, r.status ?? 200, (r.status ?? 200) >= 400 ? 'api_error' : null,
      r.input, r.output, r.cacheRead ?? 0, r.costPico, (r.status ?? 200) < 400, r.project]);
  }
}
