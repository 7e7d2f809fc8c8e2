#!/usr/bin/env node
// `npm start`: builds when the sources are newer than dist/, then launches the tray app with the
// Electron binary where one can run; otherwise says which check failed and why, and runs the
// headless gateway (`sluice serve`) with the browser dashboard. Node built-ins only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..');

/** Newest mtime (ms) of the non-test .ts/.cts sources under `dirs`, 0 when none. */
function newestSource(root, dirs) {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'fixtures') walk(p); }
      else if (/\.c?ts$/.test(e.name) && !/\.test\.ts$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return newest;
}

/** Why a build is needed, or null. */
export function buildNeeded(root) {
  for (const [out, srcDirs] of [['dist/proxy/cli.js', ['proxy']], ['dist/app/main.js', ['app']]]) {
    const outPath = join(root, out);
    if (!existsSync(outPath)) return `${out} is missing`;
    if (newestSource(root, srcDirs) > statSync(outPath).mtimeMs) return `${srcDirs.join(', ')}/ changed since ${out} was built`;
  }
  return null;
}

/**
 * Can the tray app run here? Each check names what failed: the user should learn whether to
 * reinstall, to build, that this machine simply has no display, or that the Electron binary is
 * not downloaded yet. Electron (since 42) no longer downloads its binary at `npm install`: the
 * package fetches it on first use, with its own install.js. Such a result carries `download`,
 * the script to run; the checks that need no network come first, so a machine that could not
 * show a tray anyway never tries to download one.
 */
export function electronCheck({ root, env, platform }) {
  if (env.SLUICE_HEADLESS === '1') return { ok: false, why: 'SLUICE_HEADLESS=1 asks for the headless gateway' };
  const pkgDir = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkgDir, 'package.json'))) {
    return { ok: false, why: 'no Electron binary: node_modules/electron is not installed (it is an optional dependency; `npm install` with network access brings it)' };
  }
  if (!existsSync(join(root, 'dist', 'app', 'main.js'))) return { ok: false, why: 'dist/app/main.js is missing (the tray app is not built)' };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { ok: false, why: 'no graphical display: DISPLAY and WAYLAND_DISPLAY are unset, so a tray app cannot show' };
  }
  const install = join(pkgDir, 'install.js');
  const download = existsSync(install) ? install : undefined;
  // node_modules/electron/index.js resolves the binary the same way: dist/ + the name in path.txt.
  const pathTxt = join(pkgDir, 'path.txt');
  if (!existsSync(pathTxt)) {
    return { ok: false, download, why: 'no Electron binary: node_modules/electron/path.txt is missing, so the binary has not been downloaded (Electron fetches it on first start, which needs network access)' };
  }
  const binary = join(env.ELECTRON_OVERRIDE_DIST_PATH || join(pkgDir, 'dist'), readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(binary)) return { ok: false, download, why: `no Electron binary: ${relative(root, binary)} does not exist` };
  return { ok: true, binary };
}

/**
 * Runs Electron's own download step (what `require('electron')` would do on first use) and
 * checks again. Bounded in time; a failed download leaves the headless fallback, with its reason.
 */
export function downloadElectron(check, { root, env, platform, timeoutMs = 300_000, stdio = 'inherit' }) {
  if (check.ok || !check.download) return check;
  console.log('Sluice: downloading the Electron binary (first start of the tray app)...');
  const r = spawnSync(process.execPath, [check.download], { cwd: root, env, stdio, timeout: timeoutMs });
  const again = electronCheck({ root, env, platform });
  if (again.ok) return again;
  const how = r.error ? r.error.message : r.status !== 0 ? `it exited with ${r.status ?? r.signal}` : 'it finished without a binary';
  return { ok: false, why: `${check.why}; the download did not complete (${how})` };
}

function run(cmd, args, env) {
  const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'inherit'], env });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
  return child;
}

function main() {
  const env = process.env;
  const why = env.SLUICE_SKIP_BUILD === '1' ? null : buildNeeded(ROOT);
  if (why) {
    console.log(`Sluice: building first (${why}).`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
    if (r.status !== 0) {
      if (!existsSync(join(ROOT, 'dist', 'proxy', 'cli.js'))) {
        console.error('sluice: the build failed and there is no earlier build in dist/ to run.');
        process.exit(1);
      }
      console.error('sluice: the build failed; running the previous build in dist/.');
    }
  }
  const e = downloadElectron(electronCheck({ root: ROOT, env, platform: process.platform }), { root: ROOT, env, platform: process.platform });
  if (e.ok) {
    console.log('Sluice: starting the tray app.');
    const child = run(e.binary, [join(ROOT, 'dist', 'app', 'main.js'), ...process.argv.slice(2)], env);
    child.stdout.pipe(process.stdout);
    return;
  }
  console.log(`Sluice: the tray app cannot start here (${e.why}).`);
  console.log('Sluice: starting the headless gateway with the browser dashboard instead. Stop it with Ctrl-C.');
  const child = run(process.execPath, [join(ROOT, 'dist', 'proxy', 'cli.js'), 'serve', ...process.argv.slice(2)], env);
  // Pass `sluice serve`'s banner through as it is (it prints the dashboard login URL when the
  // dashboard is built); say so plainly when it is not part of this build.
  let buffered = '';
  let banner = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (banner) return;
    buffered += chunk.toString('utf8');
    if (!/gateway listening on http:\/\/\S+/.test(buffered)) return;
    banner = true;
    if (!/\/ui\//.test(buffered) && !existsSync(join(ROOT, 'dist', 'proxy', 'admin', 'index.js'))) {
      console.log('  dashboard: not part of this build (dist/proxy/admin is missing); the gateway works without it');
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
