// Starts one Gatehouse instance: runtime → app → HTTP server, periodic sweeping, clean shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import type { Logger } from './http/logger.ts';
import { openRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';
import { createApp, type AppOptions, type Gatehouse } from './app.ts';
import { bootstrapOf } from './setup/routes.ts';
import { sweepExpired } from './oidc/adapters/sweeper.ts';
import { createLmdbAdapter, moveSqlArtifacts } from './oidc/adapters/lmdb-adapter.ts';

export interface RunningGatehouse {
  url: string;
  runtime: Runtime;
  gatehouse: Gatehouse;
  server: http.Server;
  /** the METRICS_PORT listener, when configured. */
  metricsServer: http.Server | undefined;
  /** the first-start link, when no platform operator exists yet. */
  setupLink: { link: string; expiresAt: Date } | undefined;
  close(): Promise<void>;
}

export async function startGatehouse(
  config: Config,
  logger: Logger,
  options: AppOptions & Omit<RuntimeOptions, 'role'> & { sweepSeconds?: number; issueSetupLink?: boolean } = {},
): Promise<RunningGatehouse> {
  const runtime = await openRuntime(config, logger, { role: 'server', ...options });
  let gatehouse: Gatehouse | undefined;
  try {
    const bootstrap = bootstrapOf(runtime);
    await bootstrap.platform();
    if (runtime.lmdb) {
      const moved = await moveSqlArtifacts(runtime.database.db, createLmdbAdapter(runtime.lmdb));
      if (moved > 0) logger.info({ moved }, 'moved sessions, grants and tokens from the database to the embedded LMDB store');
    }
    gatehouse = await createApp(runtime, options);
    // in a cluster only the first worker issues (and prints) the first-start link
    const setupLink = options.issueSetupLink === false ? undefined : await bootstrap.issueSetupLink(config.issuer);
    const server = http.createServer(gatehouse.handle);
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    // delivers queued mail (this instance and others share the queue; a claim is never shared)
    runtime.mail.sender.start();
    // /metrics on a listener of its own (METRICS_PORT), usually bound to an internal interface.
    let metricsServer: http.Server | undefined;
    if (gatehouse.metricsHandle) {
      const ms = http.createServer(gatehouse.metricsHandle);
      metricsServer = ms;
      await new Promise<void>((resolve, reject) => {
        ms.once('error', reject);
        ms.listen(config.metrics.port, config.metrics.host, () => resolve());
      }).catch((e: unknown) => {
        server.close();
        throw e;
      });
    }
    const sweeper = setInterval(() => {
      sweepExpired(runtime.database.db, new Date()).catch((err: unknown) => logger.warn({ err }, 'sweeping expired rows failed'));
      runtime.lmdb?.sweep(Date.now()).catch((err: unknown) => logger.warn({ err }, 'sweeping expired LMDB entries failed'));
    }, (options.sweepSeconds ?? 300) * 1000);
    sweeper.unref();
    const { port } = server.address() as AddressInfo;
    const g = gatehouse;
    return {
      url: `http://127.0.0.1:${port}`,
      runtime,
      gatehouse: g,
      server,
      setupLink,
      metricsServer,
      async close() {
        clearInterval(sweeper);
        g.stop();
        // Stop accepting, drop idle keep-alive connections, let requests in progress finish (a worker
        // restarted by SIGHUP refuses nothing), and cut what is still open after the grace period.
        const closing = Promise.all([server, metricsServer].map((s) => s && new Promise<void>((resolve) => s.close(() => resolve()))));
        server.closeIdleConnections();
        metricsServer?.closeIdleConnections();
        const grace = setTimeout(() => {
          server.closeAllConnections();
          metricsServer?.closeAllConnections();
        }, 10_000);
        await closing;
        clearTimeout(grace);
        await runtime.close();
      },
    };
  } catch (e) {
    gatehouse?.stop();
    await runtime.close();
    throw e;
  }
}
