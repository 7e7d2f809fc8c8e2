// The seam to the dashboard's admin extension (proxy/admin/index.ts, `adminExtension(opts)`):
// loads it when it is part of the build, else says why. Never imports electron.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatewayExtension, GatewayInternals } from '../proxy/gateway.js';

type ExtensionFactory = (internals: GatewayInternals) => GatewayExtension;

/** What the app needs from the admin extension, whichever object carries it. */
export interface AdminHandle {
  extension: ExtensionFactory;
  /** The bearer token for /admin/api/ (the one we passed in, unless the extension chose its own). */
  adminToken(): string;
  /** A fresh one-time login URL, absolute, or null when the extension offers none. */
  createLoginUrl(gatewayUrl: string): string | null;
  /** Writes the file `sluice open` reads to find this gateway; false when the extension cannot. */
  publish(file: string): Promise<boolean>;
  /** Whether a request carries admin credentials (for the control and observe routes). */
  authorize(req: { headers: { authorization?: string | undefined; cookie?: string | undefined } }): boolean;
}

export type AdminLoad = { ok: true; admin: AdminHandle } | { ok: false; reason: string };

interface LoginCapable {
  authorize?: unknown;
  adminToken?: unknown;
  createLoginUrl?: unknown;
  publish?: unknown;
}

/** Where the admin module sits relative to this file, in dist/ and in the sources alike. */
export const DEFAULT_ADMIN_MODULE = new URL('../proxy/admin/index.js', import.meta.url).href;

/**
 * Imports the admin module. The specifier is computed, so this compiles whether or not the
 * module exists yet; a missing module is a normal "dashboard not in this build" outcome.
 */
export async function loadAdminExtension(specifier: string = DEFAULT_ADMIN_MODULE): Promise<AdminLoad> {
  if (specifier.startsWith('file:')) {
    const path = fileURLToPath(specifier);
    // From the sources (tsx) the .js specifier is served by the .ts file beside it.
    if (!existsSync(path) && !existsSync(path.replace(/\.js$/, '.ts'))) {
      return { ok: false, reason: 'the dashboard (proxy/admin) is not part of this build' };
    }
  }
  let mod: { adminExtension?: unknown };
  try {
    mod = (await import(specifier)) as { adminExtension?: unknown };
  } catch (err) {
    return { ok: false, reason: `the dashboard failed to load: ${(err as Error).message}` };
  }
  if (typeof mod.adminExtension !== 'function') return { ok: false, reason: 'proxy/admin does not export adminExtension()' };
  return { ok: true, admin: wrapAdmin(mod.adminExtension as (opts: { adminToken: string }) => unknown) };
}

export function wrapAdmin(adminExtension: (opts: { adminToken: string }) => unknown): AdminHandle {
  // Our own token, so it survives the gateway being turned off and on (a new extension instance).
  const token = `sluice-admin-${randomBytes(32).toString('base64url')}`;
  const factory = adminExtension({ adminToken: token }) as ExtensionFactory & LoginCapable;
  if (typeof factory !== 'function') throw new TypeError('adminExtension() did not return an extension factory');
  let current: (GatewayExtension & LoginCapable) | null = null;
  const carrier = (): LoginCapable | null => {
    if (current && typeof current.createLoginUrl === 'function') return current;
    if (typeof factory.createLoginUrl === 'function') return factory;
    return null;
  };
  return {
    extension: (internals) => {
      current = factory(internals) as GatewayExtension & LoginCapable;
      return current;
    },
    adminToken: () => {
      const t = current?.adminToken ?? factory.adminToken;
      return typeof t === 'string' && t ? t : token;
    },
    createLoginUrl: (gatewayUrl) => {
      const c = carrier();
      if (!c) return null;
      const made = (c.createLoginUrl as () => unknown).call(c);
      return typeof made === 'string' ? new URL(made, `${gatewayUrl}/`).href : null;
    },
    authorize: (req) => typeof factory.authorize === 'function' && (factory.authorize as AdminHandle['authorize'])(req) === true,
    publish: async (file) => {
      const c = current && typeof current.publish === 'function' ? current : typeof factory.publish === 'function' ? factory : null;
      if (!c) return false;
      await (c.publish as (f: string) => Promise<void>).call(c, file);
      return true;
    },
  };
}
