// The load generators: autocannon for single-request endpoints (token, introspection), a closed-loop
// driver of full sign-in flows (each flow its own cookie jar, so its own session), and the argon2id
// bound worker. Each measures one slice: an optional warm-up whose figures are discarded, then a
// window of fixed length in which only what COMPLETES counts (steady state, no ramp at either edge).
// Slices of one measurement are merged with merge*(); main.ts interleaves slices of the things it
// compares so a change in the machine's background load hits all of them alike.
import autocannon from 'autocannon';
import type http from 'node:http';
import { percentile, round } from './stats.ts';
import { createAgent, signIn, type Credentials, type SignInResult, type Target } from './browser.ts';
import { spawnNode, type Child, type Env } from './processes.ts';
import type { CpuUse } from './cpu.ts';

/** CPU used while a figure was measured (warm-ups included), and per operation completed meanwhile. */
export interface CpuFigures extends CpuUse {
  operations: number;
  ms_per_operation: Record<string, number>;
}

export function cpuFigures(use: CpuUse, slices: Slice[]): CpuFigures {
  const operations = slices.reduce((n, s) => n + s.total, 0);
  const perOp = (seconds: number) => (operations ? Number(((seconds * 1000) / operations).toFixed(2)) : Number.NaN);
  return {
    ...use,
    operations,
    ms_per_operation: { ...Object.fromEntries(Object.entries(use.processes).map(([name, s]) => [name, perOp(s)])), database_servers: perOp(use.database_servers) },
  };
}

export interface RequestFigures {
  requests: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
  mismatches: number;
  slices: number;
  cpu?: CpuFigures;
}

/** One slice's raw figures: latencies kept so that percentiles are computed over all slices. */
export interface Slice {
  /** completions inside the window */
  count: number;
  /** completions in all, warm-up included (for CPU per operation) */
  total: number;
  seconds: number;
  latencies: number[];
}

export interface RequestSlice extends Slice {
  non2xx: number;
  errors: number;
  mismatches: number;
}

export interface CannonOptions {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  /** every response body must equal this (autocannon counts mismatches). */
  expectBody?: string;
}

function cannonRun(options: CannonOptions, seconds: number): Promise<RequestSlice> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url: options.url,
        method: options.method,
        headers: options.headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.expectBody !== undefined ? { expectBody: options.expectBody } : {}),
        connections: options.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 30,
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        resolve({
          count: result.requests.total,
          total: result.requests.total,
          seconds: result.duration,
          // exact response times (autocannon's own histogram keeps whole milliseconds)
          latencies,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          mismatches: result.mismatches,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}

/** Optional warm-up (discarded), then one measured autocannon run of `seconds`. */
export async function cannonSlice(options: CannonOptions, warmupSeconds: number, seconds: number): Promise<RequestSlice> {
  const warm = warmupSeconds > 0 ? (await cannonRun(options, warmupSeconds)).count : 0;
  const slice = await cannonRun(options, seconds);
  return { ...slice, total: slice.count + warm };
}

export function mergeRequests(slices: RequestSlice[]): RequestFigures {
  const requests = slices.reduce((n, s) => n + s.count, 0);
  const seconds = slices.reduce((n, s) => n + s.seconds, 0);
  const latencies = slices.flatMap((s) => s.latencies);
  return {
    requests,
    seconds,
    per_second: requests / seconds,
    p50_ms: round(percentile(latencies, 50), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    non_2xx: slices.reduce((n, s) => n + s.non2xx, 0),
    errors: slices.reduce((n, s) => n + s.errors, 0),
    mismatches: slices.reduce((n, s) => n + s.mismatches, 0),
    slices: slices.length,
  };
}

export interface FlowSlice extends Slice {
  requests: number;
  failures: number;
  failureSamples: string[];
  exhausted: boolean;
}

export interface FlowFigures {
  flows: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** HTTP requests per flow, token exchange included. */
  requests_per_flow: number;
  failures: number;
  failure_samples: string[];
  /** the flows stopped early because the pool of fresh accounts ran out. */
  accounts_exhausted: boolean;
  slices: number;
  cpu?: CpuFigures;
}

export interface FlowOptions {
  target: Target;
  concurrency: number;
  /** the credentials of the next flow, or undefined when there are none left. */
  nextCredentials: () => Credentials | undefined;
  /** checks each flow's result (e.g. the ID token's amr); a message makes the flow a failure. */
  check: (result: SignInResult) => string | undefined;
}

/**
 * `concurrency` workers run sign-in flows back to back from the start of the warm-up until the window
 * closes; a flow counts when it completes inside the window.
 */
export async function flowSlice(options: FlowOptions, warmupSeconds: number, seconds: number): Promise<FlowSlice> {
  const agent: http.Agent = createAgent(options.concurrency);
  const windowStart = performance.now() + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  const slice: FlowSlice = { count: 0, total: 0, seconds, latencies: [], requests: 0, failures: 0, failureSamples: [], exhausted: false };
  const inWindow = (t: number) => t >= windowStart && t <= windowEnd;

  const worker = async () => {
    while (performance.now() < windowEnd) {
      const credentials = options.nextCredentials();
      if (!credentials) {
        slice.exhausted = true;
        return;
      }
      const start = performance.now();
      try {
        const result = await signIn(agent, options.target, credentials);
        const problem = options.check(result);
        if (problem) throw new Error(problem);
        const end = performance.now();
        slice.total++;
        if (inWindow(end)) {
          slice.count++;
          slice.requests += result.requests;
          slice.latencies.push(end - start);
        }
      } catch (e) {
        if (inWindow(performance.now())) {
          slice.failures++;
          if (slice.failureSamples.length < 5) slice.failureSamples.push(e instanceof Error ? e.message : String(e));
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return slice;
}

export function mergeFlows(slices: FlowSlice[]): FlowFigures {
  const flows = slices.reduce((n, s) => n + s.count, 0);
  const seconds = slices.reduce((n, s) => n + s.seconds, 0);
  const latencies = slices.flatMap((s) => s.latencies);
  return {
    flows,
    seconds,
    per_second: flows / seconds,
    p50_ms: round(percentile(latencies, 50), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    requests_per_flow: flows ? slices.reduce((n, s) => n + s.requests, 0) / flows : 0,
    failures: slices.reduce((n, s) => n + s.failures, 0),
    failure_samples: slices.flatMap((s) => s.failureSamples).slice(0, 5),
    accounts_exhausted: slices.some((s) => s.exhausted),
    slices: slices.length,
  };
}

export interface Argon2Figures {
  verifications: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  params: { m: number; t: number; p: number };
  concurrency: number;
  threadpool: string;
  slices: number;
  cpu?: CpuFigures;
}

interface Argon2Reply {
  slice?: Slice;
  info?: { params: { m: number; t: number; p: number }; threadpool: string };
  error?: string;
}

/** The argon2id bound process (argon2-bound.ts), kept running and asked for one slice at a time. */
export class Argon2Worker {
  readonly child: Child;
  private readonly concurrency: number;

  constructor(script: string, env: Env, concurrency: number) {
    this.concurrency = concurrency;
    this.child = spawnNode('argon2-bound', script, { ...env, BENCH_CONCURRENCY: String(concurrency) });
    this.child.process.on('error', () => undefined); // a failed send is reported by ask()
  }

  private ask(message: Record<string, unknown>): Promise<Argon2Reply> {
    return new Promise((resolve, reject) => {
      const proc = this.child.process;
      const onExit = () => reject(new Error(`the argon2 worker exited:\n${this.child.output()}`));
      proc.once('exit', onExit);
      proc.once('message', (reply: Argon2Reply) => {
        proc.off('exit', onExit);
        if (reply.error) reject(new Error(`argon2 worker: ${reply.error}`));
        else resolve(reply);
      });
      proc.send(message, (error) => {
        if (error) {
          proc.off('exit', onExit);
          reject(new Error(`the argon2 worker is gone (${error.message}):\n${this.child.output()}`));
        }
      });
    });
  }

  async info(): Promise<NonNullable<Argon2Reply['info']>> {
    const reply = await this.ask({ kind: 'info' });
    if (!reply.info) throw new Error('argon2 worker: no info');
    return reply.info;
  }

  async slice(warmupSeconds: number, seconds: number): Promise<Slice> {
    const reply = await this.ask({ kind: 'run', warmupMs: warmupSeconds * 1000, measureMs: seconds * 1000 });
    if (!reply.slice) throw new Error('argon2 worker: no figures');
    return reply.slice;
  }

  async merge(slices: Slice[]): Promise<Argon2Figures> {
    const info = await this.info();
    const verifications = slices.reduce((n, s) => n + s.count, 0);
    const seconds = slices.reduce((n, s) => n + s.seconds, 0);
    const latencies = slices.flatMap((s) => s.latencies);
    return {
      verifications,
      seconds,
      per_second: verifications / seconds,
      p50_ms: round(percentile(latencies, 50), 3),
      p99_ms: round(percentile(latencies, 99), 3),
      params: info.params,
      concurrency: this.concurrency,
      threadpool: info.threadpool,
      slices: slices.length,
    };
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
