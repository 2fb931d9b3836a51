// `npm run bench:ab`: interleaved A/B rounds of sign-in flows between checkouts of Gatehouse, by the
// server's CPU per flow and by thread. The full bench cannot resolve a change of a millisecond per flow
// (its figures move by more than that between runs on unchanged code); servers measured in alternating
// rounds, on the same seeded storage and the same CPU, can. Every checkout in BENCH_AB_ROOTS (default:
// this one; a second one is typically `git worktree add ../before <commit>` with this node_modules
// linked into it) serves its own server; each round drives BENCH_AB_FLOWS flows (8 in flight, a fresh
// account each) at every server in turn, the order reversed every other round. A server's figure is
// utime + stime of its process per flow, from /proc, split into the event loop, the libuv pool
// (argon2id, WebCrypto, lmdb's commits) and V8's worker threads (garbage collection).
//   BENCH_AB_MODE   embedded (default) | production (DATABASE_URL and REDIS_URL)
//   BENCH_AB_FLOW   password (default) | password_totp
//   BENCH_AB_ROUNDS 8, BENCH_AB_FLOWS 150
//   BENCH_AB_BARE   1: also the bare oidc-provider on memory (its one-form sign-in, no password check,
//                   no storage): what the library's own flow costs, the floor under every checkout
// argon2id runs with m=8192 t=1 unless ARGON2_* say otherwise, so that the rest of the flow shows.
import fs from 'node:fs';
import path from 'node:path';
import { generateSecretKey } from '../../src/domain/secrets.ts';
import { driveFlows, type Target } from './browser.ts';
import { threadTicks, ticksToSeconds } from './cpu.ts';
import { median } from './report.ts';
import { ROOT, freePort, spawnNode, stopAll, waitUntilReady, type Child } from './processes.ts';
import { argon2Env, bareBenchEnv, gatehouseBenchEnv, prepareStorage, seedGatehouse } from './storage.ts';
import { pinProcess, placement } from './pinning.ts';

const ROOTS = (process.env.BENCH_AB_ROOTS ?? ROOT).split(',').map((r) => path.resolve(r));
const MODE = (['embedded', 'production'] as const).find((mode) => mode === (process.env.BENCH_AB_MODE ?? 'embedded'));
const FLOW = process.env.BENCH_AB_FLOW ?? 'password';
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 8);
const WITH_BARE = process.env.BENCH_AB_BARE === '1';
const FLOWS = Number(process.env.BENCH_AB_FLOWS ?? 150);
const WARMUP_FLOWS = 30;
const CONCURRENCY = 8;
const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
const log = (m: string) => process.stdout.write(`[ab] ${m}\n`);

interface Measured {
  /** A, B, … in the order of BENCH_AB_ROOTS, with the checkout */
  label: string;
  child: Child;
  target: Target;
  /** per round: CPU milliseconds per flow by thread kind */
  rounds: Record<string, number>[];
}

const total = (byThread: Record<string, number>) => Object.values(byThread).reduce((a, b) => a + b, 0);
const ms = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  if (!MODE || !['password', 'password_totp'].includes(FLOW)) throw new Error('BENCH_AB_MODE: embedded | production; BENCH_AB_FLOW: password | password_totp');
  if (MODE === 'production' && !(process.env.DATABASE_URL && process.env.REDIS_URL)) throw new Error('BENCH_AB_MODE=production needs DATABASE_URL and REDIS_URL');
  for (const root of ROOTS) if (!fs.existsSync(path.join(root, 'src', 'main.ts'))) throw new Error(`${root} is not a Gatehouse checkout`);
  const where = placement();
  pinProcess(process.pid, where.loadGenerator);
  const storage = await prepareStorage(MODE === 'production' ? process.env : {});
  try {
    const secretKey = generateSecretKey();
    const env = gatehouseBenchEnv(MODE, storage, secretKey, argon2Env('8192', '1'));
    const needed = (ROOTS.length + (WITH_BARE ? 1 : 0)) * (WARMUP_FLOWS + ROUNDS * FLOWS);
    const seeded = await seedGatehouse({ ...env, PORT: '1', ISSUER: 'http://127.0.0.1:1' }, REDIRECT_URI, FLOW === 'password' ? { password: needed, mfa: 0 } : { password: 0, mfa: needed });
    const accounts = FLOW === 'password' ? seeded.passwordAccounts : seeded.mfaAccounts;
    log(`${MODE}, ${FLOW}: seeded ${needed} accounts in ${seeded.seconds.toFixed(0)} s; argon2id m=${env.ARGON2_MEMORY_KIB} t=${env.ARGON2_TIME_COST}`);
    // the embedded database has one owner at a time: every further server gets a copy of the seeded one
    const dataDirs = ROOTS.map((_, i) => {
      if (MODE !== 'embedded' || i === 0) return {};
      const dir = `${env.DATA_DIR as string}-${i}`;
      fs.cpSync(env.DATA_DIR as string, dir, { recursive: true });
      return { DATA_DIR: dir };
    });
    const servers: Measured[] = [];
    for (const [i, root] of ROOTS.entries()) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = spawnNode(`gatehouse-${i}`, path.join(root, 'src', 'main.ts'), { ...env, ...dataDirs[i], PORT: String(port), ISSUER: url }, [], where.servers);
      await waitUntilReady(child, `${url}/readyz`);
      servers.push({ label: `${String.fromCharCode(65 + i)} (${root})`, child, target: { url, clientId: seeded.clientId, clientSecret: seeded.clientSecret, redirectUri: REDIRECT_URI }, rounds: [] });
    }
    if (WITH_BARE) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const bareEnv = { ...bareBenchEnv(secretKey, seeded, REDIRECT_URI), BARE_STORAGE: 'memory', PORT: String(port), ISSUER: url };
      const child = spawnNode('bare', path.join(ROOT, 'scripts', 'bench', 'bare-provider.ts'), bareEnv, [], where.servers);
      await waitUntilReady(child, `${url}/.well-known/openid-configuration`);
      servers.push({ label: 'bare oidc-provider (memory)', child, target: { url, clientId: seeded.clientId, clientSecret: seeded.clientSecret, redirectUri: REDIRECT_URI }, rounds: [] });
    }
    for (const s of servers) await driveFlows(s.target, accounts.splice(0, WARMUP_FLOWS), seeded.password, CONCURRENCY);
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of r % 2 ? [...servers].reverse() : servers) {
        const before = threadTicks(s.child.pid);
        const started = performance.now();
        await driveFlows(s.target, accounts.splice(0, FLOWS), seeded.password, CONCURRENCY);
        const seconds = (performance.now() - started) / 1000;
        const after = threadTicks(s.child.pid);
        const perFlow = Object.fromEntries(Object.keys(after).map((k) => [k, (1000 * ticksToSeconds((after[k] ?? 0) - (before[k] ?? 0))) / FLOWS]));
        s.rounds.push(perFlow);
        log(`round ${r + 1}, ${s.label}: ${(FLOWS / seconds).toFixed(1)} flows/s, ${ms(total(perFlow))} ms CPU per flow (event loop ${ms(perFlow.main ?? 0)}, pool ${ms(perFlow['libuv-worker'] ?? 0)}, V8 ${ms(perFlow.V8Worker ?? 0)})`);
      }
    }
    const lines = ['', `| checkout | CPU per flow, rounds | median | event loop | libuv pool | V8 workers |`, '|---|---|---:|---:|---:|---:|'];
    for (const s of servers) {
      const of = (kind: string) => ms(median(s.rounds.map((r) => r[kind] ?? 0)));
      lines.push(`| ${s.label} | ${s.rounds.map((r) => ms(total(r))).join(' ')} | ${ms(median(s.rounds.map(total)))} ms | ${of('main')} | ${of('libuv-worker')} | ${of('V8Worker')} |`);
    }
    if (ROOTS.length === 2) {
      const [a, b] = servers as [Measured, Measured];
      const lower = a.rounds.filter((r, i) => total(b.rounds[i] ?? {}) < total(r)).length;
      lines.push('', `${b.label} used less CPU per flow than ${a.label} in ${lower} of ${ROUNDS} rounds.`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stopAll();
    await storage.dispose();
  }
}

await main();
