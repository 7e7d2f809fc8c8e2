// Cline: the current CLI/SDK `data/settings/providers.json` and the 4.x `data/globalState.json`
// + `data/secrets.json`, under CLINE_DIR or ~/.cline. Touches only files that exist or whose
// folder shows that Cline version is installed. Imports tools modules only.
import { join } from 'node:path';
import { createToolAdapter, pathExists } from '../adapter.js';
import type { FileTarget } from '../engine.js';
import { clineDir } from '../paths.js';
import type { ToolAdapter } from '../types.js';

const ENTRY = ['providers', 'anthropic'];

export function createClineAdapter(): ToolAdapter {
  return createToolAdapter({
    id: 'cline',
    label: 'Cline',
    async plan(ctx) {
      const data = join(clineDir(ctx), 'data');
      const providers = join(data, 'settings', 'providers.json');
      const globalState = join(data, 'globalState.json');
      const secrets = join(data, 'secrets.json');
      const files: FileTarget[] = [];
      const notes: string[] = [];
      if ((await pathExists(providers)) || (await pathExists(join(data, 'settings')))) {
        files.push({
          path: providers,
          role: 'Cline provider settings (CLI / SDK)',
          format: 'json',
          defaultIndent: '  ',
          keys: [
            { id: 'version', loc: { kind: 'json', path: ['version'] }, value: () => 1, onlyIfAbsent: true },
            { id: 'lastUsedProvider', loc: { kind: 'json', path: ['lastUsedProvider'] }, value: () => 'anthropic' },
            { id: 'anthropic.settings.provider', loc: { kind: 'json', path: [...ENTRY, 'settings', 'provider'] }, value: () => 'anthropic' },
            { id: 'anthropic.settings.apiKey', loc: { kind: 'json', path: [...ENTRY, 'settings', 'apiKey'] }, value: (c) => c.token, secret: true },
            { id: 'anthropic.settings.baseUrl', loc: { kind: 'json', path: [...ENTRY, 'settings', 'baseUrl'] }, value: (c) => c.baseUrl, baseUrl: true },
            { id: 'anthropic.tokenSource', loc: { kind: 'json', path: [...ENTRY, 'tokenSource'] }, value: () => 'manual' },
            { id: 'anthropic.updatedAt', loc: { kind: 'json', path: [...ENTRY, 'updatedAt'] }, value: (_c, now) => now.toISOString(), touch: true },
          ],
        });
        notes.push(`Sets the "anthropic" provider in ${providers} (base URL, key) and makes it the last used one; other providers stay as they are. The model is left to Cline.`);
      }
      if (await pathExists(globalState)) {
        files.push({
          path: globalState,
          role: 'Cline 4.x global state',
          format: 'json',
          defaultIndent: '  ',
          keys: [
            { id: 'anthropicBaseUrl', loc: { kind: 'json', path: ['anthropicBaseUrl'] }, value: (c) => c.baseUrl, baseUrl: true },
            { id: 'actModeApiProvider', loc: { kind: 'json', path: ['actModeApiProvider'] }, value: () => 'anthropic' },
            { id: 'planModeApiProvider', loc: { kind: 'json', path: ['planModeApiProvider'] }, value: () => 'anthropic' },
          ],
        });
        // secrets.json sits beside globalState.json; its presence is shown by globalState.json.
        files.push({
          path: secrets,
          role: 'Cline 4.x secrets',
          format: 'json',
          defaultIndent: '  ',
          keys: [{ id: 'apiKey', loc: { kind: 'json', path: ['apiKey'] }, value: (c) => c.token, secret: true }],
        });
        notes.push(`Sets anthropicBaseUrl and the act/plan provider in ${globalState}, and apiKey in ${secrets} (Cline 4.x).`);
      }
      const installed = files.length > 0;
      if (!installed) notes.push(`No Cline settings were found under ${data} (neither settings/providers.json nor globalState.json).`);
      return { installed, files, envVars: [], notes, warnings: [] };
    },
  });
}
