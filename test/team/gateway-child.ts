// A gateway with team mode in its own process, so a test can SIGKILL it. Prints one JSON line
// {url, token} once listening; SIGTERM closes it cleanly. Env: DATA_DIR, MOCK_URL, TEAM_TICK_MS.
import { createGateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { teamExtension } from '../../proxy/team/index.js';

const env = process.env;
const gw = await createGateway({
  dataDir: env.DATA_DIR!,
  port: 0,
  env: { SLUICE_ANTHROPIC_BASE_URL: env.MOCK_URL!, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKEPROVIDERKEY' },
  secrets: null,
  watchSettings: false,
  logger: createLogger({ level: 'warn', write: (l) => process.stderr.write(`${l}\n`) }),
  extensions: [teamExtension({ tickMs: 200, syncIntervalMs: 300, backoff: { baseMs: 100, maxMs: 800 }, leaseTtlMs: Number(env.TEAM_LEASE_TTL_MS ?? 60_000) })],
});
const { token } = await gw.tokens.create(`${env.TOOL_NAME ?? 'claude-code'}-${process.pid}`);
process.stdout.write(`${JSON.stringify({ url: gw.url, token })}\n`);
process.on('SIGTERM', () => { void gw.close({ drainMs: 2000 }).then(() => process.exit(0)); });
