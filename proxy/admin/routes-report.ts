// Admin route for the dashboard's Blocks view: the 5-hour windows of `sluice report blocks`,
// built by the same buildReport() over the same ledger queries and the same usage-limits file,
// so the window and `sluice report blocks --json` cannot disagree. Must not import app/ or renderer/.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { buildReport } from '../cli-report.js';
import { readUsageLimits } from '../control/unified-limits.js';
import type { BlocksResponse } from './api-types.js';
import { requireLedger, type AdminDeps } from './deps.js';
import { parseQuery } from './validate.js';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a local date YYYY-MM-DD');
const blocksQuery = z.object({
  since: day.optional(),
  until: day.optional(),
  tool: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(200).optional(),
  project: z.string().min(1).max(500).optional(),
  breakdown: z.enum(['0', '1']).optional(),
}).strict();

export function mountReportRoutes(router: Router, deps: AdminDeps): void {
  router.get('/report/blocks', (req: Request, res: Response) => {
    const q = parseQuery(blocksQuery, req.originalUrl);
    const body: BlocksResponse = buildReport(requireLedger(deps), 'blocks', { ...q, breakdown: q.breakdown === '1' }, Date.now(), readUsageLimits(deps.internals.dataDir));
    res.json(body);
  });
}
