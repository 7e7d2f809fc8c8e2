// Light/dark theme: follows the system unless the user picks one; the choice is remembered.
export type ThemeMode = 'system' | 'light' | 'dark';
const KEY = 'sluice.theme';
const ORDER: ThemeMode[] = ['system', 'light', 'dark'];

export interface ThemeEnv {
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  prefersDark: () => boolean;
  apply: (theme: 'light' | 'dark') => void;
}

export class Theme {
  mode = $state<ThemeMode>('system');
  systemDark = $state(false);
  resolved = $derived<'light' | 'dark'>(this.mode === 'system' ? (this.systemDark ? 'dark' : 'light') : this.mode);
  #env: ThemeEnv;

  constructor(env: ThemeEnv) {
    this.#env = env;
    const saved = env.storage?.getItem(KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.mode = saved;
    this.systemDark = env.prefersDark();
    env.apply(this.resolved);
  }

  /** system -> light -> dark -> system. */
  cycle(): void {
    this.set(ORDER[(ORDER.indexOf(this.mode) + 1) % ORDER.length]!);
  }

  set(mode: ThemeMode): void {
    this.mode = mode;
    this.#env.storage?.setItem(KEY, mode);
    this.#env.apply(this.resolved);
  }

  systemChanged(dark: boolean): void {
    this.systemDark = dark;
    this.#env.apply(this.resolved);
  }
}

/** The browser's storage, media query and <html data-theme>. */
export function browserThemeEnv(): ThemeEnv {
  const mq = window.matchMedia('(prefers-color-scheme: dark)');
  let storage: Storage | null = null;
  try { storage = window.localStorage; } catch { /* storage disabled: the choice lasts the session */ }
  return {
    storage,
    prefersDark: () => mq.matches,
    apply: (t) => { document.documentElement.dataset.theme = t; },
  };
}
