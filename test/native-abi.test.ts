// No native code bound to one Node ABI in any process Sluice starts: the tray app runs the
// gateway in Electron's main process, whose embedded Node has another ABI than the Node that
// ran `npm install`. Only N-API addons may ship (checked on the real production tree), and the
// checker itself is shown to tell the two kinds apart on two tiny fixture libraries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyAddon, elfDefinedDynamicSymbols, productionAddons } from './native-abi.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'native');

test('the checker tells an N-API addon from an ABI-bound one (fixture ELF files)', () => {
  const good = classifyAddon(join(FIXTURES, 'napi.node'));
  assert.deepEqual([good.kind, good.via, good.entries], ['n-api', 'elf-dynsym', ['napi_register_module_v1']]);
  const bad = classifyAddon(join(FIXTURES, 'abi-bound.node'));
  assert.deepEqual([bad.kind, bad.via, bad.entries], ['abi-bound', 'elf-dynsym', ['node_register_module_v137']]);
  // Only defined symbols count: an addon that merely imports a name is not judged by it.
  assert.ok(elfDefinedDynamicSymbols(readFileSync(join(FIXTURES, 'napi.node'))).includes('node_api_module_get_api_version_v1'));
  assert.throws(() => elfDefinedDynamicSymbols(Buffer.from('#!/bin/sh\n'.padEnd(64, ' '))), /not an ELF file/);
});

test('every native addon in the production dependency tree is N-API', () => {
  const addons = productionAddons(ROOT);
  // @napi-rs/keyring (the keychain) is a production dependency with a native addon for this
  // platform: an empty list would mean the walk is broken, not that all is well.
  assert.ok(addons.some((a) => a.pkg.startsWith('@napi-rs/keyring-')), `keyring addon found among ${JSON.stringify(addons.map((a) => a.pkg))}`);
  const bad = addons.map((a) => ({ ...a, v: classifyAddon(a.file) })).filter((a) => a.v.kind !== 'n-api');
  assert.deepEqual(bad.map((a) => `${a.pkg}: ${a.v.kind} (${a.v.entries.join(', ') || 'no entry point'}) in ${a.file}`), []);
});

test('package.json declares no ABI-bound SQLite binding: the ledger is node:sqlite', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const all = { ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.devDependencies };
  for (const name of ['better-sqlite3', 'sqlite3', '@types/better-sqlite3']) assert.equal(all[name], undefined, name);
});
