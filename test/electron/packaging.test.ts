// Packaging resources: electron-builder.yml validated by electron-builder's own schema and holding
// the security settings we rely on; the notarize hook's credential rules; the committed icons are
// valid PNGs equal to what build/icons.mjs draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(join(ROOT, 'package.json'));
type Config = Record<string, unknown> & { mac: Record<string, unknown>; electronFuses: Record<string, boolean> };
const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Config;

async function validate(cfg: unknown): Promise<void> {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, log: unknown): Promise<void> };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(cfg, new DebugLogger(false));
}

test('electron-builder.yml passes electron-builder’s own schema (which rejects unknown keys)', async () => {
  await validate(config);
  await assert.rejects(validate({ ...config, electronFusez: { runAsNode: false } }), /electronFusez/);
});

test('fuses, asar, native modules, hardened runtime and targets are as required', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
  });
  assert.equal(config.asar, true);
  const unpack = config.asarUnpack as string[];
  assert.ok(unpack.includes('**/node_modules/@napi-rs/keyring*/**'));
  assert.ok(!unpack.some((p) => p.includes('sqlite')), 'the ledger is node:sqlite, built into Node and Electron');
  assert.equal(config.npmRebuild, false, 'only N-API addons ship, so nothing is rebuilt for Electron');
  assert.deepEqual(config.extraMetadata, { main: 'dist/app/main.js' });
  assert.equal(config.mac.hardenedRuntime, true);
  assert.equal(config.mac.notarize, false, 'the built-in step is off; our hook decides');
  assert.equal(config.afterSign, './build/notarize.mjs');
  assert.deepEqual((config.mac.target as { target: string }[]).map((t) => t.target), ['dmg']);
  assert.deepEqual(((config.win as { target: { target: string }[] }).target).map((t) => t.target), ['nsis']);
  assert.deepEqual((config.linux as { target: string[] }).target, ['AppImage', 'deb']);
  assert.ok((config.files as string[]).includes('build/tray/*.png'), 'tray icons are packed (build resources are not by default)');
  for (const f of [config.mac.entitlements, config.mac.entitlementsInherit, config.afterSign, (config.linux as { icon: string }).icon] as string[]) {
    assert.ok(existsSync(join(ROOT, f)), `${f} exists`);
  }
  const plist = readFileSync(join(ROOT, 'build', 'entitlements.mac.plist'), 'utf8');
  assert.match(plist, /<key>com\.apple\.security\.cs\.allow-jit<\/key>\s*<true\/>/);
  assert.doesNotMatch(plist, /disable-library-validation/);
});

interface NotarizeModule {
  notarizeCredentials(env: Record<string, string | undefined>): { strategy: string; credentials: Record<string, string> } | null;
  default(context: { electronPlatformName: string }): Promise<void>;
}

test('notarize hook: runs only with complete Apple credentials; half-set credentials fail the build', async () => {
  const m = (await import(pathToFileURL(join(ROOT, 'build', 'notarize.mjs')).href)) as NotarizeModule;
  assert.equal(m.notarizeCredentials({}), null);
  assert.deepEqual(m.notarizeCredentials({ APPLE_ID: 'dev@example.com', APPLE_APP_SPECIFIC_PASSWORD: 'test-pw', APPLE_TEAM_ID: 'TEAM1' }), {
    strategy: 'Apple ID', credentials: { appleId: 'dev@example.com', appleIdPassword: 'test-pw', teamId: 'TEAM1' },
  });
  assert.deepEqual(m.notarizeCredentials({ APPLE_API_KEY: '/k.p8', APPLE_API_KEY_ID: 'K1', APPLE_API_ISSUER: 'iss' }), {
    strategy: 'App Store Connect API key', credentials: { appleApiKey: '/k.p8', appleApiKeyId: 'K1', appleApiIssuer: 'iss' },
  });
  assert.deepEqual(m.notarizeCredentials({ APPLE_KEYCHAIN_PROFILE: 'sluice' }), { strategy: 'keychain profile', credentials: { keychainProfile: 'sluice' } });
  assert.throws(() => m.notarizeCredentials({ APPLE_ID: 'dev@example.com' }), /Apple ID credentials are incomplete: APPLE_ID set but APPLE_APP_SPECIFIC_PASSWORD, APPLE_TEAM_ID missing/);
  // Not macOS: nothing to do, whatever the environment.
  await m.default({ electronPlatformName: 'linux' });
});

interface IconsModule {
  iconSet(): { path: string; size: number; draw(): Uint8Array }[];
  crc32(b: Uint8Array): number;
}

/** Decodes an 8-bit RGBA, non-interlaced PNG whose scanlines all use filter 0 (what icons.mjs writes). */
function decodePng(buf: Buffer, crc32: (b: Uint8Array) => number): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let off = 8;
  let width = 0, height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    assert.equal(buf.readUInt32BE(off + 8 + len), crc32(buf.subarray(off + 4, off + 8 + len)), `${type} CRC`);
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 6, 0, 0, 0], '8-bit RGBA, deflate, no interlace');
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0, 'filter type 0');
    rgba.set(raw.subarray(y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1)), y * width * 4);
  }
  return { width, height, rgba };
}

test('committed icons are valid PNGs of the right size, equal to build/icons.mjs’s drawing', async () => {
  const icons = (await import(pathToFileURL(join(ROOT, 'build', 'icons.mjs')).href)) as IconsModule;
  const set = icons.iconSet();
  assert.deepEqual(set.map((f) => f.path).sort(), [
    'icon.png',
    ...['degraded', 'error', 'off', 'on'].flatMap((s) => [`tray/tray-${s}.png`, `tray/tray-${s}@2x.png`]),
  ].sort());
  const distinct = new Set<string>();
  for (const f of set) {
    const png = decodePng(readFileSync(join(ROOT, 'build', f.path)), icons.crc32);
    assert.equal(png.width, f.size, f.path);
    assert.equal(png.height, f.size, f.path);
    assert.ok(Buffer.from(png.rgba).equals(Buffer.from(f.draw())), `${f.path} is stale: run node build/icons.mjs`);
    distinct.add(Buffer.from(png.rgba).toString('base64'));
    // Not blank: some pixels opaque, some transparent (tray icons need a transparent background).
    const alphas = png.rgba.filter((_, i) => i % 4 === 3);
    assert.ok(alphas.some((a) => a === 255) && alphas.some((a) => a === 0), `${f.path} has both opaque and clear pixels`);
  }
  assert.equal(distinct.size, set.length, 'every state looks different');
});
