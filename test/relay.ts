// A TCP relay that records the raw bytes a client sends, so a test can compare what a real
// client (Claude Code) put on the wire with what the gateway forwarded upstream.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  url: string;
  /** Raw client->server bytes, one buffer per connection. */
  connections(): Buffer[];
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const recorded: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const chunks: Buffer[] = [];
    recorded.push(chunks);
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => { chunks.push(d); upstream.write(d); });
    upstream.on('data', (d) => client.write(d));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => { sockets.delete(client); upstream.destroy(); });
    upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => recorded.map((c) => Buffer.concat(c)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface ParsedRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
}

/** Splits a recorded HTTP/1.1 byte stream into requests (content-length or chunked bodies). */
export function parseHttpRequests(raw: Buffer): ParsedRequest[] {
  const out: ParsedRequest[] = [];
  let i = 0;
  while (i < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', i);
    if (headEnd < 0) break;
    const lines = raw.toString('latin1', i, headEnd).split('\r\n');
    const [method, target] = lines[0]!.split(' ');
    const headers = lines.slice(1).map((l) => {
      const c = l.indexOf(':');
      return [l.slice(0, c).trim(), l.slice(c + 1).trim()] as [string, string];
    });
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    let p = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    if (get('transfer-encoding')?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', p);
        const size = parseInt(raw.toString('latin1', p, lineEnd), 16);
        p = lineEnd + 2;
        if (size === 0) { p = raw.indexOf('\r\n', p) + 2; break; }
        parts.push(raw.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const len = Number(get('content-length') ?? 0);
      body = raw.subarray(p, p + len);
      p += len;
    }
    out.push({ method: method!, target: target!, headers, body });
    i = p;
  }
  return out;
}
