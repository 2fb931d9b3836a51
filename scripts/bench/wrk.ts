// wrk (Debian package `wrk`) as the load generator of the single-request figures: one thread, a fixed
// number of connections, a Lua script (wrk/post.lua) that sends the form POST, checks every response
// and prints a JSON summary. wrk is C and event-driven: at these rates it uses a small share of its
// core, so it does not compress the ratios the way a Node load generator sharing the machine would.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './processes.ts';
import { pinArgs, type Placement } from './pinning.ts';

const SCRIPT = path.join(ROOT, 'scripts', 'bench', 'wrk', 'post.lua');

export interface WrkRequest {
  url: string;
  /** the Authorization header value. */
  authorization: string;
  /** urlencoded form body. */
  body: string;
  /** every response body must equal this … */
  expectBody?: string;
  /** … or contain this. */
  contains?: string;
}

export interface WrkRun {
  requests: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** socket errors and timeouts. */
  errors: number;
  /** responses that were not 200 or had an unexpected body. */
  bad_responses: number;
  sample?: string;
}

interface RawResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  mismatches: number;
  p50_us: number;
  p99_us: number;
  sample: string;
}

export function wrkAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('wrk', ['-v'], (error, stdout, stderr) => resolve(`${stdout}${stderr}`.includes('wrk') || !error)));
}

/** One wrk run of `seconds` with `connections` connections on one thread, placed per `placement`. */
export function runWrk(request: WrkRequest, seconds: number, connections: number, placement: Placement): Promise<WrkRun> {
  const [command, ...args] = [...pinArgs(placement.loadGenerator), 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', SCRIPT, request.url];
  return new Promise((resolve, reject) => {
    execFile(
      command as string,
      args,
      {
        env: {
          PATH: process.env.PATH,
          WRK_BODY: request.body,
          WRK_AUTHORIZATION: request.authorization,
          WRK_EXPECT: request.expectBody ?? '',
          WRK_CONTAINS: request.contains ?? '',
        },
        maxBuffer: 1 << 20,
      },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
        if (error || !line) return reject(new Error(`wrk failed: ${error?.message ?? 'no result'}\n${stdout}\n${stderr}`));
        const raw = JSON.parse(line.slice('WRK_RESULT '.length)) as RawResult;
        const secondsRun = raw.duration_us / 1e6;
        resolve({
          requests: raw.requests,
          seconds: secondsRun,
          per_second: raw.requests / secondsRun,
          p50_ms: raw.p50_us / 1000,
          p99_ms: raw.p99_us / 1000,
          errors: raw.connect + raw.read + raw.write + raw.timeout,
          bad_responses: raw.mismatches,
          ...(raw.sample ? { sample: raw.sample } : {}),
        });
      },
    );
  });
}
