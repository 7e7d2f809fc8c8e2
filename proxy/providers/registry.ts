// The provider registry: each configured provider resolved to plain data (wire format, base URL,
// auth style, endpoint paths, translation options) from its settings and its family's defaults
// (kinds.ts). Pure over the settings it is given; never imports the pipeline, express or undici.
import { PROVIDER_KINDS, type AuthStyle, type ProviderType, type Wire } from './kinds.js';
import type { AnthropicToChatOptions } from './openai/index.js';

/** The settings of one provider as store/settings.ts validates them. */
export interface ProviderConfig {
  type: ProviderType;
  baseUrl: string;
  auth?: AuthStyle;
  models: string[];
  discoverModels: boolean;
  headers: Record<string, string>;
  reasoningField?: AnthropicToChatOptions['reasoningField'];
  reasoningEffort?: boolean;
  maxTokensField?: AnthropicToChatOptions['maxTokensField'];
}

export interface ProviderSpec {
  name: string;
  type: ProviderType;
  wire: Wire;
  baseUrl: URL;
  auth: AuthStyle;
  /** Configured model ids (discovery adds to them). */
  models: readonly string[];
  discoverModels: boolean;
  /** Extra, non-secret request headers. */
  headers: Readonly<Record<string, string>>;
  /** Options for requests translated to this provider's chat format. */
  chat: Omit<AnthropicToChatOptions, 'model'>;
}

export interface ProviderRegistry {
  get(name: string): ProviderSpec | null;
  list(): ProviderSpec[];
  /** An endpoint's path relative to the base URL's path (`/v1/messages`, `/chat/completions`); null when the family has none. */
  pathOf(spec: ProviderSpec, endpoint: 'messages' | 'countTokens' | 'chat' | 'models'): string | null;
}

export function providerSpec(name: string, cfg: ProviderConfig, baseUrl: URL): ProviderSpec {
  const kind = PROVIDER_KINDS[cfg.type];
  return {
    name,
    type: cfg.type,
    wire: kind.wire,
    baseUrl,
    auth: cfg.auth ?? kind.defaultAuth,
    models: [...cfg.models],
    discoverModels: cfg.discoverModels,
    headers: { ...cfg.headers },
    chat: {
      ...(cfg.reasoningField ? { reasoningField: cfg.reasoningField } : {}),
      ...(cfg.reasoningEffort !== undefined ? { reasoningEffort: cfg.reasoningEffort } : {}),
      ...(cfg.maxTokensField ? { maxTokensField: cfg.maxTokensField } : {}),
    },
  };
}

/**
 * @example
 * const registry = createProviderRegistry({ providers: () => settings.get().providers, baseUrlOf: (n, cfg) => new URL(cfg.baseUrl) });
 * registry.get('deepseek')?.wire // 'openai-chat'
 */
export function createProviderRegistry(opts: {
  providers: () => Readonly<Record<string, ProviderConfig>>;
  /** The base URL in effect (the env override for `anthropic`, parsed once per value). */
  baseUrlOf: (name: string, cfg: ProviderConfig) => URL;
}): ProviderRegistry {
  // Rebuilt only when the settings object changes (a reload replaces it) or a base URL moves.
  let forProviders: unknown = null;
  let specs = new Map<string, ProviderSpec>();
  const current = (): Map<string, ProviderSpec> => {
    const providers = opts.providers();
    if (providers !== forProviders) {
      specs = new Map();
      forProviders = providers;
    }
    for (const [name, cfg] of Object.entries(providers)) {
      const url = opts.baseUrlOf(name, cfg);
      const have = specs.get(name);
      if (!have || have.baseUrl !== url) specs.set(name, providerSpec(name, cfg, url));
    }
    return specs;
  };
  return {
    get: (name) => current().get(name) ?? null,
    list: () => [...current().values()],
    pathOf(spec, endpoint) {
      const p = PROVIDER_KINDS[spec.type].endpoints[endpoint];
      return p ?? null;
    },
  };
}
