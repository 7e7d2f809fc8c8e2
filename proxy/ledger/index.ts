// Public surface of the usage ledger: open it, turn gateway reports into rows, import Claude Code
// transcripts. Must not import the pipeline, express, app/ or renderer/.
export { isStorageFailure, openLedger, type FlushInfo, type Ledger, type LedgerOptions, type LedgerStorageState } from './ledger.js';
export { LedgerVersionError, SCHEMA_VERSION } from './schema.js';
export {
  costPicoOf,
  endpointOf,
  rowFromReport,
  splitUsage,
  type CallerInfo,
  type GatewayRequestContext,
  type TokenSplit,
} from './costing.js';
export { importClaudeCodeTranscripts, type ImportOptions, type ImportResult, type ImportTarget } from './import-claude-code.js';
export { localDay, localDayStart, systemTzOffset, type TzOffset } from './dates.js';
export * from './types.js';
