// Where the control section is read and written: `settings.control` through the settings store
// (once the lead mounts ControlSettingsSchema there). Imports the settings store type and schema.
import type { SettingsStore } from '../store/settings.js';
import { ControlSettingsSchema, defaultControlSettings, parseControlSettings, type ControlSettings } from './schema.js';

export interface ControlConfig {
  get(): ControlSettings;
  /** Validates and writes the whole section (atomically, via the settings store). */
  save(next: ControlSettings): Promise<ControlSettings>;
}

export class ControlConfigUnavailableError extends Error {
  constructor() {
    super('The settings schema has no `control` section, so control settings cannot be saved (add `control: ControlSettingsSchema.prefault({})` to SettingsSchema).');
  }
}

export function settingsControlConfig(settings: SettingsStore): ControlConfig {
  // Parsed once per settings object (a reload or write replaces it).
  let parsedFor: unknown = Symbol('none');
  let parsed = defaultControlSettings();
  return {
    get() {
      const raw = (settings.get() as { control?: unknown }).control;
      if (raw !== parsedFor) {
        const r = ControlSettingsSchema.safeParse(raw ?? {});
        parsed = r.success ? r.data : defaultControlSettings();
        parsedFor = raw;
      }
      return parsed;
    },
    async save(next) {
      const checked = parseControlSettings(next);
      const saved = await settings.update((s) => { (s as { control?: unknown }).control = checked; });
      if ((saved as { control?: unknown }).control === undefined) throw new ControlConfigUnavailableError();
      return checked;
    },
  };
}
