// `npm run bench` (bench/README.md): in one run on this machine, Gatehouse in both storage modes next
// to a bare oidc-provider 9 on its memory adapter (the reference of every token and introspection
// figure), the sign-in flows next to the argon2id bound, memory and storage per session, and the
// production mode's whole-machine figures next to one worker's. wrk drives the single-request
// endpoints, the bench's own driver the sign-ins. Prints a table of targets met / not met and writes
// every figure to bench/results/latest.json. Everything it starts is stopped at the end, also on
// failure or Ctrl-C; it only talks to 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecretKey } from '../../src/domain/secrets.ts';
import { basicAuthorization, createAgent, decodeJwtPayload, request, signIn, type Credentials, type Target } from './browser.ts';
import { Argon2Worker, flowSlice, type FlowOptions, type FlowSlice, type Slice } from './load.ts';
import { ROOT, freePort, rssMiB, spawnNode, stopAll, waitUntilReady, type Child, type Env } from './processes.ts';
import { LIMITS_ENV, argon2Env, bareBenchEnv, fillSessions, gatehouseBenchEnv, openSessionStore, prepareStorage, seedGatehouse, type Seeded, type StorageSetup } from './storage.ts';
import { CpuMeter, loadAverage, type CpuUse } from './cpu.ts';
import { describePlacement, pinProcess, placement, UNPINNED, type Placement } from './pinning.ts';
import { endpointRun, endpointValid, flowValid, median, render, target, type EndpointRun, type FlowRun, type Results, type Target as TargetFigure } from './report.ts';
import { percentile, round } from './stats.ts';
import { runWrk, wrkAvailable, type WrkRequest, type WrkRun } from './wrk.ts';

const num = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
};

const ROUND_SECONDS = num('BENCH_SECONDS', 5, 1);
const WARMUP = num('BENCH_WARMUP_SECONDS', 3, 0);
/**
 * Sign-ins warm up longer than the token endpoints: 3 s is ≈ 9,000 token requests but ≈ 90 sign-ins, and
 * a sign-in server's CPU per flow keeps falling for its first ≈ 1,000 flows (bench/README.md, "Warm-up of the sign-in servers").
 */
const SIGN_IN_WARMUP = num('BENCH_SIGN_IN_WARMUP_SECONDS', 30, 0);
const ROUNDS = Math.round(num('BENCH_ROUNDS', 3, 1));
const CONNECTIONS = Math.round(num('BENCH_CONCURRENCY', 8, 1));
const TARGET_SESSIONS = Math.round(num('BENCH_SESSIONS', 10_000, 1));
const REST_SECONDS = Math.round(num('BENCH_REST_SECONDS', 150, 0));
/** A closed-loop measurement (flows, argon2) ramps to full concurrency before each later round. */
const RAMP_SECONDS = 1;
/** Never contacted: flows stop at the redirect to it and read the code from its query. */
const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
/** Gatehouse's hashing parameters, the same for the servers and the bound. */
const ARGON2_ENV = argon2Env('19456', '2');
const SCRIPT = (name: string) => path.join(ROOT, 'scripts', 'bench', name);

const log = (message: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const storages: StorageSetup[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    for (const s of storages) await s.dispose();
  })();
  return cleaning;
}
process.once('uncaughtException', (error) => {
  process.stderr.write(`\nbench failed: ${error.stack ?? error.message}\n`);
  void cleanup().finally(() => process.exit(1));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything the bench started`);
    void cleanup().finally(() => process.exit(130));
  });
}

interface Server {
  name: string;
  child: Child;
  target: Target;
}

async function startServer(name: string, script: string, env: Env, readyPath: string, cpus: string, seeded: Seeded): Promise<Server> {
  const child = spawnNode(name, script, env, [], cpus);
  const url = `http://127.0.0.1:${env.PORT}`;
  await waitUntilReady(child, `${url}${readyPath}`);
  return { name, child, target: { url, clientId: seeded.clientId, clientSecret: seeded.clientSecret, redirectUri: REDIRECT_URI } };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = (t: Target) => ({ authorization: basicAuthorization(t), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });

/** One client-credentials token, checked for the format every server must give. */
async function checkClientCredentials(t: Target): Promise<void> {
  const agent = createAgent(1);
  try {
    const res = await request(agent, 'POST', new URL('/token', t.url), formHeaders(t), form({ grant_type: 'client_credentials' }));
    if (res.status !== 200) throw new Error(`client credentials at ${t.url}: ${res.status} ${res.body}`);
    const token = (JSON.parse(res.body) as { access_token: string }).access_token;
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { typ?: string; alg?: string };
    const format = `${header.typ} ${header.alg} aud=${String(decodeJwtPayload(token).aud)}`;
    if (format !== 'at+jwt ES256 aud=gatehouse-api') throw new Error(`client credentials at ${t.url} gave ${format}, not at+jwt ES256 aud=gatehouse-api`);
  } finally {
    agent.destroy();
  }
}

/** An opaque access token from one code flow, and its introspection answer (which must say active). */
async function introspectionRequest(t: Target, credentials: Credentials): Promise<WrkRequest> {
  const agent = createAgent(1);
  try {
    const { accessToken } = await signIn(agent, t, credentials);
    if (accessToken.split('.').length === 3) throw new Error(`${t.url} issued a JWT access token to the code flow; the bench introspects an opaque one`);
    const body = form({ token: accessToken, token_type_hint: 'access_token' });
    const res = await request(agent, 'POST', new URL('/token/introspection', t.url), formHeaders(t), body);
    if (res.status !== 200 || (JSON.parse(res.body) as { active?: boolean }).active !== true) throw new Error(`introspection at ${t.url}: ${res.status} ${res.body}`);
    return { url: `${t.url}/token/introspection`, authorization: basicAuthorization(t), body, expectBody: res.body };
  } finally {
    agent.destroy();
  }
}

const ccRequest = (t: Target): WrkRequest => ({
  url: `${t.url}/token`,
  authorization: basicAuthorization(t),
  body: form({ grant_type: 'client_credentials' }),
  contains: '"token_type":"Bearer"',
});

/**
 * One endpoint on several servers: a warm-up of WARMUP s per server, then ROUNDS rounds in which every
 * server gets ROUND_SECONDS, the order rotating each round, so a change in the machine's background
 * load reaches all of them alike. The figure of a server is the median of its rounds.
 */
async function measureEndpoint(label: string, requests: Record<string, WrkRequest>, pids: () => Record<string, number>, where: Placement): Promise<Record<string, EndpointRun>> {
  const names = Object.keys(requests);
  log(`${label}: ${names.join(', ')} — ${WARMUP} s warm-up each, then ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s`);
  const warmups: Record<string, WrkRun> = {};
  for (const name of names) warmups[name] = await runWrk(requests[name] as WrkRequest, Math.max(1, WARMUP), CONNECTIONS, where);
  const runs: Record<string, WrkRun[]> = Object.fromEntries(names.map((n) => [n, []]));
  const meters = Object.fromEntries(names.map((n) => [n, new CpuMeter(pids)]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length] as string;
      runs[name]?.push(await (meters[name] as CpuMeter).around(() => runWrk(requests[name] as WrkRequest, ROUND_SECONDS, CONNECTIONS, where)));
    }
  }
  const out: Record<string, EndpointRun> = {};
  for (const name of names) out[name] = endpointRun(warmups[name] as WrkRun, runs[name] ?? [], meters[name]?.use(), name);
  log(`${label}: ${names.map((n) => `${n} ${out[n]?.median_per_second ?? 0}/s`).join(', ')}`);
  return out;
}

/**
 * RSS of every server once all have been idle for REST_SECONDS, sampled every 10 s. V8 gives its grown
 * young generation back only after a while without requests (its memory reducer: about 90–100 s here),
 * so a figure read right after the load depends on how long ago each server was last busy: the bare
 * provider's load ends minutes before Gatehouse's sign-ins do. Read together at rest, all are compared
 * in the same state.
 */
async function rssAtRestOf(rssOf: () => Record<string, number>): Promise<{ last: Record<string, number>; samples: Record<string, number>[] }> {
  log(`RSS: every server idle for ${REST_SECONDS} s, sampled every 10 s`);
  const samples: Record<string, number>[] = [];
  for (let waited = 0; waited < REST_SECONDS; waited += 10) {
    await sleep(Math.min(10, REST_SECONDS - waited) * 1000);
    samples.push(rssOf());
  }
  const last = samples.at(-1) ?? rssOf();
  log(`RSS at rest (MiB): ${Object.entries(last).map(([n, v]) => `${n} ${v}`).join(', ')}`);
  return { last, samples };
}

function flowRun(slices: FlowSlice[], cpu: CpuUse | undefined): FlowRun {
  const latencies = slices.flatMap((s) => s.latencies);
  const flows = slices.reduce((n, s) => n + s.count, 0);
  return {
    rounds: slices.map((s) => round(s.count / s.seconds, 2)),
    median_per_second: round(median(slices.map((s) => s.count / s.seconds)), 2),
    p50_ms: round(percentile(latencies, 50), 1),
    p99_ms: round(percentile(latencies, 99), 1),
    flows,
    requests_per_flow: flows ? round(slices.reduce((n, s) => n + s.requests, 0) / flows, 1) : 0,
    failures: slices.reduce((n, s) => n + s.failures, 0),
    failure_samples: slices.flatMap((s) => s.failureSamples).slice(0, 5),
    accounts_exhausted: slices.some((s) => s.exhausted),
    ...(cpu ? { cpu } : {}),
  };
}

interface Mode {
  key: 'production' | 'embedded';
  label: string;
  storage: StorageSetup;
  env: Env;
  seeded: Seeded;
  server?: Server;
  bareSame?: Server;
}

async function main(): Promise<Results> {
  const started = performance.now();
  const cpus = os.availableParallelism();
  const where = placement();
  const loadAtStart = loadAverage();
  if (!(await wrkAvailable())) throw new Error('wrk is not installed: apt-get install -y wrk (Debian package)');
  pinProcess(process.pid, where.loadGenerator);
  log(`Node ${process.version}, ${cpus} CPUs, load average ${loadAtStart.join(' ')}; ${describePlacement(where)}`);
  log(`wrk -t1 -c${CONNECTIONS}; ${WARMUP} s warm-up per endpoint and server, then ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s; figure = median of rounds`);

  // 1. The argon2id bound, and a short probe of it that sizes the pools of fresh accounts.
  const argon2 = new Argon2Worker(SCRIPT('argon2-bound.ts'), ARGON2_ENV, CONNECTIONS, where.servers);
  const probe = await argon2.slice(1, 2);
  const probeRate = probe.count / probe.seconds;
  const flowSeconds = SIGN_IN_WARMUP + ROUNDS * (ROUND_SECONDS + RAMP_SECONDS) + 5;
  const poolSize = Math.max(1500, Math.ceil(probeRate * flowSeconds * 2));

  // 2. The two storage modes, each on stores of this run's own, seeded before Gatehouse starts.
  const secretKey = generateSecretKey();
  const production = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  if (!production) log('DATABASE_URL and REDIS_URL are not both set: the production mode (PostgreSQL + Redis) is NOT measured, its targets are reported as not met');
  const modes: Mode[] = [];
  for (const key of production ? (['production', 'embedded'] as const) : (['embedded'] as const)) {
    const storage = await prepareStorage(key === 'production' ? process.env : {});
    storages.push(storage);
    const port = await freePort();
    const env: Env = { ...gatehouseBenchEnv(key, storage, secretKey, ARGON2_ENV), PORT: String(port), ISSUER: `http://127.0.0.1:${port}` };
    log(`${key}: ${storage.label}; seeding a first-party client, ${poolSize} password accounts and ${poolSize} with TOTP`);
    const seeded = await seedGatehouse(env, REDIRECT_URI, { password: poolSize, mfa: poolSize });
    log(`${key}: seeded in ${seeded.seconds.toFixed(1)} s`);
    modes.push({ key, label: key === 'production' ? 'PostgreSQL + Redis, NODE_ENV=production' : `embedded default (${storage.label})`, storage, env, seeded });
  }
  const first = modes[0] as Mode;

  // 3. The servers, each a process of its own on the servers' CPUs.
  const barePort = await freePort();
  const bareCommon = (seeded: Seeded): Env => bareBenchEnv(secretKey, seeded, REDIRECT_URI);
  const bare = await startServer('bare', SCRIPT('bare-provider.ts'), { ...bareCommon(first.seeded), BARE_STORAGE: 'memory', PORT: String(barePort), ISSUER: `http://127.0.0.1:${barePort}` }, '/.well-known/openid-configuration', where.servers, first.seeded);
  const sameStorage = process.env.BENCH_SAME_STORAGE !== '0';
  for (const mode of modes) {
    mode.server = await startServer(`gatehouse_${mode.key}`, path.join(ROOT, 'src', 'main.ts'), mode.env, '/readyz', where.servers, mode.seeded);
    if (sameStorage) {
      const port = await freePort();
      mode.bareSame = await startServer(`bare_${mode.storage.oidcKind}_${mode.key}`, SCRIPT('bare-provider.ts'), { ...bareCommon(mode.seeded), ...mode.storage.bareEnv, PORT: String(port), ISSUER: `http://127.0.0.1:${port}` }, '/.well-known/openid-configuration', where.servers, mode.seeded);
    }
  }
  const servers: Server[] = [bare, ...modes.flatMap((m) => [m.server, m.bareSame].filter((s): s is Server => s !== undefined))];
  const rssAtStart = Object.fromEntries(servers.map((s) => [s.name, round(rssMiB(s.child.pid), 1)]));
  log(`servers up: ${servers.map((s) => `${s.name} ${s.target.url}`).join(', ')}`);
  const pids = () => ({ bench_driver: process.pid, argon2_worker: argon2.child.pid, ...Object.fromEntries(servers.map((s) => [s.name, s.child.pid])) });

  // 4. Same token format everywhere; an opaque access token per server for introspection.
  const cursors = new Map<Mode, { password: number; mfa: number }>(modes.map((m) => [m, { password: 0, mfa: 0 }]));
  const passwordAccount = (mode: Mode) => (): Credentials | undefined => {
    const c = cursors.get(mode) as { password: number };
    const a = mode.seeded.passwordAccounts[c.password++];
    return a ? { email: a.email, password: mode.seeded.password } : undefined;
  };
  const mfaAccount = (mode: Mode) => (): Credentials | undefined => {
    const c = cursors.get(mode) as { mfa: number };
    const a = mode.seeded.mfaAccounts[c.mfa++];
    return a ? { email: a.email, password: mode.seeded.password, totpKey: a.totpKey } : undefined;
  };
  for (const s of servers) await checkClientCredentials(s.target);
  const ccRequests: Record<string, WrkRequest> = {};
  const introRequests: Record<string, WrkRequest> = {};
  const modeOf = (s: Server) => modes.find((m) => m.server === s || m.bareSame === s) ?? first;
  for (const s of servers) {
    ccRequests[s.name] = ccRequest(s.target);
    const credentials = passwordAccount(modeOf(s))();
    if (!credentials) throw new Error('no account for the introspection token');
    introRequests[s.name] = await introspectionRequest(s.target, credentials);
  }

  // 5. Token endpoint and introspection with wrk.
  const clientCredentials = await measureEndpoint('client credentials', ccRequests, pids, where);
  const introspection = await measureEndpoint('introspection', introRequests, pids, where);

  // 6. Sign-in flows of both modes, interleaved with the argon2id bound (same parameters, same concurrency, same CPUs).
  const flowSteps: Record<string, (warmup: number, seconds: number) => Promise<Slice | FlowSlice>> = { argon2id: (w, s) => argon2.slice(w, s) };
  for (const mode of modes) {
    const t = (mode.server as Server).target;
    const password: FlowOptions = {
      target: t,
      concurrency: CONNECTIONS,
      nextCredentials: passwordAccount(mode),
      check: (r) => (JSON.stringify(r.idTokenClaims.amr) === '["pwd"]' ? undefined : `ID token amr ${JSON.stringify(r.idTokenClaims.amr)}, expected ["pwd"]`),
    };
    const mfa: FlowOptions = {
      target: t,
      concurrency: CONNECTIONS,
      nextCredentials: mfaAccount(mode),
      check: (r) => {
        const amr = r.idTokenClaims.amr;
        return Array.isArray(amr) && amr.includes('mfa') && r.idTokenClaims.acr === 'urn:gatehouse:acr:mfa' ? undefined : `ID token amr ${JSON.stringify(amr)} acr ${String(r.idTokenClaims.acr)}, expected mfa`;
      },
    };
    flowSteps[`password_${mode.key}`] = (w, s) => flowSlice(password, w, s);
    flowSteps[`password_totp_${mode.key}`] = (w, s) => flowSlice(mfa, w, s);
  }
  const stepNames = Object.keys(flowSteps);
  log(`sign-in: ${stepNames.join(', ')} — a warm-up first (argon2id ${WARMUP} s, each server and flow ${SIGN_IN_WARMUP} s), then ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s (+${RAMP_SECONDS} s ramp)`);
  const flowSlices: Record<string, (Slice | FlowSlice)[]> = Object.fromEntries(stepNames.map((n) => [n, []]));
  const flowMeters = Object.fromEntries(stepNames.map((n) => [n, new CpuMeter(pids)]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of stepNames) {
      const step = flowSteps[name] as (w: number, s: number) => Promise<Slice | FlowSlice>;
      flowSlices[name]?.push(await (flowMeters[name] as CpuMeter).around(() => step(r > 0 ? RAMP_SECONDS : name === 'argon2id' ? WARMUP : SIGN_IN_WARMUP, ROUND_SECONDS)));
    }
  }
  const argonSlices = flowSlices.argon2id ?? [];
  const argonMerged = await argon2.merge(argonSlices);
  const argon2Figures = { ...argonMerged, rounds: argonSlices.map((s) => round(s.count / s.seconds, 2)), median_per_second: round(median(argonSlices.map((s) => s.count / s.seconds)), 2) };
  const signIn: Record<string, FlowRun> = {};
  for (const name of stepNames.filter((n) => n !== 'argon2id')) signIn[name] = flowRun((flowSlices[name] ?? []) as FlowSlice[], flowMeters[name]?.use());
  log(`sign-in: argon2id ${argon2Figures.median_per_second}/s, ${Object.entries(signIn).map(([n, f]) => `${n} ${f.median_per_second}/s`).join(', ')}`);

  // 7. Sessions: real ones from this run's sign-ins, then clones through Gatehouse's own adapter up to
  // BENCH_SESSIONS; the bare provider stores as many in its memory. Then RSS and storage per session.
  const sessions: Results['sessions'] = {};
  for (const mode of modes) {
    const store = await openSessionStore(mode.storage);
    try {
      const real = await store.list();
      const missing = TARGET_SESSIONS - real.length;
      log(`${mode.key}: ${real.length} sessions from real sign-ins; cloning ${Math.max(0, missing)} more through Gatehouse's adapter`);
      const cloned = await fillSessions(store, real, missing, mode.storage.sqlKind === 'pglite' && mode.storage.oidcKind === 'sql' ? 1 : 8);
      const sizes = await store.sizes();
      sessions[mode.key] = {
        real_sessions: real.length,
        cloned_sessions: cloned,
        total_sessions: sizes.sessions,
        storage_method: sizes.method,
        storage_bytes_per_session: round(sizes.bytesPerSession, 0),
        storage_detail: Object.fromEntries(Object.entries(sizes.detail).map(([k, v]) => [k, round(v, 1)])),
      };
    } finally {
      await store.close();
    }
  }
  const fill = await fetch(`${bare.target.url}/bench/sessions?count=${TARGET_SESSIONS}`, { method: 'POST' });
  if (fill.status !== 200) throw new Error(`bare provider could not store ${TARGET_SESSIONS} sessions: ${fill.status}`);
  await sleep(2000);
  const rssOf = () => Object.fromEntries(servers.map((s) => [s.name, round(rssMiB(s.child.pid), 1)]));
  const rssAfterLoad = rssOf();
  const rssAtRest = await rssAtRestOf(rssOf);
  sessions.rss_mb = { at_start: rssAtStart, after_load_and_sessions: rssAfterLoad, at_rest: rssAtRest.last, at_rest_samples: rssAtRest.samples } as unknown as Record<string, unknown>;

  // 8. Production: every worker (WORKERS unset = one per CPU) ÷ one worker, nothing pinned (it measures using every CPU).
  let workers: Results['workers'] = null;
  const prod = modes.find((m) => m.key === 'production');
  if (prod?.server) {
    const port = await freePort();
    const allEnv: Env = { ...prod.env, WORKERS: undefined, PORT: String(port), ISSUER: `http://127.0.0.1:${port}` };
    pinProcess(process.pid, `0-${cpus - 1}`);
    pinProcess(prod.server.child.pid, `0-${cpus - 1}`);
    const all = await startServer('gatehouse_production_all_workers', path.join(ROOT, 'src', 'main.ts'), allEnv, '/readyz', '', prod.seeded);
    try {
      await checkClientCredentials(all.target);
      const credentials = passwordAccount(prod)();
      if (!credentials) throw new Error('no account for the introspection token');
      const one = prod.server;
      const wPids = () => ({ bench_driver: process.pid, [one.name]: one.child.pid, [all.name]: all.child.pid });
      const cc = await measureEndpoint('workers: client credentials', { one_worker: ccRequests[one.name] as WrkRequest, all_workers: ccRequest(all.target) }, wPids, UNPINNED);
      const intro = await measureEndpoint('workers: introspection', { one_worker: introRequests[one.name] as WrkRequest, all_workers: await introspectionRequest(all.target, credentials) }, wPids, UNPINNED);
      workers = { cpus, note: 'servers and wrk unpinned; the one-worker instance is the production server above (WORKERS=1), re-pinned to every CPU', client_credentials: cc, introspection: intro };
    } finally {
      await all.child.stop();
    }
  }

  // 9. Ratios and targets.
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b, 3) : null);
  const ratios: Results['ratios'] = {};
  const targets: Record<string, TargetFigure> = {};
  const ccBare = clientCredentials[bare.name];
  const introBare = introspection[bare.name];
  const goals = { production: { cc: '>= 0.9', intro: '>= 0.75' }, embedded: { cc: '>= 0.9', intro: '>= 0.5' } };
  for (const key of ['production', 'embedded'] as const) {
    const mode = modes.find((m) => m.key === key);
    const name = mode?.server?.name ?? '';
    const notMeasured = mode ? undefined : 'not measured: set DATABASE_URL and REDIS_URL';
    const cc = clientCredentials[name];
    const intro = introspection[name];
    ratios[`client_credentials_${key}_vs_bare_memory`] = ratio(cc?.median_per_second, ccBare?.median_per_second);
    ratios[`introspection_${key}_vs_bare_memory`] = ratio(intro?.median_per_second, introBare?.median_per_second);
    // the same comparison by the server's own CPU per request: steadier under background load, blind to
    // what PostgreSQL / Redis spend (for information; the targets use throughput)
    ratios[`client_credentials_${key}_vs_bare_memory_by_cpu`] = ratio(ccBare?.cpu_ms_per_request, cc?.cpu_ms_per_request);
    ratios[`introspection_${key}_vs_bare_memory_by_cpu`] = ratio(introBare?.cpu_ms_per_request, intro?.cpu_ms_per_request);
    if (mode?.bareSame) {
      ratios[`client_credentials_${key}_vs_bare_same_storage`] = ratio(cc?.median_per_second, clientCredentials[mode.bareSame.name]?.median_per_second);
      ratios[`introspection_${key}_vs_bare_same_storage`] = ratio(intro?.median_per_second, introspection[mode.bareSame.name]?.median_per_second);
    }
    targets[`client_credentials_${key}`] = target(`client credentials ÷ bare on memory, ${key}`, goals[key].cc, ratios[`client_credentials_${key}_vs_bare_memory`], endpointValid(cc) && endpointValid(ccBare), notMeasured);
    targets[`introspection_${key}`] = target(`introspection ÷ bare on memory, ${key}`, goals[key].intro, ratios[`introspection_${key}_vs_bare_memory`], endpointValid(intro) && endpointValid(introBare), notMeasured);
  }
  for (const key of ['production', 'embedded'] as const) {
    const notMeasured = modes.some((m) => m.key === key) ? undefined : 'not measured: set DATABASE_URL and REDIS_URL';
    const pwd = signIn[`password_${key}`];
    const mfa = signIn[`password_totp_${key}`];
    ratios[`password_sign_in_${key}_vs_argon2`] = ratio(pwd?.median_per_second, argon2Figures.median_per_second);
    ratios[`password_totp_sign_in_${key}_vs_argon2`] = ratio(mfa?.median_per_second, argon2Figures.median_per_second);
    targets[`password_sign_in_${key}`] = target(`password sign-ins ÷ argon2id verifications, ${key}`, '>= 0.8', ratios[`password_sign_in_${key}_vs_argon2`], flowValid(pwd), notMeasured);
    targets[`password_totp_sign_in_${key}`] = target(`password + TOTP sign-ins ÷ argon2id verifications, ${key}`, '>= 0.75', ratios[`password_totp_sign_in_${key}_vs_argon2`], flowValid(mfa), notMeasured);
  }
  for (const key of ['production', 'embedded'] as const) {
    const mode = modes.find((m) => m.key === key);
    const notMeasured = mode ? undefined : 'not measured: set DATABASE_URL and REDIS_URL';
    ratios[`rss_${key}_vs_bare_memory`] = mode?.server ? ratio(rssAtRest.last[mode.server.name], rssAtRest.last[bare.name]) : null;
    ratios[`rss_${key}_vs_bare_memory_right_after_load`] = mode?.server ? ratio(rssAfterLoad[mode.server.name], rssAfterLoad[bare.name]) : null;
    targets[`rss_${key}`] = target(`RSS after ${TARGET_SESSIONS.toLocaleString('en-US')} sessions, at rest, ÷ bare's, ${key}`, '<= 1.2', ratios[`rss_${key}_vs_bare_memory`], Boolean(mode), notMeasured);
    const bytes = sessions[key]?.storage_bytes_per_session;
    targets[`storage_per_session_${key}`] = target(`storage per active session (bytes), ${key}`, '<= 2048', typeof bytes === 'number' ? bytes : null, Boolean(mode), notMeasured);
  }
  const w = workers as { client_credentials: Record<string, EndpointRun>; introspection: Record<string, EndpointRun> } | null;
  for (const [key, label] of [
    ['client_credentials', 'client credentials'],
    ['introspection', 'introspection'],
  ] as const) {
    const runs = w?.[key];
    ratios[`workers_${key}_all_vs_one`] = ratio(runs?.all_workers?.median_per_second, runs?.one_worker?.median_per_second);
    targets[`workers_${key}`] = target(`production ${label}: all workers ÷ one worker (${cpus} CPUs)`, '>= 1.8', ratios[`workers_${key}_all_vs_one`], endpointValid(runs?.all_workers) && endpointValid(runs?.one_worker), w ? undefined : 'not measured: production mode not configured');
  }

  const others = [...Object.values(clientCredentials), ...Object.values(introspection), ...Object.values(signIn)].map((f) => f.cpu?.other_percent ?? 0);
  return {
    generated_at: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus,
      cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
      memory_gib: round(os.totalmem() / 2 ** 30, 1),
      placement: describePlacement(where),
      load_generator: `wrk -t1 -c${CONNECTIONS} with scripts/bench/wrk/post.lua (every response checked); sign-ins: the bench's own Node driver, ${CONNECTIONS} flows in flight`,
      warmup_seconds: WARMUP,
      sign_in_warmup_seconds: SIGN_IN_WARMUP,
      rounds: ROUNDS,
      round_seconds: ROUND_SECONDS,
      modes: Object.fromEntries(modes.map((m) => [m.key, m.label])),
      reference: 'bare oidc-provider 9 on its memory adapter (scripts/bench/bare-provider.ts)',
      gatehouse_settings: { production: 'NODE_ENV=production, WORKERS=1, LOG_LEVEL unset (info)', embedded: 'as npm start: NODE_ENV unset, LOG_LEVEL unset (info), no DATABASE_URL / REDIS_URL', both: LIMITS_ENV },
      argon2: argon2Figures.params,
      accounts_seeded_per_mode: poolSize,
      load_average: { start: loadAtStart, end: loadAverage() },
      max_other_cpu_percent: Math.max(0, ...others),
      duration_seconds: round((performance.now() - started) / 1000, 0),
    },
    client_credentials: clientCredentials,
    introspection,
    argon2id: argon2Figures,
    sign_in: signIn,
    sessions,
    workers,
    ratios,
    targets,
    all_met: Object.values(targets).every((t) => t.met),
  };
}

try {
  const results = await main();
  await cleanup();
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${render(results)}\n\nwritten: bench/results/latest.json\n`);
} catch (e) {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  await cleanup();
  process.exitCode = 1;
}
