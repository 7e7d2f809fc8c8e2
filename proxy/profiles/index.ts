// Profiles: apply one (one settings write: its providers are added, the routing section is
// replaced and `profiles.active` set, so the next request is routed wholly by it), save the live
// routing as one, list them, export and import them as JSON without keys. Pure over a Settings
// draft: callers run these inside `settings.update(...)` of the one settings owner (the running
// gateway's store, or its admin API through cli-settings.ts).
//
// Why switching is atomic: a request's routing decision reads the providers and the routing rules
// once, synchronously (proxy/routing/index.ts decide()), and a switch is one settings object
// replacing another. A provider's definition is looked up again by name when the request is
// dispatched, so a switch never changes or removes a provider another profile may be using: it
// only adds providers, and a profile whose provider differs from the configured one of the same
// name is refused (ProfileConflictError) instead of changing it under requests in flight.
import { GatewayError, InvalidRequestError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Settings, SettingsStore } from '../store/settings.js';
import { ProfileSchema, ProfilesFileSchema, PROFILE_NAME, type Profile, type ProfilesFile } from './schema.js';

export { ProfileSchema, ProfilesFileSchema, ProfilesSettingsSchema, type Profile, type ProfilesFile, type ProfilesSettings } from './schema.js';

/** A profile would change a configured provider, or an import would overwrite one; nothing was applied. */
export class ProfileConflictError extends GatewayError {
  constructor(message: string) {
    super('GATEWAY_PROFILE_CONFLICT', 400, 'gateway_invalid_request_error', message);
  }
}

export class ProfileNotFoundError extends GatewayError {
  constructor(name: string) {
    super('GATEWAY_PROFILE_NOT_FOUND', 404, 'gateway_not_found_error', `No profile named "${name.slice(0, 80)}". \`sluice profile list\` shows them.`);
  }
}

export interface ProfileRow {
  name: string;
  description: string;
  active: boolean;
  /** Active, but the live routing was edited since it was applied. */
  modified: boolean;
  providers: string[];
  rules: number;
}

type WithProfiles = Settings & { profiles: { active: string | null; list: Record<string, Profile> } };

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function profilesOf(s: Settings): WithProfiles['profiles'] {
  const p = (s as Partial<WithProfiles>).profiles;
  if (!p) throw new Error('The settings schema has no `profiles` section.');
  return p;
}

export function checkProfileName(name: string): void {
  if (!PROFILE_NAME.test(name)) throw new InvalidRequestError(`"${name.slice(0, 80)}" is not a profile name: 1-64 letters, digits, spaces and . _ ( ) + -.`);
}

export function listProfiles(s: Settings): ProfileRow[] {
  const p = profilesOf(s);
  return Object.entries(p.list).sort(([a], [b]) => a.localeCompare(b)).map(([name, prof]) => ({
    name,
    description: prof.description,
    active: p.active === name,
    modified: p.active === name && canonical(s.routing) !== canonical(prof.routing),
    providers: Object.keys(prof.providers).sort(),
    rules: prof.routing.rules.length,
  }));
}

/**
 * Applies profile `name` to a settings draft. The caller parses the draft (settings.update does),
 * which checks the routing against the providers.
 */
export function applyProfile(draft: Settings, name: string): void {
  const p = profilesOf(draft);
  const prof = p.list[name];
  if (!prof) throw new ProfileNotFoundError(name);
  const providers = draft.providers as Record<string, unknown>;
  for (const [pname, entry] of Object.entries(prof.providers)) {
    const live = providers[pname];
    if (live === undefined) {
      providers[pname] = structuredClone(entry);
    } else if (!sameProvider(live, entry)) {
      throw new ProfileConflictError(`Profile "${name}" defines provider "${pname}" differently from the configured one; nothing was applied. Rename the provider in the profile, or change the configured one first (a switch never changes a provider requests may be using).`);
    }
  }
  draft.routing = structuredClone(prof.routing) as Settings['routing'];
  p.active = name;
}

/** Entry vs configured provider: equal on every field the entry gives (defaults are filled in on the configured side). */
function sameProvider(live: unknown, entry: Record<string, unknown>): boolean {
  const l = live as Record<string, unknown>;
  return Object.entries(entry).every(([k, v]) => canonical(l[k]) === canonical(v));
}

/** Saves the live routing (and the providers it names) as profile `name`, replacing one of that name. */
export function saveProfile(draft: Settings, name: string, description = ''): Profile {
  checkProfileName(name);
  const p = profilesOf(draft);
  const used = usedProviders(draft.routing);
  const providers: Record<string, Record<string, unknown>> = {};
  for (const n of used) {
    if (n === 'anthropic') continue;
    const cfg = (draft.providers as Record<string, unknown>)[n];
    if (cfg) providers[n] = structuredClone(cfg) as Record<string, unknown>;
  }
  const prof = ProfileSchema.parse({ description: description || p.list[name]?.description || '', providers, routing: structuredClone(draft.routing) });
  p.list[name] = prof;
  p.active = name;
  return prof;
}

export function deleteProfile(draft: Settings, name: string): void {
  const p = profilesOf(draft);
  if (!p.list[name]) throw new ProfileNotFoundError(name);
  delete p.list[name];
  if (p.active === name) p.active = null;
}

/** Every provider the routing section names (targets, arms, fallbacks, tiers, cascades). */
export function usedProviders(routing: Settings['routing']): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'provider' && typeof x === 'string') out.add(x);
      else walk(x);
    }
  };
  walk(routing);
  return out;
}

/** The export file of the named profiles (all when none named). Settings never hold keys, and neither does this. */
export function exportProfiles(s: Settings, names: string[] = []): ProfilesFile {
  const p = profilesOf(s);
  const chosen = names.length ? names : Object.keys(p.list).sort();
  const profiles: ProfilesFile['profiles'] = {};
  for (const n of chosen) {
    const prof = p.list[n];
    if (!prof) throw new ProfileNotFoundError(n);
    profiles[n] = prof;
  }
  return { sluiceProfiles: 1, profiles };
}

/** Parses an export file (every problem named); throws InvalidRequestError. */
export function parseProfilesFile(raw: unknown): ProfilesFile {
  const r = ProfilesFileSchema.safeParse(raw);
  if (!r.success) throw new InvalidRequestError(`Not a Sluice profiles file: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}.`);
  return r.data;
}

/** Adds the file's profiles to a draft; an existing one of the same name is replaced only with `replace`. */
export function importProfiles(draft: Settings, file: ProfilesFile, opts: { replace?: boolean } = {}): string[] {
  const p = profilesOf(draft);
  const names = Object.keys(file.profiles);
  const clash = names.filter((n) => p.list[n] !== undefined);
  if (clash.length && !opts.replace) throw new ProfileConflictError(`Profile${clash.length > 1 ? 's' : ''} ${clash.map((n) => `"${n}"`).join(', ')} already exist${clash.length > 1 ? '' : 's'}; nothing was imported. Import with --replace to overwrite.`);
  for (const n of names) p.list[n] = structuredClone(file.profiles[n]!);
  return names;
}

/**
 * Emits `profile:switch` on the bus whenever the active profile changes or a profile is applied
 * again (its routing restored), whichever surface did it: the admin API, the CLI through it, the
 * tray's own write, or a hand edit the gateway reloads. Returns the stop function.
 */
export function emitProfileSwitches(settings: SettingsStore, bus: EventBus, now: () => number = Date.now): () => void {
  return settings.onChange((next, prev) => {
    const a = (next as Partial<WithProfiles>).profiles?.active ?? null;
    const b = (prev as Partial<WithProfiles>).profiles?.active ?? null;
    const reapplied = a !== null && a === b && canonical(next.routing) !== canonical(prev.routing)
      && canonical(next.routing) === canonical((next as WithProfiles).profiles.list[a]?.routing);
    if (a !== b || reapplied) bus.emit('profile:switch', { name: a, previous: b, ts: now() });
  });
}
