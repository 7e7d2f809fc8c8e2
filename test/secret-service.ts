// Starts a private D-Bus session bus and an unlocked gnome-keyring (Secret Service) for a
// test, in temp dirs, so keychain tests use a real Secret Service without touching the user's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretService {
  /** Env for processes that should use this keyring. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Why a real Secret Service cannot run here, or null when it can. */
export function secretServiceUnavailable(): string | null {
  for (const bin of ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (Debian: apt-get install dbus gnome-keyring)`;
  }
  return null;
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(buf.slice(0, nl).trim()); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code} before printing`)); });
  });
}

export async function startSecretService(): Promise<SecretService> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-keyring-'));
  const dbus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await firstLine(dbus, 5000);
  const env = { DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: dir };
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'ignore'],
  });
  keyring.stdin!.end('sluice-test-password');
  // The daemon prints nothing when its control dir is under XDG_RUNTIME_DIR: wait until it
  // owns org.freedesktop.secrets on our bus.
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    const r = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    up = r.stdout?.includes('boolean true') ?? false;
    if (!up) await new Promise((res) => setTimeout(res, 50));
  }
  if (!up) {
    keyring.kill('SIGKILL');
    dbus.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error('gnome-keyring-daemon did not come up on the private bus within 5 s');
  }
  return {
    env,
    async stop() {
      keyring.kill('SIGTERM');
      dbus.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
