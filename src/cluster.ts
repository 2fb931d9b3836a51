// Every core in production: with PostgreSQL + Redis every piece of shared state (sessions, tokens,
// rate limits, lockouts, keys) lives outside the process, so WORKERS processes can serve one port
// (node:cluster; the primary hands connections round-robin to the workers and serves nothing itself).
// The embedded default stays one process: PGlite has one owner.
// - A worker that dies is replaced (after a delay that grows while they keep dying).
// - SIGHUP restarts the workers one by one: a replacement is listening before the old one stops, and
//   the old one finishes its requests (its own SIGTERM handling), so no request is refused. A
//   replacement that dies before it listens ends the restart: the old workers keep serving.
// - A stopping worker leaves only after the primary has answered its last message (leaveCluster):
//   the primary hands each connection to a worker over IPC and holds it until the worker replies, so
//   a worker that exited with a connection still in that pipe would leave its client waiting forever.
// - SIGTERM / SIGINT stop every worker the same graceful way, then the primary.
// - /metrics on any worker reports the sum over all workers (cluster-metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Config } from './config.ts';
import type { Logger } from './http/logger.ts';
import { serveClusterMetrics } from './cluster-metrics.ts';

/** How many processes serve requests: WORKERS (0 → one per CPU) with PostgreSQL + Redis, otherwise one. */
export function clusterSize(config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'workers'>): number {
  if (!config.databaseUrl || !config.redisUrl) return 1;
  return config.workers > 0 ? config.workers : os.availableParallelism();
}

/** Set in the first worker of a cluster (or absent outside one): it prints the start banner. */
export const isFirstWorker = (): boolean => !cluster.isWorker || process.env.GATEHOUSE_WORKER_INDEX === '0';

const STOP_GRACE_MS = 30_000;

const LEAVING = 'gatehouse:cluster:leaving'; // worker → primary, and the primary's answer
const isLeaving = (m: unknown): boolean => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === LEAVING;

/**
 * In a worker whose servers are closed: resolves once the primary has answered a message sent after
 * the close. IPC keeps order both ways, so by then the primary has taken this worker out of its
 * round robin and every connection it handed over before that has been answered here (a closed
 * server declines it, and the primary gives it to another worker). Outside a cluster, at once.
 */
export function leaveCluster(): Promise<void> {
  const worker = cluster.worker;
  if (!worker?.isConnected()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('disconnect', done);
      resolve();
    };
    const onMessage = (m: unknown) => {
      if (isLeaving(m)) done();
    };
    worker.on('message', onMessage);
    worker.once('disconnect', done);
    worker.send({ type: LEAVING });
  });
}

/** Runs the primary: forks `size` workers and supervises them until SIGTERM / SIGINT. */
export function runPrimary(size: number, logger: Logger): void {
  let stopping = false;
  let restarting = false;
  let failures = 0;
  const slots = new Map<Worker, number>();
  // Exits that start no new worker: a worker a restart replaced, and a restart's replacement that dies
  // before it listens (the restart is given up and the worker it was to replace keeps its slot).
  const exitExpected = new WeakSet<Worker>();

  const fork = (index: number, options: { replacing?: boolean } = {}): Worker => {
    const worker = cluster.fork({ GATEHOUSE_WORKER_INDEX: String(index) });
    slots.set(worker, index);
    if (options.replacing) exitExpected.add(worker);
    worker.on('message', (m: unknown) => {
      if (isLeaving(m) && worker.isConnected()) worker.send({ type: LEAVING });
    });
    worker.once('listening', () => {
      failures = 0;
      exitExpected.delete(worker);
    });
    worker.once('exit', (code, signal) => {
      slots.delete(worker);
      if (stopping || worker.exitedAfterDisconnect || exitExpected.has(worker)) return;
      failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
      logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; starting a new one');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delay).unref();
    });
    return worker;
  };

  const stopWorker = (worker: Worker): Promise<void> =>
    new Promise((resolve) => {
      if (worker.isDead()) return resolve();
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.process.kill('SIGTERM');
    });

  const restartAll = async () => {
    if (restarting || stopping) return;
    restarting = true;
    logger.info({ workers: slots.size }, 'restarting workers one by one');
    try {
      for (const [old, index] of [...slots]) {
        if (stopping) break;
        const replacement = fork(index, { replacing: true });
        await new Promise<void>((resolve, reject) => {
          replacement.once('listening', () => resolve());
          replacement.once('exit', () => reject(new Error('the replacement worker exited before it listened')));
        });
        exitExpected.add(old);
        await stopWorker(old);
      }
      logger.info('workers restarted');
    } catch (err) {
      logger.error({ err }, 'restarting the workers stopped; the remaining old workers keep serving');
    } finally {
      restarting = false;
    }
  };

  const stopAll = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    void Promise.all([...slots.keys()].map(stopWorker)).then(() => process.exit(0));
  };

  serveClusterMetrics();
  for (let i = 0; i < size; i++) fork(i);
  logger.info({ workers: size }, 'Gatehouse primary started its workers');
  process.on('SIGHUP', () => void restartAll());
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.on('SIGINT', () => stopAll('SIGINT'));
}
