// One table from error codes (the gateway's `x-sluice-error-code`, or NETWORK) to what the
// dashboard says and offers. Every page shows errors through describeError(); no page writes
// its own error wording.
import { ApiError } from './api.js';

export type ErrorAction =
  | { kind: 'retry'; label: string }
  | { kind: 'command'; label: string; command: string }
  | { kind: 'link'; label: string; href: string };

export interface ErrorInfo {
  code: string;
  title: string;
  message: string;
  /** The gateway's own message, when it adds facts (which field, which file). */
  detail: string | null;
  action: ErrorAction | null;
  /** True when the session is gone and the whole app must show the sign-in help. */
  signedOut: boolean;
}

type Entry = Omit<ErrorInfo, 'code' | 'detail' | 'signedOut'> & { showDetail?: boolean; signedOut?: boolean };

const RETRY: ErrorAction = { kind: 'retry', label: 'Try again' };
const OPEN: ErrorAction = { kind: 'command', label: 'Get a new login link', command: 'sluice open' };

export const ERROR_TABLE: Record<string, Entry> = {
  NETWORK: { title: 'Sluice is not answering', message: 'The gateway may have stopped. Start it again, then retry.', action: { kind: 'command', label: 'Start the gateway', command: 'sluice serve' } },
  GATEWAY_UNAUTHORIZED: { title: 'You are signed out', message: 'This dashboard needs a login link from the machine running Sluice. Links work once and expire after 5 minutes.', action: OPEN, signedOut: true },
  GATEWAY_ADMIN_UNAUTHORIZED: { title: 'You are signed out', message: 'Budgets and guardrails need the same login as the rest of the dashboard. Links work once and expire after 5 minutes.', action: OPEN, signedOut: true },
  ADMIN_LOGIN_EXPIRED: { title: 'That login link has expired', message: 'Login links are valid for 5 minutes. Ask for a new one.', action: OPEN, signedOut: true },
  GATEWAY_FORBIDDEN_ORIGIN: { title: 'This page is not allowed to talk to Sluice', message: 'Open the dashboard from the gateway\u2019s own address (http://127.0.0.1:PORT/ui/).', action: null },
  GATEWAY_FORBIDDEN_HOST: { title: 'Wrong address', message: 'Sluice only answers on 127.0.0.1 or localhost.', action: null },
  GATEWAY_INVALID_REQUEST: { title: 'Sluice did not accept that', message: 'Check the highlighted values and try again.', action: null, showDetail: true },
  ADMIN_NOT_FOUND: { title: 'Not found', message: 'It may have been deleted, or never recorded.', action: { kind: 'link', label: 'Back to overview', href: '#/' }, showDetail: true },
  GATEWAY_NOT_FOUND: { title: 'Not found', message: 'It may have been removed meanwhile. Reload to see the current state.', action: RETRY, showDetail: true },
  CONTROL_UNAVAILABLE: { title: 'Budgets and guardrails are not running', message: 'This gateway was started without its control extension, so there are no budgets, policies, guardrails or capture to show.', action: { kind: 'command', label: 'The standard gateway includes it', command: 'sluice serve' } },
  ADMIN_CONFLICT: { title: 'Already exists', message: 'Pick another name, or revoke the existing one first.', action: null, showDetail: true },
  ADMIN_UNSUPPORTED_MEDIA_TYPE: { title: 'Request refused', message: 'The dashboard sent a request Sluice does not accept. Reload the page.', action: RETRY },
  ADMIN_KEYCHAIN_UNAVAILABLE: { title: 'The OS keychain is unavailable', message: 'Unlock your keychain (or start a Secret Service), or give Sluice the key through SLUICE_ANTHROPIC_API_KEY.', action: RETRY, showDetail: true },
  ADMIN_LEDGER_UNAVAILABLE: { title: 'No usage ledger', message: 'This gateway runs without a ledger, so there is no spend to show.', action: null },
  ADMIN_UI_NOT_BUILT: { title: 'The dashboard is not built', message: 'Build it once, then reload.', action: { kind: 'command', label: 'Build it', command: 'npm run build:ui' } },
  GATEWAY_SHUTTING_DOWN: { title: 'Sluice is shutting down', message: 'It finishes the requests in flight, then stops.', action: RETRY },
  GATEWAY_INTERNAL: { title: 'Something went wrong inside Sluice', message: 'Nothing was changed. Retry; if it keeps failing, the gateway log has the details.', action: RETRY },
  GATEWAY_UPSTREAM_UNREACHABLE: { title: 'The provider is unreachable', message: 'Sluice could not connect to the upstream API. Check your network or the upstream URL.', action: RETRY, showDetail: true },
  GATEWAY_UPSTREAM_TIMEOUT: { title: 'The provider timed out', message: 'The upstream API did not answer in time.', action: RETRY },
  TEAM_NOT_JOINED: { title: 'This machine is not in a team', message: 'Join from a terminal; the password goes to the OS keychain, never through this page.', action: { kind: 'command', label: 'Join', command: 'sluice team join <postgres-url> --member NAME' } },
  TEAM_DATABASE_UNAVAILABLE: { title: 'The team database is not answering', message: 'This gateway keeps serving under its budget leases; its rows wait in the local ledger and go out when the database is back.', action: RETRY, showDetail: true },
  TOOL_CONFIG_NOT_INSTALLED: { title: 'Tool not found on this machine', message: 'Install or run the tool once, then try again.', action: null, showDetail: true },
  TOOL_CONFIG_UNPARSEABLE: { title: 'The tool\u2019s config file could not be read', message: 'Sluice will not edit a file it cannot parse. Fix the file, then try again.', action: null, showDetail: true },
  TOOL_CONFIG_UNEXPECTED_SHAPE: { title: 'The tool\u2019s config has an unexpected shape', message: 'Sluice left it untouched.', action: null, showDetail: true },
  TOOL_CONFIG_ENCODING: { title: 'The tool\u2019s config has an unusual encoding', message: 'Sluice left it untouched.', action: null, showDetail: true },
  TOOL_CONFIG_UNKNOWN_TOOL: { title: 'Unknown tool', message: 'Reload the page to get the current list.', action: RETRY },
  TOOL_CONFIG_RECORD_INVALID: { title: 'Sluice\u2019s record of tool changes is damaged', message: 'Undo is not possible automatically; check the backups beside the tool\u2019s files.', action: null, showDetail: true },
  TOOL_CONFIG_COMMAND_FAILED: { title: 'A system command failed', message: 'Setting the environment variable did not work.', action: RETRY, showDetail: true },
  TOOL_CONFIG_BAD_CONNECTION: { title: 'Invalid gateway address', message: 'Sluice could not build a valid address for the tool.', action: null, showDetail: true },
};

const UNKNOWN: Entry = { title: 'Unexpected error', message: 'Sluice answered with an error the dashboard does not know.', action: RETRY, showDetail: true };

export function describeError(err: unknown): ErrorInfo {
  const api = err instanceof ApiError ? err : null;
  const code = api?.code ?? 'UNKNOWN';
  const e = ERROR_TABLE[code] ?? UNKNOWN;
  const detail = e.showDetail && api && api.message && api.message !== e.message ? api.message : (!api && err instanceof Error ? err.message : null);
  return { code, title: e.title, message: e.message, action: e.action, detail, signedOut: e.signedOut ?? false };
}
