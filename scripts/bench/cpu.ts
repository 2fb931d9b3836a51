// Where the CPU went while the bench measured (Linux /proc): per process of the bench (its own driver,
// Gatehouse with its workers, the bare providers, the argon2 worker), the database servers (every
// `postgres` and `redis-server` process: shared, they may also serve others), and everything else. On
// a shared machine a benchmark is only as good as "everything else" is small; main.ts records it for
// every measurement, and CPU per operation tells where a flow's cost lies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

const DB_SERVERS = new Set(['postgres', 'redis-server']);

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // USER_HZ is 100 on every common Linux
}

/** Seconds of CPU in `ticks` of /proc/<pid>/stat. */
export const ticksToSeconds = (ticks: number) => ticks / ticksPerSecond;

export interface CpuSnapshot {
  /** busy and total ticks of the whole machine (all CPUs) */
  busy: number;
  total: number;
  /** ticks used so far by each named process of the bench, with its running children not named themselves */
  processes: Record<string, number>;
  /** ticks used so far by each database server process, by pid */
  databases: Map<number, number>;
}

function machine(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** utime + stime of a /proc `stat` line, in ticks. */
function statTicks(stat: string): number {
  // the fields after the command name (which may hold spaces) in parentheses: utime is the 14th, stime the 15th
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/** utime + stime of a process (all its threads), in ticks; 0 once it has exited. */
function processTicks(pid: number | string): number {
  try {
    return statTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** The running child processes of `pid` (every thread's), from /proc/<pid>/task/<tid>/children. */
function childPids(pid: string): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/**
 * processTicks of a process and its running descendants (a cluster primary with its workers), except
 * those in `counted`, which are figures of their own (the servers the driver started). A child that
 * starts and exits between two snapshots (wrk) counts as everything else.
 */
function treeTicks(pid: string, counted: ReadonlySet<string>): number {
  return processTicks(pid) + childPids(pid).reduce((sum, child) => sum + (counted.has(child) ? 0 : treeTicks(child, counted)), 0);
}

function databaseServers(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (DB_SERVERS.has(fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) out.set(Number(entry), processTicks(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * utime + stime of each kind of thread of a process, in ticks: `main` (the event loop), and the others
 * by name (`libuv-worker`: the pool — argon2id, WebCrypto, lmdb's commits; `V8Worker`: garbage
 * collection and compilation), digits dropped.
 */
export function threadTicks(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
      out[name] = (out[name] ?? 0) + statTicks(stat);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

export function snapshot(processes: Record<string, number>): CpuSnapshot {
  const counted = new Set(Object.values(processes).map(String));
  return {
    ...machine(),
    processes: Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, treeTicks(String(pid), counted)])),
    databases: databaseServers(),
  };
}

export interface CpuUse {
  wall_seconds: number;
  /** CPU seconds used by each process of the bench */
  processes: Record<string, number>;
  /** CPU seconds used by PostgreSQL / Redis server processes (whoever they served) */
  database_servers: number;
  /** share (0–100 %) of all CPUs used by every other process */
  other_percent: number;
}

/** Accumulates CPU use over the intervals it is asked to watch. */
export class CpuMeter {
  private wallMs = 0;
  private busy = 0;
  private total = 0;
  private databases = 0;
  private readonly processes: Record<string, number> = {};
  private readonly pids: () => Record<string, number>;

  constructor(pids: () => Record<string, number>) {
    this.pids = pids;
  }

  async around<T>(fn: () => Promise<T>): Promise<T> {
    const pids = this.pids();
    const a = snapshot(pids);
    const t0 = performance.now();
    const result = await fn();
    const b = snapshot(pids);
    this.wallMs += performance.now() - t0;
    this.busy += b.busy - a.busy;
    this.total += b.total - a.total;
    for (const [name, ticks] of Object.entries(b.processes)) this.processes[name] = (this.processes[name] ?? 0) + ticks - (a.processes[name] ?? 0);
    // a database process that started meanwhile counts whole; one that exited meanwhile is lost
    for (const [pid, ticks] of b.databases) this.databases += ticks - (a.databases.get(pid) ?? 0);
    return result;
  }

  use(): CpuUse {
    const ours = Object.values(this.processes).reduce((n, t) => n + t, 0);
    const seconds = (ticks: number) => Number((ticks / ticksPerSecond).toFixed(2));
    return {
      wall_seconds: Number((this.wallMs / 1000).toFixed(1)),
      processes: Object.fromEntries(Object.entries(this.processes).map(([name, ticks]) => [name, seconds(ticks)])),
      database_servers: seconds(this.databases),
      other_percent: this.total > 0 ? Number(Math.max(0, (100 * (this.busy - ours - this.databases)) / this.total).toFixed(1)) : 0,
    };
  }
}

export const loadAverage = () => os.loadavg().map((n) => Number(n.toFixed(2)));
