// ToolConfigError: why Sluice refused to touch (or could not take back) a tool's config file.
// Part of the gateway's one taxonomy (extends GatewayError); imports only ../errors.js.
import { GatewayError } from '../errors.js';

export type ToolConfigErrorCode =
  | 'TOOL_CONFIG_UNPARSEABLE'
  | 'TOOL_CONFIG_UNEXPECTED_SHAPE'
  | 'TOOL_CONFIG_ENCODING'
  | 'TOOL_CONFIG_NOT_INSTALLED'
  | 'TOOL_CONFIG_UNKNOWN_TOOL'
  | 'TOOL_CONFIG_BAD_CONNECTION'
  | 'TOOL_CONFIG_RECORD_INVALID'
  | 'TOOL_CONFIG_COMMAND_FAILED';

// 409: the user's file is in a state we will not edit; 404: no such tool; 400: bad input.
const STATUS: Record<ToolConfigErrorCode, number> = {
  TOOL_CONFIG_UNPARSEABLE: 409,
  TOOL_CONFIG_UNEXPECTED_SHAPE: 409,
  TOOL_CONFIG_ENCODING: 409,
  TOOL_CONFIG_NOT_INSTALLED: 409,
  TOOL_CONFIG_UNKNOWN_TOOL: 404,
  TOOL_CONFIG_BAD_CONNECTION: 400,
  TOOL_CONFIG_RECORD_INVALID: 409,
  TOOL_CONFIG_COMMAND_FAILED: 500,
};

export class ToolConfigError extends GatewayError {
  declare readonly code: ToolConfigErrorCode;
  /** The file concerned, when there is one. */
  readonly path: string | undefined;

  constructor(code: ToolConfigErrorCode, message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(code, STATUS[code], 'gateway_tool_config_error', message, { cause: opts.cause });
    this.path = opts.path;
  }
}
