// The `profiles` settings section: named sets of provider + routing choices ("Anthropic direct",
// "Background on Haiku", "OpenAI-compatible provider X") and which one was applied last.
// Provider entries are checked as settings when a profile is applied or saved (proxy/profiles/
// index.ts), so this file imports zod and the routing schema only. Profiles never hold keys:
// keys live in the keychain under the provider's name, and a provider entry naming anything
// key-like is refused.
import { z } from 'zod';
import { RoutingSettingsSchema } from '../routing/schema.js';

export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,63}$/;
const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Field names that would carry a credential; a provider entry never has one. */
const KEYLIKE = /(^|[^a-z])(api[-_]?key|apikey|key|keys|secret|token|password|authorization|bearer)([^a-z]|$)/i;

const ProviderEntrySchema = z.record(z.string(), z.unknown()).superRefine((p, ctx) => {
  for (const k of Object.keys(p)) {
    if (KEYLIKE.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'profiles carry no keys (keys stay in the keychain under the provider\'s name)' });
  }
  const headers = p.headers;
  if (headers && typeof headers === 'object') {
    for (const h of Object.keys(headers)) {
      // Any key-like name, not a fixed list: x-goog-api-key, x-auth-token, api_key ...
      if (KEYLIKE.test(h) || /^(authorization|proxy-authorization|cookie)$/i.test(h)) ctx.addIssue({ code: 'custom', path: ['headers', h], message: 'profiles carry no credentials' });
    }
  }
  // A base URL can carry one too: user:password@ or a key-like query parameter (?key=...).
  if (typeof p.baseUrl === 'string') {
    let u: URL | null = null;
    try { u = new URL(p.baseUrl); } catch { /* the settings schema names a bad URL when the profile is applied */ }
    if (u && (u.username !== '' || u.password !== '' || [...u.searchParams.keys()].some((k) => KEYLIKE.test(k)))) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'profiles carry no credentials (no user:password@ or key parameter in the URL)' });
    }
  }
});

export const ProfileSchema = z.object({
  description: z.string().max(200).prefault(''),
  /** Providers the profile's routing uses (besides `anthropic`), as in `settings.providers`. */
  providers: z.record(z.string().regex(PROVIDER_NAME, 'provider names are lower-case letters, digits and "-"'), ProviderEntrySchema).prefault({}),
  /** The whole `routing` section while the profile is active. */
  routing: RoutingSettingsSchema.prefault({}),
}).strict();
export type Profile = z.infer<typeof ProfileSchema>;

export const ProfilesSettingsSchema = z.object({
  /** The profile applied last (null: none, or the live routing was set by hand). */
  active: z.string().regex(PROFILE_NAME).nullable().prefault(null),
  list: z.record(z.string().regex(PROFILE_NAME, 'profile names are 1-64 letters, digits, spaces and . _ ( ) + -'), ProfileSchema).prefault({}),
}).strict();
export type ProfilesSettings = z.infer<typeof ProfilesSettingsSchema>;

/** The export/import file: `{ "sluiceProfiles": 1, "profiles": { name: profile } }`. */
export const ProfilesFileSchema = z.object({
  sluiceProfiles: z.literal(1),
  profiles: z.record(z.string().regex(PROFILE_NAME, 'profile names are 1-64 letters, digits, spaces and . _ ( ) + -'), ProfileSchema),
}).strict();
export type ProfilesFile = z.infer<typeof ProfilesFileSchema>;
