// The `sluice` command: serve, token, key. Testable: all I/O comes in through `CliIo`.
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { tuneGcForBodies } from './gc-tuning.js';
import { createGateway } from './gateway.js';
import { openSettings, SettingsError } from './store/settings.js';
import { callGateway, findRunningGateway, GatewayCallError, openCliSettings } from './cli-settings.js';
import { LockTimeoutError } from './store/file-lock.js';
import { createTokenStore, TokenError } from './store/tokens.js';
import { createKeychainStore, envVarFor, keychainHelp, keyHint, SecretStoreError, type SecretStore } from './store/secrets.js';
import { defaultDataDir } from './store/paths.js';
import { createLogger, parseLogLevel } from './log.js';
import { VERSION } from './version.js';
import { configureTool, followPort, listTools, ToolsCliUsageError } from './cli-tools.js';
import { GatewayError } from './errors.js';
import { importClaudeCode, LedgerCliUsageError, reconcile, showSession, stats } from './cli-ledger.js';
import { reconcileAnthropic } from './cli-reconcile-anthropic.js';
import { join } from 'node:path';
import { adminExtension } from './admin/index.js';
import { controlExtension, isControlCommand, runControlCli, CONTROL_HELP } from './control/index.js';
import { isProfileCommand, PROFILE_HELP, runProfileCli } from './profiles/cli.js';
import { insightsExtension } from './insights/index.js';
import { INSIGHTS_HELP, runInsightsCli } from './insights/cli.js';
import { ADMIN_RUNTIME_FILE, OpenError, openDashboard } from './admin/cli-open.js';
import { isRoutingCommand, runRoutingCli, ROUTING_HELP } from './routing/cli.js';
import { isObserveCommand, ObserveCliUsageError, observeExtension, OBSERVE_HELP, parseTagArgs, runObserveCli } from './observe/index.js';
import { runStatusline } from './statusline.js';
import { report, REPORT_HELP } from './cli-report.js';
import { runTeamCli, teamExtension, TEAM_HELP } from './team/index.js';

export interface CliIo {
  cwd?: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** stdout is a terminal: tables may be coloured (never under NO_COLOR). */
  isTTY?: boolean;
  /** Reads standard input to its end (key material arrives here, never in argv). */
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  /** The keychain; injectable for tests of this module. */
  secrets?: () => SecretStore;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); serve drains then. */
  onStop?: (handler: (signal: string) => void) => void;
}

const HELP = `sluice ${VERSION} — a local gateway for Claude Code and other LLM tools

Usage:
  sluice serve [--port N] [--data-dir DIR] [--log-level debug|info|warn|error]
  sluice token create <name> [--data-dir DIR]   prints the new token as the last line
  sluice token list [--data-dir DIR]
  sluice token revoke <name|id> [--data-dir DIR]
  sluice key set <provider>        reads the key from stdin, stores it in the OS keychain
  sluice key delete <provider>
  sluice key list                  provider and last 4 characters only
  sluice stats [--by session|day|model|tool] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]
  sluice sessions show <session-id> [--json]
  sluice import claude-code [--dir DIR]   cost sessions from Claude Code transcripts
  sluice reconcile [--session ID] [--json] gateway vs transcript token counts
  sluice reconcile --anthropic [--since D] [--until D] [--refresh] [--json]
                                   the ledger vs Anthropic's own usage and cost report per UTC
                                   day and model (Admin key: \`sluice key set anthropic-admin\`)
  sluice report daily|weekly|monthly|session|blocks [--since D] [--until D] [--project P] [--tool T]
        [--model M] [--breakdown] [--json] [--live]   ccusage-style reports (sluice report --help)
  sluice tools [--json]                  what each coding tool is configured to use
  sluice configure <tool> [--dry-run] [--undo] [--port N]
        tools: claude-code, claude-code-vscode, claude-code-cursor, cursor-terminal, cline, shell
  sluice configure claude-code --statusline[=replace]   also show Sluice in Claude Code's status line
  sluice statusline                reads Claude Code's statusLine JSON on stdin, prints one line
  sluice open                      a fresh one-time login link to the running gateway's dashboard
  sluice --version | --help

Environment:
  SLUICE_DATA_DIR, SLUICE_PORT, SLUICE_ANTHROPIC_BASE_URL,
  SLUICE_ANTHROPIC_API_KEY (used when the keychain holds no anthropic key)

Point Claude Code at a running gateway:
  export ANTHROPIC_BASE_URL=http://127.0.0.1:7420
  export ANTHROPIC_AUTH_TOKEN=<a token from: sluice token create claude-code>
`;

class UsageError extends Error {}

const PROVIDER_RE = /^[a-z][a-z0-9-]{0,31}(:[A-Za-z0-9_-]{1,32})?$/;

/** `--data-dir D` / `--data-dir=D` from argv, for commands that parse their own options. */
function dataDirArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') return argv[i + 1];
    if (argv[i]!.startsWith('--data-dir=')) return argv[i]!.slice('--data-dir='.length);
  }
  return undefined;
}

/** `--help`/`-h` anywhere before `--`: the help of that command's group, exit 0. */
function helpFor(argv: readonly string[]): string | null {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  if (!args.includes('--help') && !args.includes('-h')) return null;
  if (isControlCommand(args)) return CONTROL_HELP;
  if (isObserveCommand(args)) return OBSERVE_HELP;
  if (isRoutingCommand(args)) return ROUTING_HELP;
  if (args[0] === 'team') return TEAM_HELP;
  if (isProfileCommand(args)) return PROFILE_HELP;
  if (args[0] === 'insights') return INSIGHTS_HELP;
  return `${HELP}\n${CONTROL_HELP}\n${OBSERVE_HELP}\n${ROUTING_HELP}\n${TEAM_HELP}\n${PROFILE_HELP}\n${INSIGHTS_HELP}`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // Run by Claude Code on every render: never fails, never writes stderr, ignores unknown flags.
  if (argv[0] === 'statusline') {
    return runStatusline(io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  const help = helpFor(argv);
  if (help !== null) { io.stdout(argv[0] === 'report' ? REPORT_HELP : help); return 0; }
  // `--statusline=replace` is the only valued form of that flag.
  argv = argv.map((a) => (a === '--statusline=replace' ? '--statusline-replace' : a));
  // Budgets, policies, guardrails, capture and audit take options of their own.
  if (isControlCommand(argv)) {
    return runControlCli(argv, io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  // export, stats --by tag, token tag, webhook and observe (proxy/observe).
  if (isObserveCommand(argv)) {
    return runObserveCli(argv, io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  // Routing: ab report, models, route test (proxy/routing/cli.ts).
  if (isRoutingCommand(argv)) {
    return runRoutingCli(argv, io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  // Profiles: list, use, save, delete, export, import (proxy/profiles).
  if (isProfileCommand(argv)) {
    return runProfileCli(argv, io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  if (argv[0] === 'insights') {
    return runInsightsCli(argv.slice(1), io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  // Team mode: join, status, leave, report, budget (proxy/team).
  if (argv[0] === 'team') {
    return runTeamCli(argv, io, defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, dataDirArg(argv)));
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        by: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        dir: { type: 'string' },
        session: { type: 'string' },
        'dry-run': { type: 'boolean' },
        undo: { type: 'boolean' },
        version: { type: 'boolean', short: 'v' },
        tag: { type: 'string', multiple: true },
        statusline: { type: 'boolean' },
        'statusline-replace': { type: 'boolean' },
        project: { type: 'string' },
        tool: { type: 'string' },
        model: { type: 'string' },
        breakdown: { type: 'boolean' },
        live: { type: 'boolean' },
        anthropic: { type: 'boolean' },
        refresh: { type: 'boolean' },
      },
    });
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\nRun \`sluice --help\` for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) { io.stdout(`${VERSION}\n`); return 0; }
  if (values.help || positionals.length === 0) { io.stdout(`${HELP}\n${CONTROL_HELP}\n${OBSERVE_HELP}\n${ROUTING_HELP}`); return positionals.length === 0 && !values.help ? 2 : 0; }
  const dataDir = defaultDataDir({ platform: io.platform, home: io.home, env: io.env }, values['data-dir']);
  const secrets = () => (io.secrets ?? (() => createKeychainStore()))();
  const [cmd, sub, arg] = positionals;
  try {
    switch (cmd) {
      case 'serve': return await serve(io, dataDir, values.port, values['log-level']);
      case 'token': return await token(io, dataDir, sub, arg, values.tag);
      case 'key': return await key(io, dataDir, secrets, sub, arg);
      case 'stats':
        if (sub) throw new UsageError(`stats takes no argument "${sub}"; use --by`);
        return stats(io, dataDir, values);
      case 'sessions':
        if (sub !== 'show') throw new UsageError('expected `sluice sessions show <id>`');
        return showSession(io, dataDir, arg, values);
      case 'import':
        if (sub !== 'claude-code') throw new UsageError('expected `sluice import claude-code [--dir DIR]`');
        return await importClaudeCode(io, dataDir, values.dir);
      case 'reconcile': return values.anthropic ? await reconcileAnthropic(io, dataDir, secrets, values) : reconcile(io, dataDir, values);
      case 'report': return await report(io, dataDir, sub, values);
      case 'open': return await openDashboard({ stdout: io.stdout, stderr: io.stderr, env: io.env, platform: io.platform }, dataDir);
      case 'tools': return await listTools(io, dataDir, secrets(), values.json === true);
      case 'configure': {
        // The running gateway's port first: it may serve on another one than the settings say.
        const running = values.port === undefined ? await findRunningGateway(dataDir) : null;
        const port = values.port !== undefined ? parsePort(values.port)
          : running ? running.port
            : io.env.SLUICE_PORT ? parsePort(io.env.SLUICE_PORT) : (await openSettings(dataDir)).get().port;
        const statusLine = values['statusline-replace'] ? 'replace' : values.statusline ? 'add' : undefined;
        return await configureTool(io, dataDir, secrets(), sub, { dryRun: values['dry-run'] === true, undo: values.undo === true, port, statusLine });
      }
      default: throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    if (err instanceof OpenError) {
      io.stderr(`sluice: ${err.message}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof LedgerCliUsageError || err instanceof ToolsCliUsageError || err instanceof ObserveCliUsageError) {
      io.stderr(`sluice: ${err.message}\nRun \`sluice --help\` for usage.\n`);
      return 2;
    }
    if (err instanceof SettingsError || err instanceof TokenError || err instanceof SecretStoreError || err instanceof GatewayError || err instanceof GatewayCallError || err instanceof LockTimeoutError) {
      io.stderr(`sluice: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      const port = (e as { port?: number }).port ?? values.port ?? io.env.SLUICE_PORT;
      io.stderr(`sluice: port ${port} is in use on 127.0.0.1 (another Sluice, or another program, listens there). Start on another port with \`sluice serve --port <N>\` (0 picks a free one).\n`);
      return 1;
    }
    io.stderr(`sluice: ${e.message}\n`);
    return 1;
  }
}

function parsePort(v: string): number {
  const port = Number(v);
  if (!/^\d+$/.test(v) || port > 65535) throw new UsageError(`--port must be 0-65535, got "${v}"`);
  return port;
}

async function serve(io: CliIo, dataDir: string, portArg: string | undefined, level: string | undefined): Promise<number> {
  // A process-wide V8 setting, so the process's owner applies it, not the gateway library
  // (bench/PROFILE.md: large request bodies otherwise trigger a full GC every ~16 requests).
  tuneGcForBodies();
  const port = portArg === undefined ? undefined : parsePort(portArg);
  const logger = createLogger({ level: parseLogLevel(level ?? io.env.SLUICE_LOG_LEVEL), write: (l) => io.stderr(`${l}\n`) });
  const secretStore = io.secrets?.() ?? createKeychainStore();
  const admin = adminExtension({ machine: { home: io.home, platform: io.platform, cwd: io.cwd } });
  // observe goes first: the admin router answers 404 for any /admin/api path it does not know.
  const gw = await createGateway({ dataDir, port, env: io.env, logger, secrets: secretStore, extensions: [
    // The admin API answers 404 for paths it does not know, so the extensions that add their
    // own /admin/api/* routes mount before it.
    observeExtension({ authorize: admin.authorize }),
    controlExtension({ authorize: admin.authorize }),
    insightsExtension({ authorize: admin.authorize }),
    teamExtension({ authorize: admin.authorize }),
    admin,
  ] });
  // `sluice open` (another process) finds this gateway and its admin token here; removed on close.
  await admin.publish(join(dataDir, ADMIN_RUNTIME_FILE)).catch((err: Error) => logger.warn(`could not publish the dashboard login for \`sluice open\`: ${err.message}`));
  const key = await gw.keys.resolve('anthropic');
  // Tools configured for another port follow the gateway to this one (before the banner, so
  // whoever waits for it finds them updated).
  let moved: string[] = [];
  try {
    moved = await followPort(io, dataDir, secretStore, gw.settings, gw.url);
  } catch (err) {
    logger.warn(`could not update configured tools for this port: ${(err as Error).message}`);
  }
  io.stdout([
    `Sluice ${VERSION} gateway listening on ${gw.url}`,
    `  data dir: ${dataDir}`,
    key
      ? `  anthropic key: …${key.hint} (${key.source === 'env' ? envVarFor('anthropic') : 'OS keychain'})`
      : `  anthropic key: none (run \`sluice key set anthropic\`, or set ${envVarFor('anthropic')}); passthrough requests still work`,
    `  Claude Code: ANTHROPIC_BASE_URL=${gw.url} ANTHROPIC_AUTH_TOKEN=<sluice token create NAME>, or: sluice configure claude-code`,
    ...(moved.length ? [`  re-pointed configured tools at ${gw.url}: ${moved.join(', ')}`] : []),
    `  dashboard: ${admin.createLoginUrl()}  (one-time login link, valid 5 minutes; \`sluice open\` prints a new one)`,
  ].join('\n') + '\n');
  return await new Promise<number>((resolve) => {
    let stopping = false;
    io.onStop?.((signal) => {
      if (stopping) {
        io.stderr(`sluice: ${signal} again, exiting without waiting\n`);
        resolve(1);
        return;
      }
      stopping = true;
      io.stderr(`sluice: ${signal}, draining in-flight requests (send it again to exit now)\n`);
      gw.close({ drainMs: 120_000 }).then(() => resolve(0), () => resolve(1));
    });
  });
}

async function token(io: CliIo, dataDir: string, sub: string | undefined, arg: string | undefined, tagArgs: string[] | undefined): Promise<number> {
  const { settings } = await openCliSettings(dataDir);
  const tokens = createTokenStore(settings);
  switch (sub) {
    case 'create': {
      if (!arg) throw new UsageError('token create needs a name, e.g. `sluice token create claude-code`');
      const { token: t, record } = await tokens.create(arg, tagArgs ? { tags: parseTagArgs(tagArgs) } : undefined);
      io.stderr(`Created token "${record.name}" (id ${record.id}). It is shown once; Sluice keeps only its hash.\n`);
      io.stdout(`${t}\n`);
      return 0;
    }
    case 'list': {
      const rows = tokens.list();
      if (rows.length === 0) io.stdout('No tokens. Create one with `sluice token create <name>`.\n');
      for (const r of rows) {
        io.stdout(`${r.name.padEnd(24)} …${r.hint}  ${r.revokedAt ? `revoked ${r.revokedAt}` : 'active'}  created ${r.createdAt}  id ${r.id}\n`);
      }
      return 0;
    }
    case 'revoke': {
      if (!arg) throw new UsageError('token revoke needs a name or id');
      const r = await tokens.revoke(arg);
      io.stdout(`Revoked token "${r.name}" (…${r.hint}).\n`);
      return 0;
    }
    default: throw new UsageError(`token ${sub ?? ''}: expected create, list or revoke`);
  }
}

async function key(io: CliIo, dataDir: string, secrets: () => SecretStore, sub: string | undefined, provider: string | undefined): Promise<number> {
  // A running gateway stores the key itself, so it is used from its next request on.
  const gateway = sub === 'set' || sub === 'delete' ? await findRunningGateway(dataDir) : null;
  switch (sub) {
    case 'set': {
      if (!provider || !PROVIDER_RE.test(provider)) throw new UsageError('key set needs a provider name, e.g. `sluice key set anthropic` (the key is read from stdin)');
      const value = (await io.readStdin()).trim();
      if (!value) throw new UsageError('no key on stdin: pipe it in, e.g. `sluice key set anthropic < keyfile`');
      if (/\s/.test(value)) throw new UsageError('the key on stdin contains whitespace; paste only the key');
      if (gateway) await callGateway(gateway, 'POST', '/keys', { provider, key: value });
      else await secrets().set(provider, value).catch((err: unknown) => { throw keychainHelp(err, provider); });
      io.stdout(`Stored ${provider} key …${keyHint(value)} in the OS keychain.\n`);
      return 0;
    }
    case 'delete': {
      if (!provider || !PROVIDER_RE.test(provider)) throw new UsageError('key delete needs a provider name');
      const gone = gateway
        ? await callGateway(gateway, 'DELETE', `/keys/${encodeURIComponent(provider)}`, {}).then(() => true, (err: unknown) => {
          if (err instanceof GatewayCallError && err.status === 404) return false;
          throw err;
        })
        : await secrets().delete(provider).catch((err: unknown) => { throw keychainHelp(err, provider); });
      io.stdout(gone ? `Deleted the ${provider} key from the OS keychain.\n` : `No ${provider} key in the OS keychain.\n`);
      return 0;
    }
    case 'list': {
      let rows: { account: string; hint: string }[] = [];
      let unavailable: string | null = null;
      try {
        rows = await secrets().list();
      } catch (err) {
        unavailable = (err as Error).message;
      }
      for (const r of rows) io.stdout(`${r.account.padEnd(24)} …${r.hint}  keychain\n`);
      const envKey = io.env[envVarFor('anthropic')];
      if (envKey) io.stdout(`${'anthropic'.padEnd(24)} …${keyHint(envKey)}  env ${envVarFor('anthropic')}\n`);
      if (unavailable) io.stderr(`sluice: ${unavailable}\n`);
      if (rows.length === 0 && !envKey) io.stdout('No keys. Add one with `sluice key set anthropic`.\n');
      return unavailable && rows.length === 0 && !envKey ? 1 : 0;
    }
    default: throw new UsageError(`key ${sub ?? ''}: expected set, delete or list`);
  }
}

/** The process-backed io for the real binary. */
export function processIo(): CliIo {
  return {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    isTTY: process.stdout.isTTY === true,
    readStdin: async () => {
      if (process.stdin.isTTY) return readHiddenLine('Paste the key (input hidden), then Enter: ');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    platform: process.platform,
    home: homedir(),
    onStop: (handler) => {
      process.on('SIGINT', () => handler('SIGINT'));
      process.on('SIGTERM', () => handler('SIGTERM'));
    },
  };
}

/** One line from the terminal with echo off, so a pasted key never shows on screen. */
function readHiddenLine(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err); else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
