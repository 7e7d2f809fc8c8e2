// Admin routes for coding-tool setup: detect + status per tool, preview (diff, token masked),
// apply with the tool's own token, exact undo. Reuses the CLI's token handling (cli-tools.ts) so
// the window and `sluice configure` issue and keep tokens the same way.
import type { Request, Response, Router } from 'express';
import { toolContext, toolToken } from '../cli-tools.js';
import { SecretStoreError, type SecretStore } from '../store/secrets.js';
import { createTokenStore } from '../store/tokens.js';
import { CURSOR_BYOK_NOTE, getToolAdapter, listToolAdapters, type ToolContext } from '../tools/index.js';
import type { ToolsResponse, ToolUndoResponse, ToolView } from './api-types.js';
import type { AdminDeps } from './deps.js';
import { TOOL_TOKEN_ACCOUNT_PREFIX } from './routes-config.js';

/** Previews show where the token goes without issuing one (adapters mask it anyway). */
const PLACEHOLDER_TOKEN = 'sk-sluice-new-token-for-this-tool';

/** Without a keychain, tool tokens live only in the tool's config (as the CLI does headless). */
function toolSecrets(s: SecretStore | null): SecretStore {
  if (s) return s;
  return {
    get: async () => null,
    set: async () => { throw new SecretStoreError('no OS keychain in this gateway'); },
    delete: async () => false,
    list: async () => [],
  };
}

export function mountToolRoutes(router: Router, deps: AdminDeps): void {
  const { internals } = deps;
  const secrets = toolSecrets(internals.secrets);
  const ctx = (): ToolContext => toolContext({
    stdout: () => {}, stderr: () => {}, env: internals.env, platform: deps.machine.platform, home: deps.machine.home, cwd: deps.machine.cwd,
  }, internals.dataDir, secrets);
  const note = (s: string) => internals.logger.info(`tools: ${s}`);

  router.get('/tools', async (_req: Request, res: Response) => {
    const c = ctx();
    const tools: ToolView[] = await Promise.all(listToolAdapters().map(async (a) => {
      const [d, st] = await Promise.all([a.detect(c), a.status(c)]);
      return {
        id: a.id, label: a.label, installed: d.installed, state: st.state, baseUrl: st.baseUrl, drifted: st.drifted,
        files: d.files, notes: d.notes, warnings: d.warnings,
      };
    }));
    const body: ToolsResponse = { gatewayUrl: internals.url(), cursorByokNote: CURSOR_BYOK_NOTE, tools };
    res.json(body);
  });

  router.post('/tools/:id/preview', async (req: Request, res: Response) => {
    const adapter = getToolAdapter(String(req.params.id));
    res.json(await adapter.preview(ctx(), { baseUrl: internals.url(), token: PLACEHOLDER_TOKEN }));
  });

  router.post('/tools/:id/apply', async (req: Request, res: Response) => {
    const adapter = getToolAdapter(String(req.params.id));
    const token = await toolToken(adapter.id, internals.settings, secrets, note);
    res.json(await adapter.apply(ctx(), { baseUrl: internals.url(), token }));
  });

  router.post('/tools/:id/undo', async (req: Request, res: Response) => {
    const adapter = getToolAdapter(String(req.params.id));
    const r = await adapter.undo(ctx());
    let tokenRevoked = false;
    if (r.undone) {
      // As `sluice configure --undo`: the tool's token goes with its configuration.
      const tokens = createTokenStore(internals.settings);
      if (tokens.list().some((t) => t.name === adapter.id && !t.revokedAt)) {
        await tokens.revoke(adapter.id);
        tokenRevoked = true;
      }
      await secrets.delete(`${TOOL_TOKEN_ACCOUNT_PREFIX}${adapter.id}`).catch(() => false);
    }
    const body: ToolUndoResponse = { ...r, tokenRevoked };
    res.json(body);
  });
}
