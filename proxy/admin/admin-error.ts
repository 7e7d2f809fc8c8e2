// AdminError: what the admin API refuses beyond the core taxonomy (missing record, wrong media
// type, keychain or ledger unavailable). Extends GatewayError; imports only ../errors.js.
import { GatewayError } from '../errors.js';

export type AdminErrorCode =
  | 'ADMIN_NOT_FOUND'
  | 'ADMIN_CONFLICT'
  | 'ADMIN_UNSUPPORTED_MEDIA_TYPE'
  | 'ADMIN_KEYCHAIN_UNAVAILABLE'
  | 'ADMIN_LEDGER_UNAVAILABLE'
  | 'ADMIN_UI_NOT_BUILT'
  | 'ADMIN_LOGIN_EXPIRED';

// The envelope's `error.type` follows Anthropic's names for the same status, prefixed like every
// gateway error, so a client that only reads the type still reacts sensibly.
const SHAPE: Record<AdminErrorCode, { status: number; type: string }> = {
  ADMIN_NOT_FOUND: { status: 404, type: 'gateway_not_found_error' },
  ADMIN_CONFLICT: { status: 409, type: 'gateway_conflict_error' },
  ADMIN_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'gateway_invalid_request_error' },
  ADMIN_KEYCHAIN_UNAVAILABLE: { status: 503, type: 'gateway_unavailable' },
  ADMIN_LEDGER_UNAVAILABLE: { status: 503, type: 'gateway_unavailable' },
  ADMIN_UI_NOT_BUILT: { status: 503, type: 'gateway_unavailable' },
  ADMIN_LOGIN_EXPIRED: { status: 401, type: 'gateway_authentication_error' },
};

export class AdminError extends GatewayError {
  declare readonly code: AdminErrorCode;
  constructor(code: AdminErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, SHAPE[code].status, SHAPE[code].type, message, { cause: opts.cause });
  }
}
