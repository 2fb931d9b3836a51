// Where the bench's processes run (Linux `taskset`). With two or more CPUs the load generators (wrk and
// the bench's own sign-in driver, i.e. this process) get CPU 0 and the servers measured against each
// other get the remaining CPUs, so the load generator never takes CPU time from the server it
// measures, and Gatehouse and the bare provider get exactly the same CPUs. PostgreSQL and Redis are
// servers the bench does not start: they run wherever the kernel puts them. BENCH_PIN=0 turns it off;
// the workers figure (whole machine ÷ one worker) never pins the servers, since it measures using
// every CPU.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface Placement {
  /** CPU list for wrk and the bench driver ('' = anywhere). */
  loadGenerator: string;
  /** CPU list for the servers ('' = anywhere). */
  servers: string;
}

function tasksetWorks(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function placement(): Placement {
  const cpus = os.availableParallelism();
  if (process.env.BENCH_PIN === '0' || cpus < 2 || !tasksetWorks()) return { loadGenerator: '', servers: '' };
  return { loadGenerator: '0', servers: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

export const UNPINNED: Placement = { loadGenerator: '', servers: '' };

/** The `taskset -c <cpus>` prefix of a command, or nothing. */
export const pinArgs = (cpus: string): string[] => (cpus ? ['taskset', '-c', cpus] : []);

/** Moves every thread of a running process onto `cpus` (the bench pins itself: it drives the sign-ins). */
export function pinProcess(pid: number, cpus: string): void {
  if (cpus) execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * Moves every thread of a running process except its main thread (libuv's pool, V8's workers) onto
 * `cpus`, for a CPU profile of the main thread's own work: on one shared CPU the main thread is switched
 * out whenever it wakes a pool thread (argon2id, a signature, an LMDB commit), and the profiler, which
 * samples by the clock, charges that wait to the function that woke it. Threads started later stay
 * where their process is.
 */
export function pinThreadsApart(pid: number, cpus: string): void {
  if (!cpus) return;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) if (Number(tid) !== pid) execFileSync('taskset', ['-pc', cpus, tid], { stdio: 'ignore' });
}

/** BENCH_PROFILE_THREADS_APART=1: the profiles (profile.ts, sign-in-profile.ts) pin each server's threads apart after its warm-up. */
export const THREADS_APART = process.env.BENCH_PROFILE_THREADS_APART === '1';

/** What a profile summary says of the threads' placement ('' when they shared the server's CPUs). */
export const describeThreadsApart = (p: Placement): string =>
  THREADS_APART && p.loadGenerator ? `; each server's pool and V8 threads on CPU ${p.loadGenerator}, apart from its main thread` : '';

export function describePlacement(p: Placement): string {
  return p.loadGenerator || p.servers
    ? `wrk and the sign-in driver on CPU ${p.loadGenerator}, the servers (Gatehouse, bare provider, argon2id bound) on CPU ${p.servers}; PostgreSQL and Redis unpinned`
    : 'no pinning';
}
