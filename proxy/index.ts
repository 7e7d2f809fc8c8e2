// Sluice's gateway, public surface: what app/, renderer/ and tests may import.
export {
  createGateway, anthropicBaseUrl, type Gateway, type GatewayOptions, type LastUpstream,
  type GatewayExtension, type GatewayInternals, type ProxyRequest, type Stage,
} from './gateway.js';
export { createEventBus, type EventBus, type GatewayEvents, type AlertEvent, type RequestStartEvent } from './events.js';
export type { LedgerRow, Ledger } from './ledger/index.js';
export * from './errors.js';
export { openSettings, defaultSettings, parseSettings, SettingsError, DEFAULT_PORT, type Settings, type SettingsStore } from './store/settings.js';
export { createTokenStore, TokenError, TOKEN_PREFIX, type TokenStore } from './store/tokens.js';
export { createKeychainStore, createProviderKeys, createMemorySecretStore, envVarFor, keyHint, KEYCHAIN_SERVICE, type SecretStore } from './store/secrets.js';
export { defaultDataDir } from './store/paths.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { VERSION } from './version.js';
