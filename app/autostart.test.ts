// Tests for start-at-login: the mechanism and path per platform, the .desktop text (Exec
// quoting per the Desktop Entry spec), and reading/writing it in a temp home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  autostartMechanism, desktopEntry, launchCommand, quoteExecArg, readAutostart, writeAutostart, HIDDEN_FLAG,
} from './autostart.js';
import type { LoginItemSettingsInput } from './electron-facade.js';

test('mechanism per platform: login item on macOS and Windows, XDG autostart file elsewhere', () => {
  assert.deepEqual(autostartMechanism({ platform: 'darwin', home: '/Users/a', env: {} }), { kind: 'login-item' });
  assert.deepEqual(autostartMechanism({ platform: 'win32', home: 'C:\\Users\\a', env: {} }), { kind: 'login-item' });
  assert.deepEqual(autostartMechanism({ platform: 'linux', home: '/home/a', env: {} }), { kind: 'desktop-file', path: '/home/a/.config/autostart/sluice.desktop' });
  assert.deepEqual(autostartMechanism({ platform: 'linux', home: '/home/a', env: { XDG_CONFIG_HOME: '/x/cfg' } }), { kind: 'desktop-file', path: '/x/cfg/autostart/sluice.desktop' });
  assert.deepEqual(autostartMechanism({ platform: 'linux', home: '/home/a', env: { XDG_CONFIG_HOME: '' } }), { kind: 'desktop-file', path: '/home/a/.config/autostart/sluice.desktop' });
  assert.deepEqual(autostartMechanism({ platform: 'freebsd', home: '/home/a', env: {} }), { kind: 'desktop-file', path: '/home/a/.config/autostart/sluice.desktop' });
});

test('launchCommand: packaged binary, AppImage file, or electron + script in development', () => {
  assert.deepEqual(launchCommand({ execPath: '/opt/Sluice/sluice', argv: ['/opt/Sluice/sluice'], defaultApp: false, env: {} }), ['/opt/Sluice/sluice', HIDDEN_FLAG]);
  assert.deepEqual(
    launchCommand({ execPath: '/tmp/.mount_SluiceX/sluice', argv: ['/tmp/.mount_SluiceX/sluice'], defaultApp: false, env: { APPIMAGE: '/home/a/Apps/Sluice.AppImage' } }),
    ['/home/a/Apps/Sluice.AppImage', HIDDEN_FLAG],
  );
  assert.deepEqual(
    launchCommand({ execPath: '/r/node_modules/electron/dist/electron', argv: ['/r/node_modules/electron/dist/electron', '/r/dist/app/main.js'], defaultApp: true, env: {} }),
    ['/r/node_modules/electron/dist/electron', '/r/dist/app/main.js', HIDDEN_FLAG],
  );
});

test('quoteExecArg: plain args bare; reserved characters quoted and escaped; % doubled', () => {
  assert.equal(quoteExecArg('/opt/Sluice/sluice'), '/opt/Sluice/sluice');
  assert.equal(quoteExecArg('--hidden'), '--hidden');
  assert.equal(quoteExecArg('/home/a/My Apps/Sluice.AppImage'), '"/home/a/My Apps/Sluice.AppImage"');
  // A literal $ inside quotes: \$ by the quoting rule, \\$ after the string escape (the spec's example).
  assert.equal(quoteExecArg('/a$b'), '"/a\\\\$b"');
  assert.equal(quoteExecArg('say "hi"'), '"say \\\\"hi\\\\""');
  assert.equal(quoteExecArg('C:\\x'), '"C:\\\\\\\\x"');
  assert.equal(quoteExecArg('100%'), '100%%');
  assert.equal(quoteExecArg(''), '""');
  assert.throws(() => quoteExecArg('a\nb'), /control character/);
});

test('desktopEntry: a complete XDG autostart entry', () => {
  assert.equal(desktopEntry({ command: ['/home/a/My Apps/Sluice.AppImage', '--hidden'] }), [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Sluice',
    'Comment=Local LLM gateway in your tray',
    'Exec="/home/a/My Apps/Sluice.AppImage" --hidden',
    'Icon=sluice',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n'));
  assert.throws(() => desktopEntry({ command: [] }), /needs a command/);
});

function fakeApp(initial = false) {
  const calls: LoginItemSettingsInput[] = [];
  let open = initial;
  return {
    calls,
    getLoginItemSettings: () => ({ openAtLogin: open }),
    setLoginItemSettings: (s: LoginItemSettingsInput) => { calls.push(s); open = s.openAtLogin; },
  };
}

test('Linux: enabling writes the .desktop file (0644), reading finds it, disabling removes it', async () => {
  const home = await mkdtemp(join(tmpdir(), 'sluice-autostart-'));
  try {
    const app = fakeApp();
    const deps = { platform: 'linux' as const, home, env: {}, app, command: ['/opt/Sluice/sluice', HIDDEN_FLAG] };
    const path = join(home, '.config', 'autostart', 'sluice.desktop');
    assert.equal(await readAutostart(deps), false);
    await writeAutostart(deps, true);
    const text = await readFile(path, 'utf8');
    assert.equal(text, desktopEntry({ command: deps.command }));
    assert.equal((await stat(path)).mode & 0o777, 0o644);
    assert.equal(await readAutostart(deps), true);
    // A file launching something else (an older install path) does not count as ours being on.
    assert.equal(await readAutostart({ ...deps, command: ['/elsewhere/sluice', HIDDEN_FLAG] }), false);
    await writeAutostart(deps, false);
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.equal(await readAutostart(deps), false);
    // Disabling when already off is not an error.
    await writeAutostart(deps, false);
    assert.equal(app.calls.length, 0, 'Linux never touches login items');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('Linux: a desktop file the user hid (Hidden=true) reads as off', async () => {
  const home = await mkdtemp(join(tmpdir(), 'sluice-autostart-'));
  try {
    const deps = { platform: 'linux' as const, home, env: {}, app: fakeApp(), command: ['/opt/Sluice/sluice', HIDDEN_FLAG] };
    await mkdir(join(home, '.config', 'autostart'), { recursive: true });
    await writeFile(join(home, '.config', 'autostart', 'sluice.desktop'), `${desktopEntry({ command: deps.command })}Hidden=true\n`);
    assert.equal(await readAutostart(deps), false);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('macOS and Windows: the login item, with the hidden flag', async () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const app = fakeApp();
    const deps = { platform, home: '/nonexistent-home', env: {}, app, command: ['/Applications/Sluice.app/Contents/MacOS/Sluice', HIDDEN_FLAG] };
    assert.equal(await readAutostart(deps), false);
    await writeAutostart(deps, true);
    assert.deepEqual(app.calls, [{ openAtLogin: true, args: [HIDDEN_FLAG] }]);
    assert.equal(await readAutostart(deps), true);
    await writeAutostart(deps, false);
    assert.deepEqual(app.calls[1], { openAtLogin: false, args: [HIDDEN_FLAG] });
    assert.equal(await readAutostart(deps), false);
  }
});
