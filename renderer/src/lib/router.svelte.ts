// The current hash route as reactive state. One instance, created by App and passed down.
import { parseRoute, type Route } from './routes.js';

export class Router {
  route = $state<Route>({ page: 'overview' });
  #win: Window | null;
  #onChange = () => { this.route = parseRoute(this.#win?.location.hash ?? ''); };

  constructor(win: Window | null = typeof window === 'undefined' ? null : window) {
    this.#win = win;
    this.#onChange();
    win?.addEventListener('hashchange', this.#onChange);
  }

  go(hash: string): void {
    if (this.#win) this.#win.location.hash = hash;
    else this.route = parseRoute(hash);
  }

  destroy(): void {
    this.#win?.removeEventListener('hashchange', this.#onChange);
  }
}
