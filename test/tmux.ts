// The real Claude Code TUI in a detached tmux session on a private server (`tmux -L`), so tests
// can type into it and read its screen. `-p` mode never runs the statusLine; the TUI does.
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLAUDE_BIN } from './claude-cli.js';
import { until } from './helpers.js';

/** Why tmux cannot run here, or null when it can. */
export function tmuxUnavailable(): string | null {
  return spawnSync('tmux', ['-V']).status === 0 ? null : 'tmux is not installed';
}

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${args[0]}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * What Claude Code would otherwise ask on a first run: onboarding done (theme chosen), the
 * project folder trusted. Found by running 2.1.332 once under tmux and reading what it wrote.
 */
export async function seedClaudeHome(home: string, project: string): Promise<void> {
  await mkdir(join(home, '.claude'), { recursive: true });
  await mkdir(project, { recursive: true });
  await writeFile(join(home, '.claude.json'), JSON.stringify({
    numStartups: 1,
    hasCompletedOnboarding: true,
    lastOnboardingVersion: '2.1.332',
    hasResetAutoModeOptInForDefaultOffer: true,
    projects: { [project]: { hasTrustDialogAccepted: true, allowedTools: [] } },
  }, null, 2));
}

export interface ClaudeTui {
  /** The visible screen as text (no colour). */
  screen(): Promise<string>;
  /** Types text and presses Enter. */
  submit(text: string): Promise<void>;
  /** Waits until the screen matches; returns it. */
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts `claude` interactively in a 120x40 tmux pane, with exactly `env` (plus PATH). */
export async function startClaudeTui(env: Record<string, string>, cwd: string): Promise<ClaudeTui> {
  const socket = `sluice-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const vars = Object.entries({ PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', ...env }).map(([k, v]) => `${k}=${v}`);
  await tmux(socket, ['new-session', '-d', '-s', 'cc', '-x', '120', '-y', '40', '-c', cwd, 'env', '-i', ...vars, CLAUDE_BIN]);
  // Keep the pane after claude exits, so a crash stays readable.
  await tmux(socket, ['set-option', '-t', 'cc', 'remain-on-exit', 'on']).catch(() => {});
  const screen = () => tmux(socket, ['capture-pane', '-p', '-t', 'cc']);
  return {
    screen,
    async submit(text) {
      await tmux(socket, ['send-keys', '-t', 'cc', '-l', text]);
      // Enter apart from the text: sent together, a fast paste can swallow it.
      await until(async () => (await screen()).includes(text), `the prompt shows "${text}"`, 30_000);
      await tmux(socket, ['send-keys', '-t', 'cc', 'Enter']);
    },
    async waitFor(re, what, timeoutMs = 60_000) {
      let last = '';
      try {
        return await until(async () => {
          last = await screen();
          if (re.test(last)) return last;
          await new Promise((r) => setTimeout(r, 150)); // each look runs tmux: poll gently
          return false;
        }, what, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`);
      }
    },
    async close() {
      await tmux(socket, ['kill-server']).catch(() => {});
      // The server leaves its socket file behind.
      const uid = process.getuid?.() ?? 0;
      await rm(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${uid}`, socket), { force: true }).catch(() => {});
    },
  };
}
