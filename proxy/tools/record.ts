// The apply record `<dataDir>/tool-config.json`: per tool and file what Sluice changed and what
// was there before. Validated with zod on read, written atomically. Imports ../store/atomic-file.js.
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, readFileIfExists } from '../store/atomic-file.js';
import { ToolConfigError } from './tool-config-error.js';
import type { JsonValue } from './json-edit.js';
import type { KeyLoc, FileFormat } from './codec.js';

const jsonValue = z.custom<JsonValue>(() => true);

/** A prior value: absent (the key did not exist; not the same as null), a plain value, or a keychain reference. */
const priorSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('absent') }),
  z.object({ state: z.literal('value'), value: jsonValue }),
  z.object({ state: z.literal('secret'), account: z.string() }),
]);
export type Prior = z.infer<typeof priorSchema>;

/** What Sluice wrote: the value, or only a sha256 of it when it is a token or key. */
const appliedSchema = z.union([
  z.object({ value: jsonValue }),
  z.object({ sha256: z.string() }),
]);
export type Applied = z.infer<typeof appliedSchema>;

const locSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('json'), path: z.array(z.string()) }),
  z.object({ kind: z.literal('json-entry'), list: z.array(z.string()), name: z.string() }),
  z.object({ kind: z.literal('block') }),
]) satisfies z.ZodType<KeyLoc>;

const keySchema = z.object({
  id: z.string(),
  loc: locSchema,
  secret: z.boolean(),
  /** Written only alongside another change (a timestamp): not checked for drift. */
  touch: z.boolean().optional(),
  prior: priorSchema,
  applied: appliedSchema,
  memo: jsonValue.optional(),
});
export type KeyRecord = z.infer<typeof keySchema>;

const fileSchema = z.object({
  path: z.string(),
  format: z.enum(['json', 'block']) satisfies z.ZodType<FileFormat>,
  defaultIndent: z.string(),
  existed: z.boolean(),
  sha256Before: z.string().nullable(),
  /** null once the file was changed by someone else between two applies: undo then merges. */
  sha256After: z.string().nullable(),
  backupPath: z.string().nullable(),
  /** Directories apply created for a new file, deepest first. */
  createdDirs: z.array(z.string()),
  keys: z.array(keySchema),
});
export type FileRecord = z.infer<typeof fileSchema>;

const envVarSchema = z.object({
  mechanism: z.enum(['setx', 'launchctl']),
  name: z.string(),
  secret: z.boolean(),
  prior: priorSchema,
  applied: appliedSchema,
});
export type EnvVarRecord = z.infer<typeof envVarSchema>;

const toolSchema = z.object({
  appliedAt: z.string(),
  updatedAt: z.string(),
  baseUrl: z.string(),
  files: z.array(fileSchema),
  envVars: z.array(envVarSchema),
});
export type ToolRecord = z.infer<typeof toolSchema>;

const recordSchema = z.object({
  version: z.literal(1),
  tools: z.record(z.string(), toolSchema),
});
export type ToolConfigRecord = z.infer<typeof recordSchema>;

export function recordPath(dataDir: string): string {
  return join(dataDir, 'tool-config.json');
}

export async function loadRecord(dataDir: string): Promise<ToolConfigRecord> {
  const path = recordPath(dataDir);
  const text = await readFileIfExists(path);
  if (text === null) return { version: 1, tools: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ToolConfigError('TOOL_CONFIG_RECORD_INVALID', `${path} is not valid JSON; Sluice cannot tell what it changed. Restore it from ${path}.bak if present.`, { path, cause: err });
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ToolConfigError('TOOL_CONFIG_RECORD_INVALID', `${path} does not match the expected shape (${problems}).`, { path });
  }
  return parsed.data;
}

export async function saveRecord(dataDir: string, record: ToolConfigRecord): Promise<void> {
  await writeFileAtomic(recordPath(dataDir), JSON.stringify(record, null, 2) + '\n', { backup: true, mode: 0o600 });
}
