// Process wiring of `sluice statusline` (proxy/statusline.ts), kept apart from cli-main.ts so the
// command loads only what it uses. Never throws and never writes stderr.
import { homedir } from 'node:os';
import { defaultDataDir } from './store/paths.js';
import { runStatusline } from './statusline.js';

/** `--data-dir D` / `--data-dir=D`; everything else is ignored (a statusline must not fail on flags). */
function dataDirArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') return argv[i + 1];
    if (argv[i]!.startsWith('--data-dir=')) return argv[i]!.slice('--data-dir='.length);
  }
  return undefined;
}

async function readAll(): Promise<string> {
  // Run by hand in a terminal: nothing to read, so do not wait for input.
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runStatuslineProcess(argv: readonly string[]): Promise<number> {
  let dataDir: string;
  try {
    dataDir = defaultDataDir({ platform: process.platform, home: homedir(), env: process.env }, dataDirArg(argv));
  } catch {
    process.stdout.write('Sluice: status unavailable (no data dir)\n');
    return 0;
  }
  return runStatusline({ stdout: (s) => { process.stdout.write(s); }, readStdin: readAll, env: process.env }, dataDir);
}
