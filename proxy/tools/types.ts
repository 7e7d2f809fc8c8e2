// Shared types of the tool-configuration library: the injected context, a connection, the
// adapter contract and its results. Types only; imports nothing at runtime.

/** A run result of an external command (setx, reg, launchctl). */
export interface RunResult { code: number; stdout: string; stderr: string }

export interface ToolSecrets {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/**
 * Everything the adapters know about the machine. Nothing here reads process.env,
 * os.homedir() or process.platform: the caller passes them in, tests pass fakes.
 */
export interface ToolContext {
  platform: 'linux' | 'darwin' | 'win32';
  home: string;
  env: Record<string, string | undefined>;
  /** Sluice's data dir: `tool-config.json` (the apply record) lives here. */
  dataDir: string;
  /** Working directory, for warnings about project-level Claude Code settings. */
  cwd?: string;
  /** Prefix for machine-wide paths such as Claude Code's managed settings (tests point it at a temp dir). */
  systemRoot?: string;
  secrets: ToolSecrets;
  /** Runs setx / reg / launchctl. Without it the OS-level environment is left alone (and a note says so). */
  run?: (cmd: string, args: string[]) => Promise<RunResult>;
  now?: () => Date;
  /**
   * `configure claude-code --statusline`: the command Claude Code's statusLine setting should
   * run. Unset: the statusLine is left alone, unless an earlier apply wrote it (then it is kept).
   */
  statusLineCommand?: string;
}

/** Where a tool should send its traffic: the gateway root (no /v1) and a Sluice tool token. */
export interface Connection { baseUrl: string; token: string }

export type ToolId =
  | 'claude-code'
  | 'claude-code-vscode'
  | 'claude-code-cursor'
  | 'cursor-terminal'
  | 'cline'
  | 'shell'
  | 'continue';

export interface DetectedFile {
  path: string;
  exists: boolean;
  /** What the file is for, e.g. "Claude Code user settings". */
  role: string;
}

export interface DetectResult {
  installed: boolean;
  /** Files apply() would touch. */
  files: DetectedFile[];
  /** Plain facts the user should read (limitations, which files and why). */
  notes: string[];
  /** Things that would stop the configuration from taking effect. */
  warnings: string[];
}

export interface FilePreview {
  path: string;
  exists: boolean;
  /** File text before and after; secrets (the token, existing keys) are masked. */
  before: string;
  after: string;
  /** Unified diff of before -> after (empty when nothing changes). */
  diff: string;
}

export interface EnvVarPreview { mechanism: 'setx' | 'launchctl'; name: string; action: 'set' | 'unchanged' }

export interface PreviewResult {
  tool: ToolId;
  files: FilePreview[];
  envVars: EnvVarPreview[];
  warnings: string[];
  notes: string[];
}

export interface ApplyResult {
  tool: ToolId;
  /** Files whose bytes changed in this call. */
  changed: string[];
  /** Files already holding the wanted values. */
  unchanged: string[];
  envVars: EnvVarPreview[];
  warnings: string[];
  notes: string[];
}

export interface UndoResult {
  tool: ToolId;
  /** False when the tool was not applied: nothing was done. */
  undone: boolean;
  /** Files put back byte for byte from the backup (or deleted because Sluice created them). */
  restored: string[];
  /** Files edited since apply, where only Sluice's keys were put back. */
  merged: string[];
  /** Keys the user changed after apply: their value was kept, not overwritten with the old one. */
  kept: string[];
  notes: string[];
}

export type ToolState = 'not-installed' | 'not-configured' | 'configured-by-sluice' | 'configured-elsewhere' | 'drifted';

export interface StatusResult {
  tool: ToolId;
  state: ToolState;
  /** The base URL found in the tool's config (first file that has one). */
  baseUrl: string | null;
  /** Keys that differ from what Sluice applied (only for 'drifted'). */
  drifted: string[];
}

export interface ToolAdapter {
  id: ToolId;
  label: string;
  detect(ctx: ToolContext): Promise<DetectResult>;
  preview(ctx: ToolContext, conn: Connection): Promise<PreviewResult>;
  apply(ctx: ToolContext, conn: Connection): Promise<ApplyResult>;
  undo(ctx: ToolContext): Promise<UndoResult>;
  status(ctx: ToolContext): Promise<StatusResult>;
}
