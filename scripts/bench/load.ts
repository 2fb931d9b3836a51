// The closed-loop load of the sign-in figures: a driver of full sign-in flows (each flow its own
// cookie jar, so its own session) and the argon2id bound worker. Each measures one slice: an optional
// warm-up whose figures are discarded, then a window of fixed length in which only what COMPLETES
// counts. main.ts interleaves slices of the things it compares so a change in the machine's
// background load hits all of them alike.
import type http from 'node:http';
import { percentile, round } from './stats.ts';
import { createAgent, signIn, type Credentials, type SignInResult, type Target } from './browser.ts';
import { spawnNode, type Child, type Env } from './processes.ts';

/** One slice's raw figures: latencies kept so that percentiles are computed over all slices. */
export interface Slice {
  /** completions inside the window */
  count: number;
  /** completions in all, warm-up included */
  total: number;
  seconds: number;
  latencies: number[];
}

export interface FlowSlice extends Slice {
  requests: number;
  failures: number;
  failureSamples: string[];
  exhausted: boolean;
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

  /** `cpus`: the CPUs of the servers it is compared with (see pinning.ts). */
  constructor(script: string, env: Env, concurrency: number, cpus = '') {
    this.concurrency = concurrency;
    this.child = spawnNode('argon2-bound', script, { ...env, BENCH_CONCURRENCY: String(concurrency) }, [], cpus);
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
