// /admin/api/observe/status: the exporter's and the webhooks' counters for the window and
// `sluice observe status`. Every route passes the injected authorize() first. Imports express
// types and the shared admin refusal; never gateway.ts code.
import type { Express, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { AdminUnauthorizedError } from '../control/errors.js';

export const OBSERVE_STATUS_PATH = '/admin/api/observe/status';

export interface ObserveRouteDeps {
  authorize(req: IncomingMessage): boolean | Promise<boolean>;
  status(): unknown;
}

export function mountObserveRoutes(app: Express, deps: ObserveRouteDeps): void {
  app.get(OBSERVE_STATUS_PATH, async (req: Request, res: Response) => {
    if (!(await deps.authorize(req))) throw new AdminUnauthorizedError();
    const text = JSON.stringify(deps.status());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  });
}
