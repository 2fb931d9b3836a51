// The bench's results: the JSON written to bench/results/latest.json and the table printed at the end.
import type { CpuUse } from './cpu.ts';
import type { Argon2Figures } from './load.ts';
import { round } from './stats.ts';
import type { WrkRun } from './wrk.ts';

/** One server on one endpoint: its interleaved rounds and their median. */
export interface EndpointRun {
  /** requests/s of each measured round, in order. */
  rounds: number[];
  median_per_second: number;
  /** median over the rounds of each round's p50 / p99 latency. */
  p50_ms: number;
  p99_ms: number;
  requests: number;
  /** socket errors, timeouts, non-200 answers or unexpected bodies, warm-up included. */
  failures: number;
  failure_sample?: string;
  /** CPU milliseconds of the server process per request over the measured rounds (robust to background load). */
  cpu_ms_per_request?: number;
  cpu?: CpuUse;
}

export interface FlowRun {
  rounds: number[];
  median_per_second: number;
  p50_ms: number;
  p99_ms: number;
  flows: number;
  requests_per_flow: number;
  failures: number;
  failure_samples: string[];
  accounts_exhausted: boolean;
  cpu?: CpuUse;
}

export interface Target {
  figure: string;
  target: string;
  value: number | null;
  met: boolean;
  /** false when a figure could not be trusted (failed requests or flows) or was not measured. */
  valid: boolean;
  note?: string;
}

export interface Results {
  generated_at: string;
  environment: Record<string, unknown>;
  client_credentials: Record<string, EndpointRun>;
  introspection: Record<string, EndpointRun>;
  argon2id: Argon2Figures & { rounds: number[]; median_per_second: number };
  sign_in: Record<string, FlowRun>;
  sessions: Record<string, Record<string, unknown>>;
  workers: Record<string, unknown> | null;
  ratios: Record<string, number | null>;
  targets: Record<string, Target>;
  all_met: boolean;
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Merges a server's warm-up and measured wrk runs into its endpoint figures. */
export function endpointRun(warmup: WrkRun, runs: WrkRun[], cpu: CpuUse | undefined, server: string): EndpointRun {
  const all = [warmup, ...runs];
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const serverCpu = cpu?.processes[server];
  const failures = all.reduce((n, r) => n + r.errors + r.bad_responses, 0);
  const sample = all.find((r) => r.sample)?.sample;
  return {
    rounds: runs.map((r) => round(r.per_second, 1)),
    median_per_second: round(median(runs.map((r) => r.per_second)), 1),
    p50_ms: round(median(runs.map((r) => r.p50_ms)), 3),
    p99_ms: round(median(runs.map((r) => r.p99_ms)), 3),
    requests,
    failures,
    ...(sample ? { failure_sample: sample } : {}),
    ...(serverCpu !== undefined && requests > 0 ? { cpu_ms_per_request: round((serverCpu * 1000) / requests, 3) } : {}),
    ...(cpu ? { cpu } : {}),
  };
}

export const endpointValid = (r: EndpointRun | undefined): boolean => r !== undefined && r.failures === 0 && r.requests > 0;
export const flowValid = (r: FlowRun | undefined): boolean => r !== undefined && r.failures === 0 && r.flows > 0 && !r.accounts_exhausted;

export function target(figure: string, goal: string, value: number | null | undefined, valid: boolean, note?: string): Target {
  const v = value === undefined || value === null || !Number.isFinite(value) ? null : round(value, 3);
  const [op, bound] = goal.split(' ') as ['>=' | '<=', string];
  const limit = Number(bound);
  const ok = v !== null && (op === '>=' ? v >= limit : v <= limit);
  return { figure, target: goal, value: v, met: ok && valid && v !== null, valid: valid && v !== null, ...(note ? { note } : {}) };
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const num = (v: number | null | undefined, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export function render(r: Results): string {
  const out: string[] = [''];
  const servers = Object.keys(r.client_credentials);
  out.push('Requests per second (median of the interleaved rounds; p50 / p99 ms):');
  out.push(`  ${pad('', 30)}${servers.map((s) => lpad(s, 26)).join('')}`);
  for (const [label, figures] of [
    ['client credentials', r.client_credentials],
    ['introspection', r.introspection],
  ] as const) {
    const cells = servers.map((s) => {
      const f = figures[s];
      if (!f) return lpad('—', 26);
      return lpad(`${num(f.median_per_second)} (${num(f.p50_ms, 1)}/${num(f.p99_ms, 1)})${f.failures ? ' !' : ''}`, 26);
    });
    out.push(`  ${pad(label, 30)}${cells.join('')}`);
    out.push(`  ${pad('  CPU ms per request', 30)}${servers.map((s) => lpad(num(figures[s]?.cpu_ms_per_request, 2), 26)).join('')}`);
  }
  out.push('');
  out.push(`Sign-in flows per second (median of rounds) vs argon2id verifications ${num(r.argon2id.median_per_second, 1)}/s:`);
  for (const [name, f] of Object.entries(r.sign_in)) {
    out.push(`  ${pad(name, 30)}${lpad(num(f.median_per_second, 1), 10)}/s  p50 ${num(f.p50_ms)} ms  ${f.failures ? `${f.failures} FAILED (${f.failure_samples[0] ?? ''})` : ''}${f.accounts_exhausted ? ' accounts ran out' : ''}`);
  }
  out.push('');
  out.push('Targets:');
  out.push(`  ${pad('figure', 70)}${lpad('value', 10)}  ${pad('target', 8)}  result`);
  for (const t of Object.values(r.targets)) {
    const result = !t.valid ? 'NOT MET (invalid or not measured)' : t.met ? 'met' : 'NOT MET';
    out.push(`  ${pad(t.figure, 70)}${lpad(num(t.value, 3), 10)}  ${pad(t.target, 8)}  ${result}${t.note ? ` — ${t.note}` : ''}`);
  }
  const failures = [
    ...Object.entries(r.client_credentials).filter(([, f]) => f.failures).map(([s, f]) => `client credentials on ${s}: ${f.failures} failures (${f.failure_sample ?? ''})`),
    ...Object.entries(r.introspection).filter(([, f]) => f.failures).map(([s, f]) => `introspection on ${s}: ${f.failures} failures (${f.failure_sample ?? ''})`),
  ];
  if (failures.length) out.push('', 'Failures (figures marked invalid):', ...failures.map((f) => `  ${f}`));
  const background = r.environment.max_other_cpu_percent;
  if (typeof background === 'number' && background > 10) {
    out.push('', `WARNING: other processes used up to ${background}% of all CPUs during a measurement: absolute figures are low and noisy; rerun on a quiet machine before quoting them.`);
  }
  out.push('', `${Object.values(r.targets).filter((t) => t.met).length} of ${Object.keys(r.targets).length} targets met.`);
  return out.join('\n');
}
