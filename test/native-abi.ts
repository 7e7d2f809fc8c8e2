// Test support: tells an N-API addon (ABI-stable across Node and Electron) from one bound to a
// single Node ABI, by the symbols its shared object exports, and lists every addon that the
// production dependency tree installs. Reads files only; loads none of them.
//
// Node loads an addon by looking up `napi_register_module_v1` (N-API) or, for the old
// V8-ABI modules, `node_register_module_v<NODE_MODULE_VERSION>`; a module built the old way
// only loads in the one runtime whose ABI number it carries.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type AddonKind = 'n-api' | 'abi-bound' | 'no-entry';

export interface AddonVerdict {
  path: string;
  kind: AddonKind;
  /** How the symbols were read: the ELF dynamic symbol table, or a scan of the file's strings. */
  via: 'elf-dynsym' | 'strings';
  /** The entry points found. */
  entries: string[];
}

const NAPI_ENTRY = 'napi_register_module_v1';
const ABI_ENTRY = /^_?node_register_module_v\d+$/;

/** Names of the defined symbols in an ELF file's dynamic symbol table (ELF32/64, either byte order). */
export function elfDefinedDynamicSymbols(buf: Buffer): string[] {
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o: number) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return is64
      ? { type: u32(o + 4), offset: word(o + 0x18), size: word(o + 0x20), link: u32(o + 0x28), entsize: word(o + 0x38) }
      : { type: u32(o + 4), offset: u32(o + 0x10), size: u32(o + 0x14), link: u32(o + 0x18), entsize: u32(o + 0x24) };
  };
  const SHT_DYNSYM = 11;
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const sym = section(i);
    if (sym.type !== SHT_DYNSYM || sym.entsize === 0) continue;
    const strtab = section(sym.link);
    for (let o = sym.offset; o + sym.entsize <= sym.offset + sym.size; o += sym.entsize) {
      const nameOff = u32(o);
      const shndx = is64 ? u16(o + 6) : u16(o + 14);
      if (nameOff === 0 || shndx === 0) continue; // unnamed or undefined (imported)
      const start = strtab.offset + nameOff;
      names.push(buf.toString('latin1', start, buf.indexOf(0, start)));
    }
  }
  return names;
}

/**
 * Classifies one addon file. ELF files are read through their dynamic symbol table; Mach-O and
 * PE files (the other platforms' prebuilds that a package may also carry) by the exported
 * names, which both keep as plain strings.
 */
export function classifyAddon(path: string): AddonVerdict {
  const buf = readFileSync(path);
  let entries: string[];
  let via: AddonVerdict['via'];
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x7f454c46) {
    via = 'elf-dynsym';
    entries = elfDefinedDynamicSymbols(buf).filter((n) => n === NAPI_ENTRY || ABI_ENTRY.test(n));
  } else {
    via = 'strings';
    entries = [...new Set(buf.toString('latin1').match(/_?(?:napi_register_module_v1|node_register_module_v\d+)(?![\w])/g) ?? [])];
  }
  const abiBound = entries.some((n) => ABI_ENTRY.test(n));
  const napi = entries.some((n) => n.replace(/^_/, '') === NAPI_ENTRY);
  return { path, via, entries, kind: abiBound ? 'abi-bound' : napi ? 'n-api' : 'no-entry' };
}

/** Every `.node` file in the packages of the production tree (dependencies + optional). */
export function productionAddons(root: string): { pkg: string; file: string }[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const dirs = out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== root);
  const found: { pkg: string; file: string }[] = [];
  const walk = (pkg: string, dir: string) => {
    for (const name of readdirSync(dir)) {
      // A nested node_modules holds other packages, which npm lists on their own.
      if (name === 'node_modules') continue;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(pkg, p);
      else if (st?.isFile() && name.endsWith('.node')) found.push({ pkg, file: p });
    }
  };
  for (const dir of dirs) {
    const pkg = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    walk(pkg, dir);
  }
  return found;
}
