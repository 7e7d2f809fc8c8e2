// The check every extension's /admin/api route passes (control, insights, team, observe): the
// admin credential through the injected authorize(), and for a state change a JSON body type,
// as the admin router requires of its own routes. Imports express types and the error classes.
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { AdminError } from '../admin/admin-error.js';
import { AdminUnauthorizedError } from './errors.js';

export type AdminAuthorize = (req: IncomingMessage) => boolean | Promise<boolean>;
export type AdminHandler = (req: Request, res: Response) => Promise<void> | void;

/** `Content-Type: application/json` (any parameters): what a cross-site form post cannot send. */
export function isJsonContentType(ct: string | undefined): boolean {
  return (ct ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * Wraps a route handler: 401 without the admin credential, 415 for a non-GET/HEAD request that
 * is not JSON (CSRF defence in depth beside SameSite=Strict and the gateway's origin check).
 *
 * @example
 * const guard = adminGuard(opts.authorize ?? (() => false));
 * app.post('/admin/api/x', guard(async (req, res) => { ... }));
 */
export function adminGuard(authorize: AdminAuthorize): (handler: AdminHandler) => (req: Request, res: Response) => Promise<void> {
  return (handler) => async (req, res) => {
    if (!(await authorize(req))) throw new AdminUnauthorizedError();
    if (req.method !== 'GET' && req.method !== 'HEAD' && !isJsonContentType(req.headers['content-type'])) {
      throw new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', 'State-changing admin requests must send Content-Type: application/json.');
    }
    await handler(req, res);
  };
}
