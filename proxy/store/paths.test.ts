// Tests for the per-OS data directory, with platform, home and environment passed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultDataDir } from './paths.js';

const home = '/home/ada';

test('linux: ~/.config/sluice without XDG_CONFIG_HOME', () => {
  assert.equal(defaultDataDir({ platform: 'linux', home, env: {} }), join(home, '.config', 'sluice'));
});

test('linux: XDG_CONFIG_HOME is honoured; an empty one is ignored', () => {
  assert.equal(defaultDataDir({ platform: 'linux', home, env: { XDG_CONFIG_HOME: '/xdg' } }), join('/xdg', 'sluice'));
  assert.equal(defaultDataDir({ platform: 'linux', home, env: { XDG_CONFIG_HOME: '' } }), join(home, '.config', 'sluice'));
});

test('other unixes follow the linux layout', () => {
  assert.equal(defaultDataDir({ platform: 'freebsd', home, env: {} }), join(home, '.config', 'sluice'));
});

test('darwin: ~/Library/Application Support/Sluice, ignoring XDG_CONFIG_HOME', () => {
  assert.equal(
    defaultDataDir({ platform: 'darwin', home: '/Users/ada', env: { XDG_CONFIG_HOME: '/xdg' } }),
    join('/Users/ada', 'Library', 'Application Support', 'Sluice'),
  );
});

test('win32: %APPDATA%\\Sluice, or AppData/Roaming under home when APPDATA is unset', () => {
  assert.equal(defaultDataDir({ platform: 'win32', home: 'C:/Users/ada', env: { APPDATA: 'D:/Roaming' } }), join('D:/Roaming', 'Sluice'));
  assert.equal(defaultDataDir({ platform: 'win32', home: 'C:/Users/ada', env: {} }), join('C:/Users/ada', 'AppData', 'Roaming', 'Sluice'));
});

test('SLUICE_DATA_DIR wins over the platform default', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    assert.equal(defaultDataDir({ platform, home, env: { SLUICE_DATA_DIR: '/data/sluice', XDG_CONFIG_HOME: '/xdg', APPDATA: '/app' } }), '/data/sluice');
  }
});

test('an explicit override wins over SLUICE_DATA_DIR; an empty override does not', () => {
  const p = { platform: 'linux' as const, home, env: { SLUICE_DATA_DIR: '/data/sluice' } };
  assert.equal(defaultDataDir(p, '/cli/flag'), '/cli/flag');
  assert.equal(defaultDataDir(p, ''), '/data/sluice');
  assert.equal(defaultDataDir({ ...p, env: {} }, '/cli/flag'), '/cli/flag');
});
