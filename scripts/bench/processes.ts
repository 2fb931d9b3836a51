// The processes the bench starts (Gatehouse, the bare providers, the argon2 bound), each a Node 24
// process of its own on 127.0.0.1, preloaded with parent-watch.ts so none outlives the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../src/config.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PARENT_WATCH = path.join(ROOT, 'scripts', 'bench', 'parent-watch.ts');
const KEEP_OUTPUT = 20_000;

export type Env = Record<string, string | undefined>;

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** the last few kilobytes of stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** This process's environment without any Gatehouse setting, plus `overrides` (undefined values dropped). */
export function cleanEnv(overrides: Env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(envSchema.shape)) delete env[key];
  for (const key of Object.keys(env)) if (key.startsWith('BENCH_') || key.startsWith('BARE_')) delete env[key];
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) env[key] = value;
  return env;
}

const running = new Set<Child>();

/**
 * Starts `node [--import parent-watch] [...nodeArgs] <script>` with the given environment, on the CPUs
 * `cpus` when given (`taskset -c`, which execs node: the pid is node's).
 */
export function spawnNode(name: string, script: string, env: Env, nodeArgs: readonly string[] = [], cpus = ''): Child {
  const argv = [process.execPath, '--import', PARENT_WATCH, ...nodeArgs, script];
  const [command, ...args] = cpus ? ['taskset', '-c', cpus, ...argv] : argv;
  const proc = spawn(command as string, args, {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-KEEP_OUTPUT);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const child: Child = {
    name,
    pid: proc.pid,
    process: proc,
    output: () => output,
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** Stops every process still running (the bench's cleanup, also after a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** Runs a script to completion and returns its stdout; throws with its output when it fails. */
export async function runNode(name: string, script: string, env: Env): Promise<string> {
  const child = spawnNode(name, script, env);
  let stdout = '';
  child.process.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${name} failed (${code ?? signal}):\n${child.output()}`);
  return stdout;
}

export { freePort } from '../../test/helpers/ports.ts';

/** Waits until `url` answers 200, or fails with the child's output when it exits or takes too long. */
export async function waitUntilReady(child: Child, url: string, timeoutMs = 90_000): Promise<void> {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void child.exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`${child.name} exited (${exit.code ?? exit.signal}) before it was ready:\n${child.output()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs / 1000} s:\n${child.output()}`);
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}
