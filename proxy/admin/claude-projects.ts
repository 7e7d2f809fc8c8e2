// Names Claude Code sessions by their project: Claude Code keeps each session's transcript at
// <config dir>/projects/<project-dir>/<session-id>.jsonl, and its lines carry the `cwd` the
// session ran in and a timestamp. Looked up lazily, only for sessions a page shows, and cached
// (hits for good, misses for a while, since a transcript may appear later). Reads the head of a
// file only; never the prompts themselves into memory beyond that head. Imports node:fs only.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface TranscriptInfo {
  /** The working directory the session ran in. */
  project: string | null;
  /** When the transcript's first line was written (the first prompt), ms since the epoch. */
  firstPromptAt: number | null;
}

export interface TranscriptLookup {
  lookup(sessionId: string): Promise<TranscriptInfo | null>;
}

/** Claude Code's config dir: CLAUDE_CONFIG_DIR, else ~/.claude. */
export function claudeConfigDir(env: Record<string, string | undefined>, home: string): string {
  return env.CLAUDE_CONFIG_DIR || join(home, '.claude');
}

// Session ids are file names here: nothing that could leave the projects folder.
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const HEAD_BYTES = 256 * 1024;

async function readHead(path: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

export function parseTranscriptHead(text: string): TranscriptInfo {
  let project: string | null = null;
  let firstPromptAt: number | null = null;
  for (const line of text.split('\n')) {
    if (project !== null && firstPromptAt !== null) break;
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue; // a torn last line of the head, or a malformed one
    }
    if (typeof o !== 'object' || o === null) continue;
    const r = o as { cwd?: unknown; timestamp?: unknown; type?: unknown };
    if (project === null && typeof r.cwd === 'string' && r.cwd !== '') project = r.cwd;
    if (firstPromptAt === null && r.type === 'user' && typeof r.timestamp === 'string') {
      const t = Date.parse(r.timestamp);
      if (Number.isFinite(t)) firstPromptAt = t;
    }
  }
  return { project, firstPromptAt };
}

export function createTranscriptLookup(o: { configDir: string; now?: () => number; missTtlMs?: number; maxEntries?: number }): TranscriptLookup {
  const projects = join(o.configDir, 'projects');
  const now = o.now ?? Date.now;
  const missTtl = o.missTtlMs ?? 30_000;
  const max = o.maxEntries ?? 5000;
  const hits = new Map<string, TranscriptInfo>();
  const misses = new Map<string, number>();
  let dirs: { at: number; names: string[] } | null = null;

  const projectDirs = async (): Promise<string[]> => {
    if (dirs && now() - dirs.at < missTtl) return dirs.names;
    let names: string[] = [];
    try {
      names = (await readdir(projects, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      names = [];
    }
    dirs = { at: now(), names };
    return names;
  };

  return {
    async lookup(sessionId) {
      if (!SAFE_ID.test(sessionId)) return null;
      const hit = hits.get(sessionId);
      if (hit) return hit;
      const missAt = misses.get(sessionId);
      if (missAt !== undefined && now() - missAt < missTtl) return null;
      for (const d of await projectDirs()) {
        const text = await readHead(join(projects, d, `${sessionId}.jsonl`));
        if (text === null) continue;
        const info = parseTranscriptHead(text);
        if (hits.size >= max) hits.delete(hits.keys().next().value!);
        hits.set(sessionId, info);
        misses.delete(sessionId);
        return info;
      }
      if (misses.size >= max) misses.delete(misses.keys().next().value!);
      misses.set(sessionId, now());
      return null;
    },
  };
}
