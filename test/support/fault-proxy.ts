import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';

export interface FaultPlan {
  /** Answer the request with this error instead of forwarding it (status, body, content type). */
  respond?: (
    req: IncomingMessage,
    body: Buffer,
  ) => { status: number; body: string; type: string } | undefined;
  /** Reset the connection mid-request. */
  reset?: (req: IncomingMessage) => boolean;
}

export interface FaultProxy {
  url: string;
  stats: { forwarded: number; injected: number; resets: number };
  close(): Promise<void>;
}

/**
 * A proxy on 127.0.0.1 in front of a real server that injects faults the way a bad day does:
 * error answers (503 SlowDown, throttling) and connections reset mid-request. Requests it lets
 * through are forwarded unchanged by http-proxy.
 */
export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const proxy = httpProxy.createProxyServer({ target });
  const stats = { forwarded: 0, injected: 0, resets: 0 };
  proxy.on('error', (_err, _req, res) => {
    const r = res as ServerResponse;
    if (!r.headersSent && typeof r.writeHead === 'function') r.writeHead(502).end();
  });
  const server: Server = createServer((req, res) => {
    if (plan.reset?.(req)) {
      stats.resets++;
      req.socket.destroy();
      return;
    }
    if (!plan.respond) {
      stats.forwarded++;
      proxy.web(req, res);
      return;
    }
    // The body is needed to decide (e.g. which DynamoDB operation); it is replayed to the target.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const fault = plan.respond?.(req, body);
      if (fault) {
        stats.injected++;
        res.writeHead(fault.status, {
          'content-type': fault.type,
          'content-length': Buffer.byteLength(fault.body),
        });
        res.end(fault.body);
        return;
      }
      stats.forwarded++;
      proxy.web(req, res, { buffer: Readable.from([body]) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
