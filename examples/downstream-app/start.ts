/**
 * Starting the app on a port chosen by the OS (`port: 0`): the server binds first, then the app is
 * created with the resulting public URL (the callback URL depends on it), then attached.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { DownstreamAppOptions } from './app.ts';

export interface StartedDownstreamApp {
  server: Server;
  /** e.g. http://127.0.0.1:41234 — register `${url}/callback` etc. at Gatehouse. */
  url: string;
  close(): Promise<void>;
}

export async function listenDownstreamApp(
  create: (options: DownstreamAppOptions) => Koa,
  options: Omit<DownstreamAppOptions, 'publicUrl'> & { publicUrl?: string },
  listen: { port?: number; host?: string } = {},
): Promise<StartedDownstreamApp> {
  const host = listen.host ?? '127.0.0.1';
  const server = createServer();
  server.listen(listen.port ?? 0, host);
  await once(server, 'listening');
  const url = options.publicUrl ?? `http://${host}:${(server.address() as AddressInfo).port}`;
  server.on('request', create({ ...options, publicUrl: url }).callback());
  return {
    server,
    url,
    close: () => new Promise((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
