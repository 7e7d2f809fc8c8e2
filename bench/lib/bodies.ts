// Request bodies for the gateway benchmark: Messages requests padded to an exact byte size.
// Pure; imports nothing.

/** A Messages request body of exactly `bytes` bytes, shaped like a client's. */
export function messagesBody(bytes: number, stream: boolean): Buffer {
  const head = `{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"stream":${stream},"metadata":{"user_id":"bench-user"},"messages":[{"role":"user","content":"`;
  const tail = '"}]}';
  const room = bytes - head.length - tail.length;
  if (room < 0) throw new RangeError(`a Messages body needs at least ${head.length + tail.length} bytes, asked for ${bytes}`);
  const words = 'the quick brown fox jumps over the lazy dog ';
  const pad = words.repeat(Math.ceil(room / words.length)).slice(0, room);
  return Buffer.from(head + pad + tail);
}
