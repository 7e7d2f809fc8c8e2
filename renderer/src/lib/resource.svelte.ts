// One async value with its loading and error state. Later loads win: an older answer arriving
// after a newer request is dropped, so a fast click sequence never shows stale data.
export class Resource<T> {
  data = $state<T | null>(null);
  error = $state<unknown>(null);
  loading = $state(false);
  #seq = 0;
  #loader: (signal: AbortSignal) => Promise<T>;
  #abort: AbortController | null = null;

  constructor(loader: (signal: AbortSignal) => Promise<T>) {
    this.#loader = loader;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.loading = true;
    try {
      const value = await this.#loader(abort.signal);
      if (seq !== this.#seq) return;
      this.data = value;
      this.error = null;
    } catch (err) {
      if (seq !== this.#seq || (err as Error)?.name === 'AbortError') return;
      this.error = err;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** Replaces the value without a request (after a save returned the new state). */
  set(value: T): void {
    this.#seq++;
    this.#abort?.abort();
    this.data = value;
    this.error = null;
    this.loading = false;
  }
}
