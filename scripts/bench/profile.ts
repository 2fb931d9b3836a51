// `npm run bench:profile`: where the CPU goes under the bench's load, per figure. For every server
// (the bare oidc-provider on memory, Gatehouse embedded, and Gatehouse on PostgreSQL + Redis when
// DATABASE_URL and REDIS_URL are set) and every endpoint (client credentials, introspection), a fresh
// server process runs under `node --cpu-prof` while wrk loads it for BENCH_PROFILE_SECONDS (10), then
// stops, which writes its profile. The profiles land in bench/profiles/<server>-<endpoint>/ (open them
// in Chrome DevTools); bench/profiles/summary.md lists each one's top frames by self time and its time
// by module. Same placement as the bench (pinning.ts); Gatehouse with default settings (logging at info).
import fs from 'node:fs';
import path from 'node:path';
import { generateSecretKey } from '../../src/domain/secrets.ts';
import { basicAuthorization, createAgent, request, signIn, type Target } from './browser.ts';
import { ROOT, freePort, spawnNode, stopAll, waitUntilReady, type Env } from './processes.ts';
import { prepareStorage, seedGatehouse, type StorageSetup } from './storage.ts';
import { pinProcess, placement } from './pinning.ts';
import { runWrk, type WrkRequest } from './wrk.ts';

const SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 10);
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);
const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
const OUT = path.join(ROOT, 'bench', 'profiles');
const log = (m: string) => process.stdout.write(`[profile] ${m}\n`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/<pkg>` (scoped too), `src/<dir>`, or the kind of frame (`(garbage collector)`, `node:…`). */
function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  const src = /\/(src|scripts)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/**
 * Top frames by self time over the last `windowSeconds` of the profile: the measured load, which ends
 * right before the server is stopped (start-up, module loading and the warm-up are left out).
 */
export function summarise(file: string, windowSeconds: number): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const from = profile.endTime - windowSeconds * 1e6;
  const hitsOf = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from) return;
    hitsOf.set(nodeId, (hitsOf.get(nodeId) ?? 0) + 1);
    total++;
  });
  total ||= 1;
  const seconds = Math.min(windowSeconds, (profile.endTime - profile.startTime) / 1e6);
  const byFrame = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = hitsOf.get(n.id) ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const frame = `${functionName || '(anonymous)'} ${moduleOf(url, functionName)}${url ? `:${lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
    const mod = moduleOf(url, functionName);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
  }
  const pct = (h: number) => `${((100 * h) / total).toFixed(1)}%`;
  const idle = byFrame.get('(idle) (idle)') ?? 0;
  const lines = [`${total} samples over the last ${seconds.toFixed(1)} s (the measured load), busy ${pct(total - idle)}`, '', '| self | frame |', '|---:|---|'];
  for (const [f, h] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, TOP)) lines.push(`| ${pct(h)} | \`${f}\` |`);
  lines.push('', '| self | module |', '|---:|---|');
  for (const [m, h] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`| ${pct(h)} | \`${m}\` |`);
  return lines.join('\n');
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function main(): Promise<void> {
  const where = placement();
  pinProcess(process.pid, where.loadGenerator);
  fs.mkdirSync(OUT, { recursive: true });
  const secretKey = generateSecretKey();
  const setups: { key: string; storage: StorageSetup; env: Env }[] = [];
  const production = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  for (const key of production ? ['production', 'embedded'] : ['embedded']) {
    const storage = await prepareStorage(key === 'production' ? process.env : {});
    setups.push({
      key,
      storage,
      env: {
        ...(key === 'production' ? { NODE_ENV: 'production', WORKERS: '1' } : {}),
        HOST: '127.0.0.1',
        GATEHOUSE_SECRET_KEY: secretKey,
        LOGIN_MAX_PER_IP: '100000000',
        ...storage.gatehouseEnv,
      },
    });
  }
  const summaries: string[] = ['# CPU profiles under the bench load', '', `Generated by \`npm run bench:profile\` (${SECONDS} s of wrk -t1 -c8 per profile, ${new Date().toISOString()}).`];
  try {
    const servers: { name: string; script: string; env: Env; ready: string }[] = [];
    let clientId = '';
    let clientSecret = '';
    for (const s of setups) {
      const seeded = await seedGatehouse({ ...s.env, PORT: '1', ISSUER: 'http://127.0.0.1:1' }, REDIRECT_URI, { password: 5, mfa: 0 });
      ({ clientId, clientSecret } = seeded);
      s.env.BENCH_EMAIL = seeded.passwordAccounts[0]?.email;
      s.env.BENCH_PASSWORD = seeded.password;
      servers.push({ name: `gatehouse_${s.key}`, script: path.join(ROOT, 'src', 'main.ts'), env: { ...s.env, BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret }, ready: '/readyz' });
    }
    servers.unshift({
      name: 'bare_memory',
      script: path.join(ROOT, 'scripts', 'bench', 'bare-provider.ts'),
      env: { NODE_ENV: 'production', GATEHOUSE_SECRET_KEY: secretKey, BARE_STORAGE: 'memory', BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret, BENCH_REDIRECT_URI: REDIRECT_URI, BENCH_EMAIL: 'bench@bench.example', BENCH_PASSWORD: 'x' },
      ready: '/.well-known/openid-configuration',
    });
    for (const server of servers) {
      const cid = server.env.BENCH_CLIENT_ID as string;
      const secret = server.env.BENCH_CLIENT_SECRET as string;
      for (const endpoint of ['client_credentials', 'introspection'] as const) {
        const port = await freePort();
        const dir = path.join(OUT, `${server.name}-${endpoint}`);
        fs.rmSync(dir, { recursive: true, force: true });
        const env = { ...server.env, PORT: String(port), ISSUER: `http://127.0.0.1:${port}` };
        const child = spawnNode(server.name, server.script, env, ['--cpu-prof', '--cpu-prof-dir', dir], where.servers);
        const url = `http://127.0.0.1:${port}`;
        await waitUntilReady(child, `${url}${server.ready}`);
        const target: Target = { url, clientId: cid, clientSecret: secret, redirectUri: REDIRECT_URI };
        let req: WrkRequest;
        if (endpoint === 'client_credentials') {
          req = { url: `${url}/token`, authorization: basicAuthorization(target), body: form({ grant_type: 'client_credentials' }), contains: '"token_type":"Bearer"' };
        } else {
          const agent = createAgent(1);
          const { accessToken } = await signIn(agent, target, { email: server.env.BENCH_EMAIL as string, password: server.env.BENCH_PASSWORD as string });
          const body = form({ token: accessToken, token_type_hint: 'access_token' });
          const res = await request(agent, 'POST', new URL('/token/introspection', url), { authorization: basicAuthorization(target), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body);
          agent.destroy();
          req = { url: `${url}/token/introspection`, authorization: basicAuthorization(target), body, expectBody: res.body };
        }
        await runWrk(req, 2, 8, where);
        const run = await runWrk(req, SECONDS, 8, where);
        await child.stop();
        const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        log(`${server.name} ${endpoint}: ${run.per_second.toFixed(0)}/s (${run.errors + run.bad_responses} failures) → ${file ? path.join(dir, file) : 'no profile'}`);
        summaries.push('', `## ${server.name}, ${endpoint}: ${run.per_second.toFixed(0)} requests/s under the profiler`, '', file ? summarise(path.join(dir, file), SECONDS) : '(no profile written)');
      }
    }
  } finally {
    await stopAll();
    for (const s of setups) await s.storage.dispose();
  }
  fs.writeFileSync(path.join(OUT, 'summary.md'), `${summaries.join('\n')}\n`);
  process.stdout.write(`${summaries.join('\n')}\n\nwritten: bench/profiles/summary.md and the .cpuprofile files beside it\n`);
}

/** `npm run bench:profile -- --summarise`: the summary of the profiles already in bench/profiles, without a new run. */
function resummarise(): void {
  const parts = ['# CPU profiles under the bench load (re-summarised)'];
  for (const dir of fs.readdirSync(OUT).sort()) {
    const full = path.join(OUT, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    const file = fs.readdirSync(full).find((f) => f.endsWith('.cpuprofile'));
    if (file) parts.push('', `## ${dir}`, '', summarise(path.join(full, file), SECONDS));
  }
  process.stdout.write(`${parts.join('\n')}\n`);
}

if (process.argv.includes('--summarise')) resummarise();
else await main();
