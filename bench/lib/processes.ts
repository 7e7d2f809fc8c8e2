// Child processes of the gateway benchmark: the bench upstream, the real `sluice` CLI (token
// create, serve), their RSS, and one registry that kills them all on exit, error or signal.
// Starts node binaries only; never imports proxy/ code (the gateway is measured as a process).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { nginxConfig } from './nginx.js';

export const UPSTREAM_ENTRY = fileURLToPath(new URL('./upstream-child.ts', import.meta.url));
export const RELAY_ENTRY = fileURLToPath(new URL('./relay-child.ts', import.meta.url));

/** Whether a command runs (`taskset`, `nginx`): absent tools are skipped, not failures. */
export function hasCommand(cmd: string, args: string[] = ['-V']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { status?: number }).status !== 127;
  }
}

/** `cmd args` prefixed with `taskset -c <cpus>` when a CPU list is given. */
export function pinned(cpus: string | null, cmd: string, args: string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

let pinCpus: Record<'load' | 'proxy' | 'upstream', string | null> = { load: null, proxy: null, upstream: null };
/** CPU lists for the children started after this call (null: not pinned). */
export function setPinning(p: typeof pinCpus): void {
  pinCpus = p;
}

export interface ChildSet {
  track(child: ChildProcess): void;
  /** Synchronous so it can run in process.on('exit'); SIGKILL leaves nothing behind. */
  killAll(signal?: NodeJS.Signals): void;
  readonly size: number;
}

export function createChildSet(): ChildSet {
  const live = new Set<ChildProcess>();
  return {
    track(child) {
      live.add(child);
      child.once('exit', () => live.delete(child));
    },
    killAll(signal = 'SIGKILL') {
      for (const c of live) {
        if (c.exitCode === null && c.signalCode === null) c.kill(signal);
      }
    },
    get size() { return live.size; },
  };
}

export interface StartedChild {
  proc: ChildProcess;
  pid: number;
  url: string;
  /** Everything the child wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `node ...args` and resolves once its output shows a loopback URL. */
function spawnUntilUrl(children: ChildSet, args: string[], env: Record<string, string>, timeoutMs: number, cpus: string | null = null): Promise<StartedChild> {
  return new Promise((resolve, reject) => {
    // stdin stays a pipe: the bench upstream exits when it closes, so it never outlives us.
    const [cmd, argv] = pinned(cpus, process.execPath, args);
    const proc = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.track(proc);
    let out = '';
    let started = false;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} printed no URL within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      if (out.length > 1_000_000) out = out.slice(-100_000);
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          proc,
          pid: proc.pid!,
          url: m[0],
          output: () => out,
          stop: async (graceMs = 5_000) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return;
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(t);
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('error', (err) => { clearTimeout(timer); reject(err); });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

export function startUpstreamChild(children: ChildSet): Promise<StartedChild> {
  return spawnUntilUrl(children, ['--import', 'tsx', UPSTREAM_ENTRY], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, 20_000, pinCpus.upstream);
}

/** The bare relay (lib/relay.ts) in its own child, optionally on another undici (its package dir). */
export function startRelayChild(children: ChildSet, upstreamUrl: string, undiciDir?: string): Promise<StartedChild> {
  return spawnUntilUrl(children, ['--import', 'tsx', RELAY_ENTRY, upstreamUrl, ...(undiciDir ? [undiciDir] : [])], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, 20_000, pinCpus.proxy);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** nginx (lib/nginx.ts config) in the foreground, single process, proxying to the upstream. */
export async function startNginxChild(children: ChildSet, prefix: string, upstreamUrl: string): Promise<StartedChild> {
  mkdirSync(prefix, { recursive: true });
  const listenPort = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ prefix, listenPort, upstreamPort: Number(new URL(upstreamUrl).port) }));
  const [cmd, argv] = pinned(pinCpus.proxy, 'nginx', ['-p', prefix, '-c', conf, '-e', 'stderr']);
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.track(proc);
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(listenPort))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not start: ${out}`);
    }
    await sleep(20);
  }
  return {
    proc,
    pid: proc.pid!,
    url: `http://127.0.0.1:${listenPort}`,
    output: () => out,
    stop: async (graceMs = 5_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGQUIT');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface GatewayChildOptions {
  bin: string;
  dataDir: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir', DIR]. */
  nodeArgs?: string[];
}

export function startGatewayChild(children: ChildSet, o: GatewayChildOptions): Promise<StartedChild> {
  return spawnUntilUrl(children, [...(o.nodeArgs ?? []), o.bin, 'serve', '--port', '0', '--data-dir', o.dataDir], o.env, 20_000, pinCpus.proxy);
}

/** Runs the CLI to completion, e.g. `token create bench`; rejects on a non-zero exit. */
export function runCliOnce(children: ChildSet, bin: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.track(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`sluice ${args[0] ?? ''} ${args[1] ?? ''} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** The kernel's clock ticks per second (the unit of /proc/<pid>/stat times); 100 if getconf fails. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** VmRSS in KiB from the text of /proc/<pid>/status; NaN when the line is missing. */
export function parseVmRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : Number.NaN;
}

export function readRssKb(pid: number): number {
  return parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** utime + stime in clock ticks from the text of /proc/<pid>/stat (fields 14 and 15). */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : Number.NaN;
}

export function readCpuTicks(pid: number): number {
  return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}
