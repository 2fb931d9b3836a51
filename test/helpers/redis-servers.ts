// Redis servers a test starts for itself: a 3-master Redis Cluster (unless REDIS_CLUSTER_URL names one),
// and a lone server with append-only persistence that a test may restart. Each lives in a temporary
// directory on free loopback ports and is shut down by `stop()`.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function startServer(port: number, dir: string, extra: string[]): ChildProcess {
  fs.mkdirSync(dir, { recursive: true });
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra], { stdio: 'ignore' });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10000 <= 65535 && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

export interface RedisClusterUnderTest {
  /** one node's URL (the seed of REDIS_URL with REDIS_CLUSTER=true). */
  url: string;
  stop(): Promise<void>;
}

/** REDIS_CLUSTER_URL when set, otherwise a fresh local cluster of three masters without replicas. */
export async function startRedisCluster(): Promise<RedisClusterUnderTest> {
  if (process.env.REDIS_CLUSTER_URL) return { url: process.env.REDIS_CLUSTER_URL, stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-redis-cluster-'));
  const taken = new Set<number>();
  const ports = [await clusterPort(taken), await clusterPort(taken), await clusterPort(taken)];
  const children = ports.map((port) =>
    startServer(port, path.join(dir, String(port)), ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--appendonly', 'no']),
  );
  const stop = async () => {
    await Promise.all(children.map(stopServer));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port) => waitForPing(port)));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    // every node must agree that all 16384 slots are served before a client connects
    for (const port of ports) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (/cluster_state:ok/.test(stdout)) break;
        if (Date.now() > deadline) throw new Error(`the cluster node on port ${port} did not report cluster_state:ok`);
        await sleep(100);
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, stop };
}

export interface RestartableRedis {
  url: string;
  /** stops the server (SIGTERM) and starts it again on the same port and files. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** One server with `appendonly yes` and `appendfsync always`: every acknowledged write survives a restart. */
export async function startDurableRedis(): Promise<RestartableRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-redis-aof-'));
  const port = await freePort();
  const launch = () => startServer(port, dir, ['--appendonly', 'yes', '--appendfsync', 'always']);
  let child = launch();
  await waitForPing(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart(downMs) {
      await stopServer(child);
      await sleep(downMs);
      child = launch();
      await waitForPing(port);
    },
    async stop() {
      await stopServer(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
