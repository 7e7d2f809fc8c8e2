// The baseline the gateway is judged against: a bare node:http server relaying to an undici
// Pool, streaming both ways (request body piped up, response chunks written as they arrive),
// hop-by-hop headers dropped, nothing else. Takes the undici module as an argument so the
// same relay can run on another undici release (bench --relay-undici DIR).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Undici from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export interface Relay {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startRelay(upstream: string, undici: Pick<typeof Undici, 'Pool'>, port = 0): Promise<Relay> {
  const pool = new undici.Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.rawHeaders;
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool.dispatch({ path: req.url!, method: req.method as Undici.Dispatcher.HttpMethod, headers, body: hasBody ? req : null }, {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out: Record<string, string | string[]> = {};
        for (const k in h) if (!HOP.has(k)) out[k] = h[k]!;
        res.writeHead(status, out);
        if (String(h['content-type']).startsWith('text/event-stream')) res.flushHeaders();
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) { c.pause(); res.once('drain', () => c.resume()); }
      },
      onResponseEnd() { res.end(); },
      onResponseError(_c, err) {
        if (!res.headersSent) { res.writeHead(502); res.end(String(err.message)); } else res.destroy(err);
      },
    });
  };
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, onRequest);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pool.close();
    },
  };
}
