// What every page shares: the API client, the router and the gateway status, through Svelte's
// context (set once in App.svelte), so pages never create their own.
import { getContext, setContext } from 'svelte';
import type { Api, StatusResponse } from './api.js';
import type { ControlState } from './control.svelte.js';
import type { Resource } from './resource.svelte.js';
import type { Router } from './router.svelte.js';

export interface AppContext {
  api: Api;
  router: Router;
  status: Resource<StatusResponse>;
  /** Budgets, policies, guardrails and capture (the capture banner on every page reads it). */
  control: ControlState;
  /** Clock for relative times; ticks every 30 s so "5 min ago" stays true. */
  now: () => number;
}

const KEY = Symbol('sluice-app');

export function setApp(ctx: AppContext): void {
  setContext(KEY, ctx);
}

export function app(): AppContext {
  return getContext<AppContext>(KEY);
}
