// `npm run bench` (bench/README.md): in one run on this machine, Gatehouse next to a bare oidc-provider
// configured like it, and the sign-in flows next to the argon2id bound. Embedded PGlite by default;
// PostgreSQL and/or Redis when DATABASE_URL / REDIS_URL are set (each run gets stores of its own).
// Prints a table and writes bench/results/latest.json (plus a copy named after the storage).
// Everything it starts is stopped at the end, also on failure or Ctrl-C; it only talks to 127.0.0.1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSecretKey } from '../../src/domain/secrets.ts';
import { basicAuthorization, createAgent, decodeJwtPayload, request, signIn, type Credentials, type Target } from './browser.ts';
import { Argon2Worker, cannonSlice, cpuFigures, flowSlice, mergeFlows, mergeRequests, type CannonOptions, type FlowOptions, type RequestSlice, type FlowSlice, type Slice } from './load.ts';
import { ROOT, freePort, rssMiB, spawnNode, stopAll, waitUntilReady, type Child, type Env } from './processes.ts';
import { fillSessions, openSessionStore, prepareStorage, seedGatehouse, type StorageSetup } from './storage.ts';
import { CpuMeter, loadAverage, type CpuUse } from './cpu.ts';
import { render, targets, type EndpointFigures, type Results } from './report.ts';
import { round, sleep } from './stats.ts';

const num = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
};

const SECONDS = num('BENCH_SECONDS', 10, 1);
const WARMUP = num('BENCH_WARMUP_SECONDS', 2, 0);
const CONCURRENCY = Math.round(num('BENCH_CONCURRENCY', 8, 1));
const SLICES = Math.round(num('BENCH_SLICES', 5, 1));
const TARGET_SESSIONS = Math.round(num('BENCH_SESSIONS', 10_000, 1));
const SLICE_SECONDS = SECONDS / SLICES;
/** Warm-up before every later slice of a closed-loop measurement (flows, argon2): the ramp to full concurrency. */
const RAMP_SECONDS = SLICES > 1 ? 1 : 0;
/** Never contacted: flows stop at the redirect to it and read the code from its query. */
const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
/** Gatehouse's hashing parameters, the same for the server and the bound (DESIGN.md §9 defaults). */
const ARGON2_ENV: Env = {
  ARGON2_MEMORY_KIB: process.env.ARGON2_MEMORY_KIB ?? '19456',
  ARGON2_TIME_COST: process.env.ARGON2_TIME_COST ?? '2',
  ARGON2_PARALLELISM: process.env.ARGON2_PARALLELISM ?? '1',
};
/** All bench traffic comes from 127.0.0.1: the per-IP limits (100 per 15 min) would stop it at once. */
const LIMITS_ENV: Env = { LOGIN_MAX_PER_IP: '100000000', MFA_MAX_PER_IP: '100000000' };
const SCRIPT = (name: string) => path.join(ROOT, 'scripts', 'bench', name);

const log = (message: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

let storage: StorageSetup | undefined;
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    await storage?.dispose();
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

async function startServer(name: string, script: string, env: Env, readyPath: string): Promise<{ child: Child; url: string }> {
  const child = spawnNode(name, script, env);
  const url = `http://127.0.0.1:${env.PORT}`;
  await waitUntilReady(child, `${url}${readyPath}`);
  return { child, url };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = (t: Target) => ({ authorization: basicAuthorization(t), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });

/** One client-credentials token, checked for the format both servers must share. */
async function checkClientCredentials(target: Target): Promise<void> {
  const agent = createAgent(1);
  try {
    const res = await request(agent, 'POST', new URL('/token', target.url), formHeaders(target), form({ grant_type: 'client_credentials' }));
    if (res.status !== 200) throw new Error(`client credentials at ${target.url}: ${res.status} ${res.body}`);
    const token = (JSON.parse(res.body) as { access_token: string }).access_token;
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { typ?: string; alg?: string };
    const format = `${header.typ} ${header.alg} aud=${String(decodeJwtPayload(token).aud)}`;
    if (format !== 'at+jwt ES256 aud=gatehouse-api') throw new Error(`client credentials at ${target.url} gave ${format}, not at+jwt ES256 aud=gatehouse-api`);
  } finally {
    agent.destroy();
  }
}

/** The introspection response of an opaque access token (must be active); autocannon expects exactly it. */
async function introspectionBody(target: Target, token: string): Promise<string> {
  const agent = createAgent(1);
  try {
    const res = await request(agent, 'POST', new URL('/token/introspection', target.url), formHeaders(target), form({ token, token_type_hint: 'access_token' }));
    if (res.status !== 200 || (JSON.parse(res.body) as { active?: boolean }).active !== true) throw new Error(`introspection at ${target.url}: ${res.status} ${res.body}`);
    return res.body;
  } finally {
    agent.destroy();
  }
}

async function opaqueToken(target: Target, credentials: Credentials): Promise<string> {
  const agent = createAgent(1);
  try {
    const { accessToken } = await signIn(agent, target, credentials);
    if (accessToken.split('.').length === 3) throw new Error(`${target.url} issued a JWT access token to the code flow; the bench introspects an opaque one`);
    return accessToken;
  } finally {
    agent.destroy();
  }
}

/**
 * Runs each step SLICES times, round-robin (A B C A B C …), so that a change in the machine's
 * background load reaches every one of them alike; the first slice of each step gets the full warm-up.
 * Returns each step's slices and the CPU used while it ran.
 */
async function interleaved<S>(
  label: string,
  steps: Record<string, (warmup: number, seconds: number) => Promise<S>>,
  ramp: number,
  pids: () => Record<string, number>,
): Promise<{ slices: Record<string, S[]>; cpu: Record<string, CpuUse> }> {
  const names = Object.keys(steps);
  log(`${label}: ${names.join(', ')} — ${SLICES} interleaved slice(s) of ${SLICE_SECONDS} s each (${SECONDS} s per figure), ${WARMUP} s warm-up first`);
  const slices: Record<string, S[]> = Object.fromEntries(names.map((n) => [n, []]));
  const meters = Object.fromEntries(names.map((n) => [n, new CpuMeter(pids)]));
  for (let i = 0; i < SLICES; i++) {
    for (const name of names) {
      const step = steps[name];
      const meter = meters[name];
      if (!step || !meter) continue;
      slices[name]?.push(await meter.around(() => step(i === 0 ? WARMUP : ramp, SLICE_SECONDS)));
    }
  }
  return { slices, cpu: Object.fromEntries(Object.entries(meters).map(([n, m]) => [n, m.use()])) };
}

function endpoints(run: { slices: Record<string, RequestSlice[]>; cpu: Record<string, CpuUse> }): EndpointFigures {
  const figures = (name: string) => {
    const slices = run.slices[name] ?? [];
    const cpu = run.cpu[name];
    return { ...mergeRequests(slices), ...(cpu ? { cpu: cpuFigures(cpu, slices) } : {}) };
  };
  return { gatehouse: figures('gatehouse'), bare_same_storage: figures('bare_same_storage'), bare_memory: figures('bare_memory') };
}

async function main(): Promise<Results> {
  const started = performance.now();
  const cpu = os.cpus();
  const loadAtStart = loadAverage();
  log(`Node ${process.version}, ${cpu.length} CPUs, load average ${loadAtStart.join(' ')}; ${SECONDS} s per figure (+${WARMUP} s warm-up), concurrency ${CONCURRENCY}`);
  if (SECONDS < 10) log(`note: BENCH_SECONDS=${SECONDS} is below the 10 s the figures are specified with`);

  // 1. The argon2id worker, and a short probe of it that sizes the pools of fresh accounts.
  const argon2 = new Argon2Worker(SCRIPT('argon2-bound.ts'), ARGON2_ENV, CONCURRENCY);
  const probe = await argon2.slice(1, 2);
  const probeRate = probe.count / probe.seconds;
  const flowSeconds = WARMUP + (SLICES - 1) * RAMP_SECONDS + SECONDS + 5;
  const poolSize = Math.max(2500, Math.ceil(probeRate * flowSeconds * 2));

  // 2. Stores of this run's own, seeded before Gatehouse starts.
  storage = await prepareStorage();
  log(`storage: ${storage.label}`);
  const [ghPort, bareSamePort, bareMemoryPort] = [await freePort(), await freePort(), await freePort()];
  const gatehouseEnv: Env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(ghPort),
    ISSUER: `http://127.0.0.1:${ghPort}`,
    LOG_LEVEL: 'warn',
    GATEHOUSE_SECRET_KEY: generateSecretKey(),
    ...ARGON2_ENV,
    ...LIMITS_ENV,
    ...storage.gatehouseEnv,
  };
  log(`seeding Gatehouse: a first-party client, ${poolSize} password accounts, ${poolSize} accounts with an imported TOTP authenticator (argon2 probe ${probeRate.toFixed(0)}/s)`);
  const seeded = await seedGatehouse(gatehouseEnv, REDIRECT_URI, { password: poolSize, mfa: poolSize });
  log(`seeded in ${seeded.seconds.toFixed(1)} s`);

  // 3. The three servers, each a process of its own.
  const bareCommon: Env = {
    NODE_ENV: 'production',
    GATEHOUSE_SECRET_KEY: gatehouseEnv.GATEHOUSE_SECRET_KEY,
    BENCH_CLIENT_ID: seeded.clientId,
    BENCH_CLIENT_SECRET: seeded.clientSecret,
    BENCH_REDIRECT_URI: REDIRECT_URI,
  };
  const [gatehouse, bareSame, bareMemory] = await Promise.all([
    startServer('gatehouse', path.join(ROOT, 'src', 'main.ts'), gatehouseEnv, '/readyz'),
    startServer('bare (same storage)', SCRIPT('bare-provider.ts'), { ...bareCommon, ...storage.bareEnv, PORT: String(bareSamePort), ISSUER: `http://127.0.0.1:${bareSamePort}` }, '/.well-known/openid-configuration'),
    startServer('bare (memory)', SCRIPT('bare-provider.ts'), { ...bareCommon, BARE_STORAGE: 'memory', PORT: String(bareMemoryPort), ISSUER: `http://127.0.0.1:${bareMemoryPort}` }, '/.well-known/openid-configuration'),
  ]);
  const rssAtStart = rssMiB(gatehouse.child.pid);
  const target = (url: string): Target => ({ url, clientId: seeded.clientId, clientSecret: seeded.clientSecret, redirectUri: REDIRECT_URI });
  const servers = { gatehouse: target(gatehouse.url), bare_same_storage: target(bareSame.url), bare_memory: target(bareMemory.url) };
  log(`servers up: Gatehouse ${gatehouse.url}, bare (${storage.oidcKind === 'redis' ? 'Redis' : 'SQL'}) ${bareSame.url}, bare (memory) ${bareMemory.url}`);
  const ourPids = () => ({
    bench_driver: process.pid,
    gatehouse: gatehouse.child.pid,
    bare_same_storage: bareSame.child.pid,
    bare_memory: bareMemory.child.pid,
    argon2_worker: argon2.child.pid,
  });

  // 4. Same token format everywhere; one opaque access token per server for introspection.
  for (const t of Object.values(servers)) await checkClientCredentials(t);
  let nextPassword = 0;
  const passwordAccount = (): Credentials => {
    const a = seeded.passwordAccounts[nextPassword++ % seeded.passwordAccounts.length];
    if (!a) throw new Error('no password account');
    return { email: a.email, password: seeded.password };
  };
  const tokens = {
    gatehouse: await opaqueToken(servers.gatehouse, passwordAccount()),
    bare_same_storage: await opaqueToken(servers.bare_same_storage, passwordAccount()),
    bare_memory: await opaqueToken(servers.bare_memory, passwordAccount()),
  };

  // 5. Token endpoint and introspection: autocannon, bare and Gatehouse interleaved.
  const ccOptions = (t: Target): CannonOptions => ({ url: `${t.url}/token`, method: 'POST', headers: formHeaders(t), body: form({ grant_type: 'client_credentials' }), connections: CONCURRENCY });
  const introOptions = async (t: Target, token: string): Promise<CannonOptions> => ({
    url: `${t.url}/token/introspection`,
    method: 'POST',
    headers: formHeaders(t),
    body: form({ token, token_type_hint: 'access_token' }),
    connections: CONCURRENCY,
    expectBody: await introspectionBody(t, token),
  });
  const cc = await interleaved<RequestSlice>(
    'client credentials',
    Object.fromEntries((['bare_same_storage', 'gatehouse', 'bare_memory'] as const).map((n) => [n, (w: number, s: number) => cannonSlice(ccOptions(servers[n]), w, s)])),
    0,
    ourPids,
  );
  const introOpts = {
    bare_same_storage: await introOptions(servers.bare_same_storage, tokens.bare_same_storage),
    gatehouse: await introOptions(servers.gatehouse, tokens.gatehouse),
    bare_memory: await introOptions(servers.bare_memory, tokens.bare_memory),
  };
  const intro = await interleaved<RequestSlice>(
    'introspection',
    Object.fromEntries((['bare_same_storage', 'gatehouse', 'bare_memory'] as const).map((n) => [n, (w: number, s: number) => cannonSlice(introOpts[n], w, s)])),
    0,
    ourPids,
  );
  const clientCredentials = endpoints(cc);
  const introspection = endpoints(intro);

  // 6. Sign-in flows (custom driver) interleaved with the argon2id bound.
  let nextMfa = 0;
  const passwordFlows: FlowOptions = {
    target: servers.gatehouse,
    concurrency: CONCURRENCY,
    nextCredentials: passwordAccount,
    check: (r) => (JSON.stringify(r.idTokenClaims.amr) === '["pwd"]' ? undefined : `ID token amr ${JSON.stringify(r.idTokenClaims.amr)}, expected ["pwd"]`),
  };
  const mfaFlows: FlowOptions = {
    target: servers.gatehouse,
    concurrency: CONCURRENCY,
    nextCredentials: () => {
      const a = seeded.mfaAccounts[nextMfa++];
      return a ? { email: a.email, password: seeded.password, totpKey: a.totpKey } : undefined;
    },
    check: (r) => {
      const amr = r.idTokenClaims.amr;
      return Array.isArray(amr) && amr.includes('mfa') && r.idTokenClaims.acr === 'urn:gatehouse:acr:mfa' ? undefined : `ID token amr ${JSON.stringify(amr)} acr ${String(r.idTokenClaims.acr)}, expected mfa`;
    },
  };
  const flows = await interleaved<Slice | FlowSlice>(
    'sign-in',
    {
      argon2id: (w, s) => argon2.slice(w, s),
      password: (w, s) => flowSlice(passwordFlows, w, s),
      password_totp: (w, s) => flowSlice(mfaFlows, w, s),
    },
    RAMP_SECONDS,
    ourPids,
  );
  const withCpu = <F>(figures: F, name: string): F => {
    const cpu = flows.cpu[name];
    return cpu ? { ...figures, cpu: cpuFigures(cpu, flows.slices[name] ?? []) } : figures;
  };
  const argon2Figures = withCpu(await argon2.merge(flows.slices.argon2id ?? []), 'argon2id');
  const passwordLogin = withCpu(mergeFlows((flows.slices.password ?? []) as FlowSlice[]), 'password');
  const mfaLogin = withCpu(mergeFlows((flows.slices.password_totp ?? []) as FlowSlice[]), 'password_totp');
  log(`argon2id ${argon2Figures.per_second.toFixed(1)}/s, password sign-in ${passwordLogin.per_second.toFixed(1)}/s, password + TOTP ${mfaLogin.per_second.toFixed(1)}/s`);

  // 7. Sessions: the real ones of this run, then clones up to the target, then size and memory.
  const store = await openSessionStore(storage);
  let sessions: Results['sessions'];
  try {
    const real = await store.list();
    const realSizes = await store.sizes();
    const rssBefore = rssMiB(gatehouse.child.pid);
    const footprintBefore = await store.footprint();
    const missing = TARGET_SESSIONS - real.length;
    log(`sessions: ${real.length} from real sign-ins; cloning ${Math.max(0, missing)} more through Gatehouse's adapter`);
    const cloneStart = performance.now();
    const cloned = await fillSessions(store, real, missing, storage.sqlKind === 'pglite' && storage.oidcKind === 'sql' ? 1 : 8);
    const cloneSeconds = (performance.now() - cloneStart) / 1000;
    const footprintAfter = await store.footprint();
    const sizes = await store.sizes();
    await sleep(2000);
    sessions = {
      target_sessions: TARGET_SESSIONS,
      real_sessions: real.length,
      cloned_sessions: cloned,
      total_sessions: sizes.sessions,
      note:
        `${real.length} sessions come from the real sign-in flows of this run; ${cloned} more are CLONES of those stored Session payloads ` +
        `(new id, uid and sid; same account, grants and expiry), written through Gatehouse's own ${storage.oidcKind === 'redis' ? 'Redis' : 'SQL'} adapter. ` +
        'Gatehouse keeps sessions in its store, not in process memory.',
      storage_method: sizes.method,
      storage_bytes_per_session: round(sizes.bytesPerSession, 0),
      storage_detail: Object.fromEntries(Object.entries(sizes.detail).map(([k, v]) => [k, round(v, 1)])),
      storage_bytes_per_real_session: round(realSizes.bytesPerSession, 0),
      store_growth_bytes_per_cloned_session: cloned > 0 ? round((footprintAfter - footprintBefore) / cloned, 0) : Number.NaN,
      clone_seconds: round(cloneSeconds, 1),
      rss_mb: {
        gatehouse_at_start: round(rssAtStart, 1),
        gatehouse_before_fill: round(rssBefore, 1),
        gatehouse_after_10k_sessions: round(rssMiB(gatehouse.child.pid), 1),
        bare_same_storage_at_end: round(rssMiB(bareSame.child.pid), 1),
        bare_memory_at_end: round(rssMiB(bareMemory.child.pid), 1),
      },
    };
  } finally {
    await store.close();
  }

  const ratio = (a: number, b: number) => round(a / b, 3);
  const partial: Omit<Results, 'targets' | 'pass'> = {
    generated_at: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: cpu.length,
      cpu_model: cpu[0]?.model.trim() ?? 'unknown',
      memory_gib: round(os.totalmem() / 2 ** 30, 1),
      storage_backend: storage.label,
      database: storage.sqlKind,
      oidc_storage: storage.oidcKind,
      oidc_storage_label: storage.oidcKind === 'redis' ? 'Redis adapter' : `SQL adapter on ${storage.sqlKind === 'postgres' ? 'PostgreSQL' : 'PGlite'}`,
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      warmup_seconds: WARMUP,
      slices: SLICES,
      slice_seconds: SLICE_SECONDS,
      argon2: argon2Figures.params,
      gatehouse_settings: { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...LIMITS_ENV },
      accounts_seeded: { password: seeded.passwordAccounts.length, mfa: seeded.mfaAccounts.length, seconds: round(seeded.seconds, 1) },
      introspection_request: 'POST /token/introspection, client_secret_basic, token_type_hint=access_token, the opaque access token of one code flow',
      client_credentials_request: 'POST /token grant_type=client_credentials, client_secret_basic → ES256 at+jwt for gatehouse-api',
      background: {
        load_average_at_start: loadAtStart,
        load_average_at_end: loadAverage(),
        other_cpu_percent: {
          client_credentials: Math.max(...Object.values(cc.cpu).map((c) => c.other_percent)),
          introspection: Math.max(...Object.values(intro.cpu).map((c) => c.other_percent)),
          sign_in: Math.max(...Object.values(flows.cpu).map((c) => c.other_percent)),
        },
        note: 'largest share of all CPUs used, during one measurement of the group, by processes other than the bench, the servers it started and the PostgreSQL/Redis servers',
      },
      duration_seconds: 0,
    },
    client_credentials: clientCredentials,
    introspection,
    argon2id: argon2Figures,
    password_login: passwordLogin,
    mfa_login: mfaLogin,
    sessions,
    ratios: {
      client_credentials_vs_bare: ratio(clientCredentials.gatehouse.per_second, clientCredentials.bare_same_storage.per_second),
      introspection_vs_bare: ratio(introspection.gatehouse.per_second, introspection.bare_same_storage.per_second),
      password_login_vs_argon2: ratio(passwordLogin.per_second, argon2Figures.per_second),
      mfa_login_vs_argon2: ratio(mfaLogin.per_second, argon2Figures.per_second),
    },
    ratios_vs_bare_memory: {
      client_credentials: ratio(clientCredentials.gatehouse.per_second, clientCredentials.bare_memory.per_second),
      introspection: ratio(introspection.gatehouse.per_second, introspection.bare_memory.per_second),
    },
    storage_bytes_per_session: sessions.storage_bytes_per_session,
    rss_mb_after_10k_sessions: sessions.rss_mb.gatehouse_after_10k_sessions,
  };
  const t = targets(partial);
  partial.environment.duration_seconds = round((performance.now() - started) / 1000, 0);
  return { ...partial, targets: t, pass: Object.values(t).every((x) => x.pass) };
}

try {
  const results = await main();
  await cleanup();
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const named = `${String(results.environment.database)}-${String(results.environment.oidc_storage)}.json`;
  fs.writeFileSync(path.join(dir, 'latest.json'), json);
  fs.writeFileSync(path.join(dir, named), json);
  process.stdout.write(`${render(results)}\n\nwritten: bench/results/latest.json and bench/results/${named}\n`);
} catch (e) {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  await cleanup();
  process.exitCode = 1;
}
