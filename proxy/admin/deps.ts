// What every admin route module receives: the gateway's internals plus the admin's own clock,
// zone and machine facts. Types and one helper; no state.
import type { Dispatcher } from 'undici';
import type { GatewayInternals } from '../gateway.js';
import type { Ledger } from '../ledger/index.js';
import type { TzOffset } from '../ledger/dates.js';
import { AdminError } from './admin-error.js';

export interface AdminDeps {
  internals: GatewayInternals;
  now: () => number;
  tz: TzOffset;
  /** Where the tool adapters look for config files (the user's home, or a test's temp dir). */
  machine: { home: string; platform: NodeJS.Platform; cwd?: string };
  /** For the key test's upstream call; undici's global dispatcher by default. */
  dispatcher?: Dispatcher;
}

export function requireLedger(deps: AdminDeps): Ledger {
  const l = deps.internals.ledger;
  if (!l) throw new AdminError('ADMIN_LEDGER_UNAVAILABLE', 'This gateway runs without a usage ledger, so there is no spend to show.');
  return l;
}
