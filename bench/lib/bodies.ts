// Request bodies for the gateway bench. Small ones are a single user turn. From 64 KB up they
// are shaped like Claude Code's: system blocks, 25 tool definitions (~45 KB), then a tool loop
// (assistant tool_use, user tool_result) growing to the asked size, so the gateway's per-body
// work (the top-level scan over many strings, the insights' prefix hashes and last-turn reads)
// costs what it costs on the traffic users send, not on one long string.

const WORDS = 'the quick brown fox jumps over the lazy dog; const x = await fetch(url); ';
const text = (n: number) => WORDS.repeat(Math.ceil(n / WORDS.length)).slice(0, n);

/** Bodies of at least this many bytes are Claude Code-shaped. */
export const SHAPED_FROM = 64 * 1024;

export function messagesBody(bytes: number, stream: boolean): Buffer {
  if (bytes >= SHAPED_FROM) return claudeCodeBody(bytes, stream);
  const head = `{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"stream":${stream},"metadata":{"user_id":"bench-user"},"messages":[{"role":"user","content":"`;
  const tail = '"}]}';
  const room = bytes - head.length - tail.length;
  if (room < 0) throw new RangeError(`a Messages body needs at least ${head.length + tail.length} bytes, asked for ${bytes}`);
  return Buffer.from(head + text(room) + tail);
}

function claudeCodeBody(bytes: number, stream: boolean): Buffer {
  const tools = Array.from({ length: 25 }, (_, i) => ({
    name: `Tool${i}`, description: text(1500),
    input_schema: { type: 'object', properties: { path: { type: 'string', description: text(200) }, limit: { type: 'number' } }, required: ['path'] },
  }));
  const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: text(2000) }, { type: 'text', text: 'Fix the failing test.' }] }];
  const body = (msgs: unknown[]) => JSON.stringify({
    model: 'claude-sonnet-4-5-20250929', max_tokens: 32000, stream, messages: msgs,
    system: [{ type: 'text', text: 'You are Claude Code.' }, { type: 'text', text: text(12_000), cache_control: { type: 'ephemeral' } }],
    tools, metadata: { user_id: '{"device_id":"bench","account_uuid":"","session_id":"bench-session"}' },
  });
  const turn = (t: number, n: number) => [
    { role: 'assistant', content: [{ type: 'text', text: 'Reading.' }, { type: 'tool_use', id: `toolu_${t}`, name: `Tool${t % 25}`, input: { path: `src/f${t}.ts` } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${t}`, content: text(n) }] },
  ];
  // Whole turns while they fit, then one last turn whose result fills the exact size.
  for (let t = 0; Buffer.byteLength(body([...messages, ...turn(t, 6000)])) <= bytes; t++) messages.push(...turn(t, 6000));
  const t = messages.length;
  const without = Buffer.byteLength(body([...messages, ...turn(t, 0)]));
  if (without > bytes) throw new RangeError(`a Claude Code-shaped body needs at least ${without} bytes, asked for ${bytes}`);
  return Buffer.from(body([...messages, ...turn(t, bytes - without)]));
}
