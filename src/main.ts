// Process entry: configuration → stores → app → listen; graceful shutdown on SIGINT/SIGTERM. With
// PostgreSQL + Redis and more than one worker, this process is the cluster primary (cluster.ts) and
// every worker runs the rest.
import cluster from 'node:cluster';
import { clusterSize, isFirstWorker, leaveCluster, runPrimary } from './cluster.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './http/logger.ts';
import { isGatehouseError } from './domain/errors.ts';
import { startGatehouse } from './server.ts';

let config;
try {
  config = loadConfig();
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(2);
}
const logger = createLogger(config);

const workers = clusterSize(config);
if (cluster.isPrimary && workers > 1) {
  runPrimary(workers, logger);
} else {
  try {
    const running = await startGatehouse(config, logger, { issueSetupLink: isFirstWorker(), clusterMetrics: cluster.isWorker });
    const storage = `${config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`} + ${config.redisUrl ? 'Redis' : config.databaseUrl ? 'SQL tables for tokens and counters' : 'LMDB for tokens and counters'}`;
    logger.info({ issuer: config.issuer, port: config.port, storage, ...(cluster.isWorker ? { worker: process.env.GATEHOUSE_WORKER_INDEX } : {}) }, 'Gatehouse started');
    const lines = [
      '',
      `  Gatehouse is running: ${config.issuer}`,
      `  Discovery: ${config.issuer}/.well-known/openid-configuration`,
      `  Storage:   ${storage}`,
    ];
    if (running.setupLink) {
      lines.push(
        '',
        '  First start: create the platform operator at this one-time link',
        `  (valid until ${running.setupLink.expiresAt.toISOString()}):`,
        `    ${running.setupLink.link}`,
      );
    }
    lines.push('', '  Register an application: npm run gatehouse -- client create --name "My app" --redirect-uri http://localhost:8080/callback', '');
    if (isFirstWorker()) process.stdout.write(`${lines.join('\n')}\n`);

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      running
        .close()
        .then(leaveCluster)
        .then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (e) {
    if (e instanceof ConfigError || isGatehouseError(e)) {
      process.stderr.write(`Gatehouse cannot start: ${e.message}\n`);
      process.exit(1);
    }
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || (e as NodeJS.ErrnoException).code === 'EACCES') {
      process.stderr.write(`Gatehouse cannot start: port ${config.port} on ${config.host} is not available (${(e as NodeJS.ErrnoException).code}). Stop the other program or set PORT.\n`);
      process.exit(1);
    }
    throw e;
  }
}
