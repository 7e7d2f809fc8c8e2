// End-to-end plumbing for the control tests: a real gateway with the control extension (config
// from an in-memory section), the mock upstream, a token, and an admin bearer check.
import type { IncomingMessage } from 'node:http';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { controlExtension, type ControlExtension, type ControlExtensionOptions } from '../../proxy/control/index.js';
import { createMemoryConfig } from '../../proxy/control/fixtures/memory-config.js';
import type { AlertEvent } from '../../proxy/events.js';
import { startMockUpstream, type Behavior, type MockUpstream } from '../mock-upstream.js';
import { PROVIDER_KEY, tempDir } from '../helpers.js';

export const ADMIN_TOKEN = 'test-admin-token-1';

export interface ControlStack {
  mock: MockUpstream;
  gw: Gateway;
  ext: ControlExtension;
  config: ReturnType<typeof createMemoryConfig>;
  token: string;
  tokens: Record<string, string>;
  dataDir: string;
  alerts: AlertEvent[];
  logs: string[];
  close(): Promise<void>;
}

export async function startControlStack(o: { control?: unknown; behavior?: Behavior; tokenNames?: string[]; ext?: Partial<ControlExtensionOptions> } = {}): Promise<ControlStack> {
  const mock = await startMockUpstream(o.behavior);
  const dir = await tempDir('sluice-control-');
  const config = createMemoryConfig(o.control ?? {});
  const logs: string[] = [];
  const alerts: AlertEvent[] = [];
  let ext!: ControlExtension;
  const make = controlExtension({
    config: () => config.get(),
    saveConfig: async (next) => { await config.save(next); },
    authorize: (req: IncomingMessage) => req.headers.authorization === `Bearer ${ADMIN_TOKEN}`,
    ...o.ext,
  });
  const gw = await createGateway({
    dataDir: dir.path, port: 0, secrets: null,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    extensions: [(internals) => {
      internals.events.on('alert', (a) => alerts.push(a));
      ext = make(internals);
      return ext;
    }],
  });
  const tokens: Record<string, string> = {};
  for (const name of o.tokenNames ?? ['tool-a']) tokens[name] = (await gw.tokens.create(name)).token;
  return {
    mock, gw, ext, config, token: Object.values(tokens)[0]!, tokens, dataDir: dir.path, alerts, logs,
    async close() {
      await gw.close({ drainMs: 2000 });
      await mock.close();
      await dir.cleanup();
    },
  };
}

export function messagesBody(o: { model?: string; maxTokens?: number; text?: string; pad?: number; extra?: Record<string, unknown> } = {}): string {
  return JSON.stringify({
    model: o.model ?? 'claude-sonnet-4-5-20250929',
    max_tokens: o.maxTokens ?? 64,
    messages: [{ role: 'user', content: (o.text ?? 'hello') + ' '.repeat(o.pad ?? 0) }],
    ...o.extra,
  });
}
