// Public surface of Sluice's tool configuration (one-click setup with exact undo). The CLI and
// the admin API import from here only; this folder never imports express, app/ or renderer/.
export { listToolAdapters, getToolAdapter, reapplyAll } from './registry.js';
export { ToolConfigError, type ToolConfigErrorCode } from './tool-config-error.js';
export { recordPath } from './record.js';
export { unifiedDiff } from './diff.js';
export { CURSOR_BYOK_NOTE } from './adapters/editor.js';
export type {
  ToolContext, ToolSecrets, Connection, ToolId, ToolAdapter, ToolState, RunResult,
  DetectResult, DetectedFile, PreviewResult, FilePreview, EnvVarPreview, ApplyResult, UndoResult, StatusResult,
} from './types.js';
