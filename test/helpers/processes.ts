// Real Gatehouse processes for tests: `node src/main.ts` (the server) and `node src/cli/main.ts` (the
// CLI) as child processes with an environment of their own, plus a scratch PostgreSQL database per
// test file (the processes have no schema option, so isolation is a whole database).
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { envSchema } from '../../src/config.ts';
import { root } from '../../src/app.ts';
import { freePort } from './gatehouse.ts';
import { copyTemplateDataDir, testDatabaseUrl } from './db.ts';
import { TEST_SETTINGS } from './settings.ts';

/** Node 24 from the project (the system node may be older). */
export const NODE = path.join(root, 'node_modules', '.bin', 'node');
export const SERVER_ENTRY = path.join(root, 'src', 'main.ts');
export const CLI_ENTRY = path.join(root, 'src', 'cli', 'main.ts');

export type ProcessEnv = Record<string, string | undefined>;

/**
 * The test process's environment without any Gatehouse setting (so nothing leaks in from the
 * developer's shell or the test run's DATABASE_URL), plus the test settings and `overrides`; undefined
 * values are dropped.
 */
export function childEnv(overrides: ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(envSchema.shape)) delete env[key];
  // one worker unless a test is about workers: the suite already runs its files in parallel
  const merged: ProcessEnv = { ...TEST_SETTINGS, NODE_ENV: 'test', LOG_LEVEL: 'warn', WORKERS: '1', ...overrides };
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) env[k] = v;
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse <args>` to completion. */
export function runCliProcess(args: string[], env: ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI_ENTRY, ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a CLI command with `--json` and parses its output; throws with the output when it fails. */
export async function cliJson<T = Record<string, unknown>>(args: string[], env: ProcessEnv): Promise<T> {
  const result = await runCliProcess([...args, '--json'], env);
  if (result.code !== 0) throw new Error(`gatehouse ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatehouseProcess {
  /** http://127.0.0.1:<port>, where the process listens (its ISSUER may differ). */
  url: string;
  port: number;
  child: ChildProcess;
  /** everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** SIGTERM (then SIGKILL after 10 s); resolves with the exit. */
  stop(): Promise<Exit>;
}

/** Spawns `node src/main.ts` without waiting for it to be ready. */
export function spawnGatehouse(env: ProcessEnv, port: number): GatehouseProcess {
  const child = spawn(NODE, [SERVER_ENTRY], {
    cwd: root,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

/** Starts `node src/main.ts` (on `port`, default a free one) and waits until /healthz answers. */
export async function startGatehouseProcess(env: ProcessEnv, options: { port?: number; timeoutMs?: number } = {}): Promise<GatehouseProcess> {
  // an embedded first start creates its database: tens of seconds on a busy machine
  const timeoutMs = options.timeoutMs ?? 120_000;
  const proc = spawnGatehouse(env, options.port ?? (await freePort()));
  let exit: Exit | undefined;
  void proc.exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`Gatehouse exited (${exit.code ?? exit.signal}) before it was ready:\n${proc.stdout()}\n${proc.stderr()}`);
    try {
      const res = await fetch(`${proc.url}/healthz`);
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`Gatehouse did not become healthy within ${timeoutMs} ms:\n${proc.stdout()}\n${proc.stderr()}`);
}

/** A temporary DATA_DIR, removed by `remove()`; with `migrated`, its embedded database is already created and migrated. */
export async function tempDataDir(options: { migrated?: boolean } = {}): Promise<{ dir: string; remove(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-proc-'));
  if (options.migrated) await copyTemplateDataDir(path.join(dir, 'pg'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database next to DATABASE_URL's (CREATE DATABASE), for processes under test. */
export async function createScratchPostgresDatabase(baseUrl = testDatabaseUrl()): Promise<ScratchDatabase> {
  if (!baseUrl) throw new Error('DATABASE_URL is not set');
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    name,
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** JSON log lines among a process's output (the startup banner and other text are skipped). */
export function jsonLogLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
