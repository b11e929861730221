/**
 * `node -r tsx/cjs bench/latency-proxy.ts <target-url> <delay-ms>`: forwards every request to
 * the target after a fixed delay, the round trip a host pays to reach S3 or DynamoDB over a
 * network (localhost pays almost none). Runs as its own process, so proxying costs the
 * benchmark's event loop nothing. Prints `port=<port>` once listening.
 */
import { Agent, createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';

const [target, delayArg] = process.argv.slice(2);
const delayMs = Number(delayArg);
if (!target || !(delayMs >= 0)) {
  console.error('usage: latency-proxy.ts <target-url> <delay-ms>');
  process.exit(2);
}
const proxy = httpProxy.createProxyServer({
  target,
  agent: new Agent({ keepAlive: true, maxSockets: 256 }),
});
proxy.on('error', (_err, _req, res) => {
  const r = res as ServerResponse;
  if (!r.headersSent && typeof r.writeHead === 'function') r.writeHead(502).end();
});
const server = createServer((req, res) => {
  // Paused until forwarded, so the body waits for the delay too.
  req.pause();
  setTimeout(() => proxy.web(req, res), delayMs);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`port=${(server.address() as AddressInfo).port}`);
});
