// Admin routes for profiles: the list (names and counts, no provider entries, so no keys) with
// the settings revision, and the one-click switch. The switch is the same applyProfile() the CLI
// and the tray run, inside one update of the gateway's settings store, so it applies to the next
// request; a stale If-Match is refused with 409 SETTINGS_REVISION_STALE (settings-revision.ts).
// The `profile:switch` event is emitted by the store's change listener (profiles/index.ts), for
// this surface and every other. Must not import app/ or renderer/.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { applyProfile, checkProfileName, listProfiles } from '../profiles/index.js';
import { SettingsError, type Settings } from '../store/settings.js';
import type { ProfileActivate, ProfilesResponse } from './api-types.js';
import type { AdminDeps } from './deps.js';
import { parseBody } from './validate.js';

export function profilesView(s: Settings, revision: string): ProfilesResponse {
  const rows = listProfiles(s);
  return { active: rows.some((r) => r.active) ? s.profiles.active : null, profiles: rows, revision };
}

const activateBody = z.object({ name: z.string().max(64).nullable() }).strict() satisfies z.ZodType<ProfileActivate>;

export function mountProfileRoutes(router: Router, deps: AdminDeps): void {
  const { settings } = deps.internals;

  router.get('/profiles', (_req: Request, res: Response) => {
    res.json(profilesView(settings.get(), settings.revision()));
  });

  router.post('/profiles/active', async (req: Request, res: Response) => {
    const { name } = parseBody(activateBody, req.body);
    if (name !== null) checkProfileName(name);
    let next: Settings;
    try {
      next = await settings.update((s) => {
        if (name === null) s.profiles.active = null;
        else applyProfile(s, name);
      });
    } catch (err) {
      if (err instanceof SettingsError) throw new InvalidRequestError(`Profile "${name}" does not fit the configured providers: ${err.problems.join('; ')}.`);
      throw err;
    }
    res.json(profilesView(next, settings.revision()));
  });
}
