// Runs the real Claude Code CLI (from the @anthropic-ai/claude-code package's Linux binary).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLAUDE_BIN = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));

export interface ClaudeRun { code: number | null; stdout: string; stderr: string }

/** Runs `claude -p` with a clean environment: only what is passed in, plus PATH. */
export function runClaude(args: string[], env: Record<string, string>, cwd: string, timeoutMs = 60_000): Promise<ClaudeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE_BIN, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`claude timed out; stderr: ${stderr}`)); }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

