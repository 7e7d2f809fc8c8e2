// The Sessions page's state: search, sort column and direction, paging, and the page of
// sessions for them. The query is derived from the state; loads are sequenced so a slow older
// answer never replaces a newer one.
import type { SessionPage } from './api.js';
import type { SessionsQuery } from './api.js';

export type SortKey = 'lastSeen' | 'firstSeen' | 'cost' | 'requests' | 'errors' | 'tokens' | 'tool' | 'sessionId';

/** Text columns read naturally A→Z; numbers and times start with the largest / newest. */
const DEFAULT_ORDER: Record<SortKey, 'asc' | 'desc'> = {
  lastSeen: 'desc', firstSeen: 'desc', cost: 'desc', requests: 'desc', errors: 'desc', tokens: 'desc', tool: 'asc', sessionId: 'asc',
};

export interface SessionsControllerOptions {
  load: (q: SessionsQuery, signal: AbortSignal) => Promise<SessionPage>;
  pageSize?: number;
  /** Debounce for the search box. */
  searchDelayMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export class SessionsController {
  search = $state('');
  sort = $state<SortKey>('lastSeen');
  order = $state<'asc' | 'desc'>('desc');
  page = $state(0);
  pageSize = $state(25);
  data = $state<SessionPage | null>(null);
  error = $state<unknown>(null);
  loading = $state(false);

  total = $derived(this.data?.total ?? 0);
  pageCount = $derived(Math.max(1, Math.ceil(this.total / this.pageSize)));
  hasPrev = $derived(this.page > 0);
  hasNext = $derived((this.page + 1) * this.pageSize < this.total);
  /** 1-based first and last row numbers shown, 0 when empty. */
  range = $derived({
    from: this.total === 0 ? 0 : this.page * this.pageSize + 1,
    to: Math.min(this.total, (this.page + 1) * this.pageSize),
  });

  #opts: SessionsControllerOptions;
  #seq = 0;
  #abort: AbortController | null = null;
  #timer: unknown = null;

  constructor(opts: SessionsControllerOptions) {
    this.#opts = opts;
    this.pageSize = opts.pageSize ?? 25;
  }

  query(): SessionsQuery {
    const q: SessionsQuery = { sort: this.sort, order: this.order, limit: this.pageSize, offset: this.page * this.pageSize };
    const s = this.search.trim();
    if (s) q.search = s;
    return q;
  }

  /** Same column: flip the direction. Another column: its natural direction, back to page 1. */
  toggleSort(key: SortKey): Promise<void> {
    if (this.sort === key) this.order = this.order === 'asc' ? 'desc' : 'asc';
    else {
      this.sort = key;
      this.order = DEFAULT_ORDER[key];
    }
    this.page = 0;
    return this.load();
  }

  /** For aria-sort on the column headers. */
  ariaSort(key: SortKey): 'ascending' | 'descending' | 'none' {
    return this.sort !== key ? 'none' : this.order === 'asc' ? 'ascending' : 'descending';
  }

  setSearch(text: string): void {
    this.search = text;
    this.page = 0;
    const clear = this.#opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
    const set = this.#opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    if (this.#timer !== null) clear(this.#timer);
    this.#timer = set(() => {
      this.#timer = null;
      void this.load();
    }, this.#opts.searchDelayMs ?? 200);
  }

  next(): Promise<void> {
    if (!this.hasNext) return Promise.resolve();
    this.page += 1;
    return this.load();
  }

  prev(): Promise<void> {
    if (!this.hasPrev) return Promise.resolve();
    this.page -= 1;
    return this.load();
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.loading = true;
    try {
      const page = await this.#opts.load(this.query(), abort.signal);
      if (seq !== this.#seq) return;
      this.data = page;
      this.error = null;
      // Rows were deleted or the search shrank the list under the current page: show its last page.
      if (page.sessions.length === 0 && page.total > 0 && this.page > 0) {
        this.page = Math.max(0, Math.ceil(page.total / this.pageSize) - 1);
        await this.load();
      }
    } catch (err) {
      if (seq !== this.#seq || (err as Error)?.name === 'AbortError') return;
      this.error = err;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }
}
