// The bench's results: the JSON written to bench/results/ and the table printed at the end.
import type { Argon2Figures, FlowFigures, RequestFigures } from './load.ts';
import { round } from './stats.ts';

export type { Argon2Figures };

export interface EndpointFigures {
  gatehouse: RequestFigures;
  /** bare oidc-provider on the same kind of storage as Gatehouse in this run: the ratio's denominator. */
  bare_same_storage: RequestFigures;
  /** bare oidc-provider on its in-process memory adapter: a ceiling, not a target. */
  bare_memory: RequestFigures;
}

export interface SessionFigures {
  target_sessions: number;
  /** sessions created by real sign-ins in this run. */
  real_sessions: number;
  /** sessions added by cloning real stored Session payloads through Gatehouse's adapter. */
  cloned_sessions: number;
  total_sessions: number;
  note: string;
  storage_method: string;
  storage_bytes_per_session: number;
  storage_detail: Record<string, number>;
  /** the same measurement over the real sessions only, before cloning. */
  storage_bytes_per_real_session: number;
  /** growth of the whole oidc store (indexes, page fill, TOAST / allocator overhead) per cloned session. */
  store_growth_bytes_per_cloned_session: number;
  clone_seconds: number;
  rss_mb: {
    gatehouse_at_start: number;
    gatehouse_before_fill: number;
    gatehouse_after_10k_sessions: number;
    bare_same_storage_at_end: number;
    bare_memory_at_end: number;
  };
}

export interface Target {
  target: string;
  value: number;
  pass: boolean;
  /** false when the figure itself is not trustworthy (failed requests or flows). */
  valid: boolean;
}

export interface Results {
  generated_at: string;
  environment: Record<string, unknown>;
  client_credentials: EndpointFigures;
  introspection: EndpointFigures;
  argon2id: Argon2Figures;
  password_login: FlowFigures;
  mfa_login: FlowFigures;
  sessions: SessionFigures;
  ratios: {
    client_credentials_vs_bare: number;
    introspection_vs_bare: number;
    password_login_vs_argon2: number;
    mfa_login_vs_argon2: number;
  };
  /** the same ratios against the bare provider on its memory adapter (a ceiling, for information). */
  ratios_vs_bare_memory: { client_credentials: number; introspection: number };
  storage_bytes_per_session: number;
  rss_mb_after_10k_sessions: number;
  targets: Record<string, Target>;
  pass: boolean;
}

export const requestsValid = (f: RequestFigures) => f.non_2xx === 0 && f.errors === 0 && f.mismatches === 0 && f.requests > 0;
export const flowsValid = (f: FlowFigures) => f.failures === 0 && f.flows > 0 && !f.accounts_exhausted;

export function targets(r: Omit<Results, 'targets' | 'pass'>): Record<string, Target> {
  const cc = r.client_credentials;
  const intro = r.introspection;
  const at = (target: string, value: number, pass: boolean, valid: boolean): Target => ({ target, value: round(value, 3), pass: pass && valid, valid });
  return {
    client_credentials_vs_bare: at('>= 0.9', r.ratios.client_credentials_vs_bare, r.ratios.client_credentials_vs_bare >= 0.9, requestsValid(cc.gatehouse) && requestsValid(cc.bare_same_storage)),
    introspection_vs_bare: at('>= 0.9', r.ratios.introspection_vs_bare, r.ratios.introspection_vs_bare >= 0.9, requestsValid(intro.gatehouse) && requestsValid(intro.bare_same_storage)),
    password_login_vs_argon2: at('>= 0.8', r.ratios.password_login_vs_argon2, r.ratios.password_login_vs_argon2 >= 0.8, flowsValid(r.password_login)),
    mfa_login_vs_argon2: at('>= 0.75', r.ratios.mfa_login_vs_argon2, r.ratios.mfa_login_vs_argon2 >= 0.75, flowsValid(r.mfa_login)),
    storage_bytes_per_session: at('<= 2048', r.storage_bytes_per_session, r.storage_bytes_per_session <= 2048, r.sessions.total_sessions >= r.sessions.target_sessions),
  };
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const ms = (f: { p50_ms: number; p99_ms: number }) => `${fmt(f.p50_ms, 1)} / ${fmt(f.p99_ms, 1)}`;
/** "Gatehouse 0.31 ms" for the processes that matter to one figure. */
function cpuLine(figures: { cpu?: { ms_per_operation: Record<string, number> } }, names: string[]): string {
  const per = figures.cpu?.ms_per_operation;
  if (!per) return 'n/a';
  return names
    .filter((n) => per[n] !== undefined)
    .map((n) => `${n.replace(/_/g, ' ')} ${fmt(per[n] ?? Number.NaN, 2)}`)
    .join(', ');
}

const verdict = (t: Target) => (t.valid ? (t.pass ? 'PASS' : 'FAIL') : 'INVALID');

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

const requestProblems = (name: string, f: RequestFigures) =>
  requestsValid(f) ? [] : [`${name}: ${f.non_2xx} non-2xx, ${f.errors} errors/timeouts, ${f.mismatches} unexpected bodies of ${f.requests} requests`];
const flowProblems = (name: string, f: FlowFigures) => [
  ...(f.failures ? [`${name}: ${f.failures} failed flows, e.g. ${f.failure_samples.join(' | ')}`] : []),
  ...(f.accounts_exhausted ? [`${name}: the pool of fresh accounts ran out before the window closed`] : []),
];

export function render(r: Results): string {
  const env = r.environment;
  const storage = String(env.storage_backend);
  const bareSame = `bare (${String(env.oidc_storage_label)})`;
  const cc = r.client_credentials;
  const intro = r.introspection;
  const t = r.targets;
  const s = r.sessions;
  const lines: string[] = [];
  lines.push(
    '',
    `Gatehouse bench — ${storage} — Node ${String(env.node)} — ${String(env.cpus)} CPUs (${String(env.cpu_model)})`,
    `concurrency ${String(env.concurrency)}; ${String(env.seconds)} s per figure in ${String(env.slices)} interleaved slice(s), after ${String(env.warmup_seconds)} s of warm-up; argon2id m=${r.argon2id.params.m},t=${r.argon2id.params.t},p=${r.argon2id.params.p}`,
    '',
    table([
      ['requests/s (p50 / p99 ms)', 'Gatehouse', bareSame, 'bare (memory)', 'ratio', 'target', ''],
      [
        'client credentials (JWT at+jwt)',
        `${fmt(cc.gatehouse.per_second)} (${ms(cc.gatehouse)})`,
        `${fmt(cc.bare_same_storage.per_second)} (${ms(cc.bare_same_storage)})`,
        `${fmt(cc.bare_memory.per_second)} (${ms(cc.bare_memory)})`,
        fmt(r.ratios.client_credentials_vs_bare, 2),
        t.client_credentials_vs_bare?.target ?? '',
        t.client_credentials_vs_bare ? verdict(t.client_credentials_vs_bare) : '',
      ],
      [
        'introspection (opaque token)',
        `${fmt(intro.gatehouse.per_second)} (${ms(intro.gatehouse)})`,
        `${fmt(intro.bare_same_storage.per_second)} (${ms(intro.bare_same_storage)})`,
        `${fmt(intro.bare_memory.per_second)} (${ms(intro.bare_memory)})`,
        fmt(r.ratios.introspection_vs_bare, 2),
        t.introspection_vs_bare?.target ?? '',
        t.introspection_vs_bare ? verdict(t.introspection_vs_bare) : '',
      ],
    ]),
    `ratio = Gatehouse / bare oidc-provider on the SAME storage (${String(env.oidc_storage_label)}); the memory-adapter bare figure is a ceiling only`,
    `(Gatehouse vs memory: client credentials ${fmt(r.ratios_vs_bare_memory.client_credentials, 2)}, introspection ${fmt(r.ratios_vs_bare_memory.introspection, 2)})`,
    `CPU ms per client-credentials request: ${cpuLine(cc.gatehouse, ['gatehouse'])} | ${cpuLine(cc.bare_same_storage, ['bare_same_storage'])} | ${cpuLine(cc.bare_memory, ['bare_memory'])}`,
    `CPU ms per introspection request: ${cpuLine(intro.gatehouse, ['gatehouse', 'database_servers'])} | ${cpuLine(intro.bare_same_storage, ['bare_same_storage', 'database_servers'])} | ${cpuLine(intro.bare_memory, ['bare_memory'])}`,
    '',
    table([
      ['sign-in flows/s (p50 / p99 ms per flow)', 'Gatehouse', 'argon2id bound', 'ratio', 'target', ''],
      [
        'password (authorize → login → code → token)',
        `${fmt(r.password_login.per_second, 1)} (${ms(r.password_login)})`,
        `${fmt(r.argon2id.per_second, 1)}/s`,
        fmt(r.ratios.password_login_vs_argon2, 2),
        t.password_login_vs_argon2?.target ?? '',
        t.password_login_vs_argon2 ? verdict(t.password_login_vs_argon2) : '',
      ],
      [
        'password + TOTP (fresh account per flow)',
        `${fmt(r.mfa_login.per_second, 1)} (${ms(r.mfa_login)})`,
        `${fmt(r.argon2id.per_second, 1)}/s`,
        fmt(r.ratios.mfa_login_vs_argon2, 2),
        t.mfa_login_vs_argon2?.target ?? '',
        t.mfa_login_vs_argon2 ? verdict(t.mfa_login_vs_argon2) : '',
      ],
    ]),
    `argon2id bound: ${fmt(r.argon2id.per_second, 1)} verifications/s in a separate process, ${r.argon2id.concurrency} in parallel (p50 ${fmt(r.argon2id.p50_ms, 1)} ms); ` +
      `${fmt(r.password_login.requests_per_flow, 1)} / ${fmt(r.mfa_login.requests_per_flow, 1)} HTTP requests per password / TOTP flow`,
    `CPU ms per argon2 verification: ${cpuLine(r.argon2id, ['argon2_worker'])}`,
    `CPU ms per password flow: ${cpuLine(r.password_login, ['gatehouse', 'database_servers', 'bench_driver'])}`,
    `CPU ms per password + TOTP flow: ${cpuLine(r.mfa_login, ['gatehouse', 'database_servers', 'bench_driver'])}`,
    '',
    table([
      ['sessions', 'value', 'target', ''],
      [
        `storage per session (${s.total_sessions.toLocaleString('en-US')} sessions)`,
        `${fmt(r.storage_bytes_per_session)} B`,
        t.storage_bytes_per_session?.target ?? '',
        t.storage_bytes_per_session ? verdict(t.storage_bytes_per_session) : '',
      ],
      ['whole oidc store growth per cloned session', `${fmt(s.store_growth_bytes_per_cloned_session)} B`, '', ''],
      [`Gatehouse RSS after ${s.total_sessions.toLocaleString('en-US')} sessions`, `${fmt(r.rss_mb_after_10k_sessions, 1)} MiB`, '', ''],
      ['Gatehouse RSS at start / before the fill', `${fmt(s.rss_mb.gatehouse_at_start, 1)} / ${fmt(s.rss_mb.gatehouse_before_fill, 1)} MiB`, '', ''],
      ['bare RSS at end (same storage / memory)', `${fmt(s.rss_mb.bare_same_storage_at_end, 1)} / ${fmt(s.rss_mb.bare_memory_at_end, 1)} MiB`, '', ''],
    ]),
    `${s.note}`,
    `storage per session = ${s.storage_method}`,
  );
  const problems = [
    ...requestProblems('client credentials, Gatehouse', cc.gatehouse),
    ...requestProblems('client credentials, bare (same storage)', cc.bare_same_storage),
    ...requestProblems('client credentials, bare (memory)', cc.bare_memory),
    ...requestProblems('introspection, Gatehouse', intro.gatehouse),
    ...requestProblems('introspection, bare (same storage)', intro.bare_same_storage),
    ...requestProblems('introspection, bare (memory)', intro.bare_memory),
    ...flowProblems('password sign-in', r.password_login),
    ...flowProblems('password + TOTP sign-in', r.mfa_login),
  ];
  const background = env.background as { other_cpu_percent: Record<string, number>; load_average_at_start: number[] } | undefined;
  if (background) {
    const busy = Object.entries(background.other_cpu_percent);
    lines.push('', `other processes used ${busy.map(([k, v]) => `${v}% (${k.replace(/_/g, ' ')})`).join(', ')} of the machine's CPUs meanwhile; load average at start ${background.load_average_at_start.join(' ')}`);
    if (busy.some(([, v]) => v > 10)) lines.push('WARNING: the machine was busy with other work; absolute figures are low and noisy (interleaving keeps the ratios comparable). Rerun on a quiet machine.');
  }
  if (problems.length) lines.push('', 'PROBLEMS (figures marked INVALID):', ...problems.map((p) => `  - ${p}`));
  lines.push('', `targets: ${r.pass ? 'all met' : 'NOT all met'}`);
  return lines.join('\n');
}
