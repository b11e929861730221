import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type ConsoleSettings, consoleApp } from './app';
import { newToken } from './guard';

export interface StartConsole extends Omit<ConsoleSettings, 'token' | 'hosts'> {
  /** @default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningConsole {
  /** The one URL to open: it holds the token. */
  url: string;
  /** The same without the token (what a shared deep link starts with). */
  origin: string;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Starts the console's web server; resolves once it listens. */
export function startConsole(s: StartConsole): Promise<RunningConsole> {
  const host = s.host ?? '127.0.0.1';
  const token = newToken();
  // Filled once the port is known; the guard reads this same array.
  const hosts: string[] = [];
  const app = consoleApp({ ...s, token, hosts });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: s.port, hostname: host }, (info: AddressInfo) => {
      const port = info.port;
      const named = host.includes(':') ? `[${host}]` : host;
      // A loopback console answers to its other loopback names; any other to exactly the one given.
      hosts.push(
        ...(LOOPBACK.has(host)
          ? [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
          : [`${named}:${port}`]),
      );
      const origin = `http://${named}:${port}`;
      resolve({
        url: `${origin}/?token=${token}`,
        origin,
        token,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once('error', reject);
  });
}
