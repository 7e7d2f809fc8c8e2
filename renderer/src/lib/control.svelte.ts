// The control plane as the dashboard sees it: its settings (budgets, token policies, guardrails,
// capture) and status (budget engine, capture files, recent alerts), loaded together and
// updated in place after each change. One instance, created by App (the capture banner on every
// page reads it). A gateway without the control extension answers 404: that becomes the
// CONTROL_UNAVAILABLE error, so pages say so instead of showing empty budgets.
import { ApiError, type Api, type BudgetsPatch, type ControlSettings, type ControlStatusView, type GuardPolicy, type TokenPolicy } from './api.js';

export type ControlApi = Api['control'];

export class ControlState {
  config = $state<ControlSettings | null>(null);
  status = $state<ControlStatusView | null>(null);
  error = $state<unknown>(null);
  loading = $state(false);

  /** Capture as last read; the status wins because it reflects the running gateway. */
  captureOn = $derived(this.status?.capture.enabled ?? this.config?.capture.enabled ?? false);
  unavailable = $derived(this.error instanceof ApiError && this.error.code === 'CONTROL_UNAVAILABLE');

  #api: ControlApi;
  #seq = 0;
  #abort: AbortController | null = null;

  constructor(api: ControlApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.loading = true;
    try {
      const [config, status] = await Promise.all([this.#api.config(abort.signal), this.#api.status(abort.signal)]);
      if (seq !== this.#seq) return;
      this.config = config;
      this.status = status;
      this.error = null;
    } catch (err) {
      if (seq !== this.#seq || (err as Error)?.name === 'AbortError') return;
      // The status route exists whenever the extension is mounted: a 404 means it is not.
      this.error = err instanceof ApiError && err.status === 404
        ? new ApiError('CONTROL_UNAVAILABLE', 404, err.message, err.requestId)
        : err;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** A change answered with the new section: show it now, and drop any older load in flight. */
  #applied(edit: (c: ControlSettings) => ControlSettings): void {
    this.#seq++;
    this.#abort?.abort();
    this.loading = false;
    if (this.config) this.config = edit(this.config);
  }

  async setBudgets(patch: BudgetsPatch): Promise<void> {
    const budgets = await this.#api.setBudgets(patch);
    this.#applied((c) => ({ ...c, budgets }));
  }

  async savePolicy(name: string, policy: TokenPolicy): Promise<void> {
    const saved = await this.#api.savePolicy(name, policy);
    this.#applied((c) => ({ ...c, tokens: { ...c.tokens, [name]: saved } }));
    // The rate-limit buckets of the new limits (best effort: the policy itself is saved).
    await this.#api.status().then((status) => { this.status = status; }, () => {});
  }

  async deletePolicy(name: string): Promise<void> {
    await this.#api.deletePolicy(name);
    this.#applied((c) => {
      const tokens = { ...c.tokens };
      delete tokens[name];
      return { ...c, tokens };
    });
  }

  async saveGuardrails(policies: GuardPolicy[]): Promise<void> {
    const guardrails = await this.#api.saveGuardrails(policies);
    this.#applied((c) => ({ ...c, guardrails }));
  }

  /** Turns body capture on or off, then reloads the status (files, directory) it changes. */
  async setCapture(enabled: boolean): Promise<void> {
    const capture = await this.#api.setCapture({ enabled });
    this.#applied((c) => ({ ...c, capture }));
    if (this.status) this.status = { ...this.status, capture: { ...this.status.capture, enabled: capture.enabled } };
    await this.load();
  }
}
