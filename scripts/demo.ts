/**
 * `npm run demo`: unified login end to end on one machine. Seeds Gatehouse's embedded database
 * (tenants, four users, the demo app's client registration), then runs Gatehouse and the demo
 * downstream app "Acme MDR" as child processes and prints where to go and how to sign in.
 * Running it again reuses the same data (./data/demo). Ctrl-C stops both.
 * Gatehouse answers at http://localhost:<port>: a passkey's relying-party ID must be a domain name,
 * and localhost is a secure context without TLS, so the passkey walkthrough works in any browser.
 *
 * Environment (all optional):
 *   GATEHOUSE_PORT   Gatehouse's port (default 3000)
 *   APP_PORT         Acme MDR's port (default 4000)
 *   DEMO_LOG_LEVEL   log level of both processes (default warn)
 *   DEMO_DATA_DIR    where the demo keeps its data (default ./data/demo)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import QRCode from 'qrcode';
import { envSchema, loadConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/http/logger.ts';
import { openRuntime, type Runtime } from '../src/runtime.ts';
import { bootstrapOf } from '../src/setup/routes.ts';
import { formatSetupKey, totpUri } from '../src/domain/mfa/totp.ts';
import { createJsonFileStore } from '../examples/downstream-app/app.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_DIR = path.resolve(process.env.DEMO_DATA_DIR || path.join(ROOT, 'data', 'demo'));
const GATEHOUSE_DIR = path.join(DEMO_DIR, 'gatehouse');
const APP_DATA_FILE = path.join(DEMO_DIR, 'acme-mdr.json');
const CLIENT_FILE = path.join(DEMO_DIR, 'acme-mdr-client.json');

const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a port number (1-65535), not "${raw}"`);
  return value;
};
const GATEHOUSE_PORT = port('GATEHOUSE_PORT', 3000);
const APP_PORT = port('APP_PORT', 4000);
const LOG_LEVEL = process.env.DEMO_LOG_LEVEL || 'warn';
const ISSUER = `http://localhost:${GATEHOUSE_PORT}`;
const APP_URL = `http://127.0.0.1:${APP_PORT}`;

/** Everyone's Gatehouse password in the demo. */
const DEMO_PASSWORD = 'unified-login-demo';
/** Alice's authenticator: fixed, so the printed setup key keeps working across runs (base32, 160 bits). */
const ALICE_TOTP_KEY = 'DEMOTOTPKEYFORGATEHOUSEACMEMDR23';
const APP_ADMIN = { email: 'admin@acme.example', password: 'acme-mdr-admin' };

const USERS = {
  alice: { email: 'alice@northwind.example', name: 'Alice Analyst', tenant: 'northwind-traders' },
  bob: { email: 'bob@northwind.example', name: 'Bob Builder', tenant: 'northwind-traders' },
  carol: { email: 'carol@contoso.example', name: 'Carol Compliance', tenant: 'contoso-security' },
  dave: { email: 'dave@northwind.example', name: 'Dave Passkey', tenant: 'northwind-traders' },
} as const;

// ——— seeding (idempotent: everything is looked up first and created only when missing) ———

type TenantKind = 'distributor' | 'sub_reseller' | 'organization';

async function ensureTenant(runtime: Runtime, slug: string, kind: TenantKind, name: string, parentId?: string) {
  const existing = await runtime.repos.tenants.findBySlug(slug);
  if (existing) return existing;
  const created = await runtime.directory.createTenant({ kind, name, ...(parentId ? { parent: parentId } : {}) }, { requestId: 'demo' });
  if (created.slug !== slug) throw new Error(`tenant "${name}" got slug ${created.slug}, expected ${slug}: use a fresh ${DEMO_DIR}`);
  return created;
}

async function ensureAccount(runtime: Runtime, user: (typeof USERS)[keyof typeof USERS]) {
  const tenant = await runtime.directory.tenantByRef(user.tenant);
  const existing = await runtime.repos.accounts.findInTenant(tenant.id, user.email);
  if (existing) return { id: existing.id, tenant };
  const account = await runtime.directory.createAccount({ tenant: tenant.id, email: user.email, name: user.name, password: DEMO_PASSWORD }, { requestId: 'demo' });
  return { id: account.id, tenant };
}

interface DemoClient {
  clientId: string;
  clientSecret: string;
  appUrl: string;
}

function readClientFile(): DemoClient | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(CLIENT_FILE, 'utf8')) as Partial<DemoClient>;
    return typeof parsed.clientId === 'string' && typeof parsed.clientSecret === 'string' && typeof parsed.appUrl === 'string'
      ? { clientId: parsed.clientId, clientSecret: parsed.clientSecret, appUrl: parsed.appUrl }
      : undefined;
  } catch {
    return undefined;
  }
}

const appUris = (appUrl: string) => ({
  redirect_uris: [`${appUrl}/callback`],
  post_logout_redirect_uris: [`${appUrl}/signed-out`],
  backchannel_logout_uri: `${appUrl}/backchannel-logout`,
  backchannel_logout_session_required: true,
});

/** The client registered on an earlier run (its secret is only in the client file), or a new one. */
async function ensureClient(runtime: Runtime): Promise<DemoClient> {
  const saved = readClientFile();
  const row = saved ? await runtime.repos.clients.find(saved.clientId) : undefined;
  if (saved && row) {
    if (saved.appUrl !== APP_URL) {
      await runtime.repos.clients.update(saved.clientId, { metadata: { ...row.metadata, ...appUris(APP_URL) } });
      saved.appUrl = APP_URL;
      fs.writeFileSync(CLIENT_FILE, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
    }
    return saved;
  }
  const uris = appUris(APP_URL);
  const registered = await runtime.clients.register(
    {
      name: 'Acme MDR',
      redirectUris: uris.redirect_uris,
      postLogoutRedirectUris: uris.post_logout_redirect_uris,
      backchannelLogoutUri: uris.backchannel_logout_uri,
      firstParty: true,
    },
    { requestId: 'demo' },
  );
  if (!registered.client_secret) throw new Error('the demo client was registered without a secret');
  const client = { clientId: registered.client_id, clientSecret: registered.client_secret, appUrl: APP_URL };
  fs.writeFileSync(CLIENT_FILE, `${JSON.stringify(client, null, 2)}\n`, { mode: 0o600 });
  return client;
}

async function seedGatehouse(config: Config): Promise<DemoClient> {
  const logger = createLogger({ logLevel: 'warn' });
  // No server runs yet: this process opens the embedded database itself, then closes it for the server.
  const runtime = await openRuntime(config, logger, { role: 'client' });
  try {
    await bootstrapOf(runtime).platform();
    const distributor = await ensureTenant(runtime, 'acme-distribution', 'distributor', 'Acme Distribution');
    await ensureTenant(runtime, 'northwind-traders', 'organization', 'Northwind Traders', distributor.id);
    const reseller = await ensureTenant(runtime, 'secure-resellers', 'sub_reseller', 'Secure Resellers', distributor.id);
    // "Enforce MFA for all organizations" on the partner: Contoso's users must set up an authenticator
    await runtime.repos.tenants.setPolicy(reseller.id, { enforceMfaOrganizations: true });
    await ensureTenant(runtime, 'contoso-security', 'organization', 'Contoso Security', reseller.id);

    const alice = await ensureAccount(runtime, USERS.alice);
    if (!(await runtime.mfa.hasAuthenticator(alice.id))) {
      await runtime.mfa.importTotp(
        { id: alice.id, email: USERS.alice.email, name: USERS.alice.name, tenantId: alice.tenant.id, tenantName: alice.tenant.name },
        ALICE_TOTP_KEY,
        { requestId: 'demo' },
      );
    }
    await ensureAccount(runtime, USERS.bob);
    await ensureAccount(runtime, USERS.carol);
    await ensureAccount(runtime, USERS.dave);
    return await ensureClient(runtime);
  } finally {
    await runtime.close();
  }
}

/** Acme MDR requires its own 2FA from the start, so the bypass is visible; later runs keep what was changed in the app. */
async function prepareAppData(): Promise<void> {
  if (fs.existsSync(APP_DATA_FILE)) return;
  const store = await createJsonFileStore(APP_DATA_FILE);
  await store.updateSettings({ requireTwoFactor: true });
}

// ——— processes ———

function portFree(portNumber: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(portNumber, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (each process's graceful stop), then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const children: Child[] = [];

/**
 * `node <script>` (this Node, from the repository root) with this environment minus every Gatehouse
 * setting (so a DATABASE_URL or REDIS_URL of the shell does not leak into the embedded demo), plus `env`.
 */
function spawnNode(name: string, script: string, env: Record<string, string>): Child {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(envSchema.shape)) delete childEnv[key];
  const proc = spawn(process.execPath, [script], { cwd: ROOT, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const child: Child = {
    name,
    process: proc,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.push(child);
  forward(child);
  return child;
}

/** Stops the processes in the reverse order of their start. */
async function stopAll(): Promise<void> {
  for (const child of [...children].reverse()) await child.stop();
}

// whatever ends this process, its children do not outlive it
process.once('exit', () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
});

/** Copies a child's output to this terminal, each line prefixed with its name. */
function forward(child: Child): void {
  for (const [stream, out] of [[child.process.stdout, process.stdout], [child.process.stderr, process.stderr]] as const) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) out.write(`[${child.name}] ${line}\n`);
    });
  }
}

async function waitUntilAnswering(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} stopped during start (exit ${child.process.exitCode ?? child.process.signalCode})`);
    }
    try {
      const res = await fetch(url, { redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

async function summary(): Promise<string> {
  const uri = totpUri({ issuer: 'Gatehouse', label: USERS.alice.email, secret: ALICE_TOTP_KEY });
  // the QR code is drawn with terminal colours: only on a terminal, not into a log file
  const qr = process.stdout.isTTY ? await QRCode.toString(uri, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }) : '';
  return [
    '',
    '  Unified login demo is running',
    '',
    `  Acme MDR (demo app)   ${APP_URL}      <- open this, "Sign in with Gatehouse"`,
    `  Gatehouse             ${ISSUER}`,
    '',
    `  Gatehouse users (password for all: ${DEMO_PASSWORD})`,
    `    ${USERS.alice.email.padEnd(26)} has an authenticator: Acme MDR skips its own 2FA (unified_mfa_satisfied)`,
    `    ${USERS.bob.email.padEnd(26)} password only: Acme MDR asks for its own 2FA, or "Ask Gatehouse for MFA instead"`,
    `    ${USERS.carol.email.padEnd(26)} her partner enforces MFA: Gatehouse makes her set up an authenticator first`,
    `    ${USERS.dave.email.padEnd(26)} adds a passkey, then signs in with it alone (below)`,
    '',
    '  Passkey sign-in (phishing-resistant MFA, no password):',
    `    1. Open ${ISSUER}/account/security, sign in as ${USERS.dave.email}, "Add a passkey or security key".`,
    `    2. Open Acme MDR, "Sign in with Gatehouse", then "Sign in with a passkey".`,
    '    3. Acme MDR skips its own 2FA: amr ["hwk","user","mfa"] (or "swk" for a synced passkey), acr urn:gatehouse:acr:phr.',
    '',
    `  Alice's authenticator setup key (add it to any authenticator app, time-based${qr ? ', or scan below' : ''}):`,
    `    ${formatSetupKey(ALICE_TOTP_KEY)}`,
    `    ${uri}`,
    '',
    ...(qr ? [qr.replace(/^/gm, '    ')] : []),
    `  Acme MDR's own administrator (direct sign-in, its own 2FA): ${APP_ADMIN.email} / ${APP_ADMIN.password}`,
    '  Acme MDR > Settings > Account: "Require 2FA for sign-in" (on at first start) does not change unified sign-in with MFA.',
    '  Signing out at Gatehouse ends the Acme MDR session too (back-channel logout).',
    '',
    `  Data: ${path.relative(process.cwd(), DEMO_DIR) || DEMO_DIR} (delete it to start over). Ctrl-C stops both.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  for (const [name, p] of [['GATEHOUSE_PORT', GATEHOUSE_PORT], ['APP_PORT', APP_PORT]] as const) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use (another demo or Gatehouse running?); stop it or set ${name}`);
  }
  fs.mkdirSync(DEMO_DIR, { recursive: true, mode: 0o700 });

  const gatehouseEnv = {
    DATA_DIR: GATEHOUSE_DIR,
    PORT: String(GATEHOUSE_PORT),
    HOST: '127.0.0.1',
    ISSUER,
    FETCH_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL,
    NODE_ENV: 'development',
  };
  process.stdout.write(`Seeding Gatehouse in ${GATEHOUSE_DIR} ...\n`);
  const client = await seedGatehouse(loadConfig(gatehouseEnv));
  await prepareAppData();

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping Acme MDR and Gatehouse ...\n');
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  // the embedded default: no DATABASE_URL / REDIS_URL (spawnNode drops every Gatehouse setting it inherits)
  const gatehouse = spawnNode('gatehouse', path.join(ROOT, 'src', 'main.ts'), gatehouseEnv);
  void gatehouse.exited.then(({ code, signal }) => {
    if (!stopping) {
      process.stderr.write(`Gatehouse stopped (${signal ?? `exit ${code}`}).\n`);
      void stop(1);
    }
  });
  await waitUntilAnswering(gatehouse, `${ISSUER}/.well-known/openid-configuration`);

  const app = spawnNode('acme-mdr', path.join(ROOT, 'examples', 'downstream-app', 'main.ts'), {
    PORT: String(APP_PORT),
    PUBLIC_URL: APP_URL,
    GATEHOUSE_ISSUER: ISSUER,
    CLIENT_ID: client.clientId,
    CLIENT_SECRET: client.clientSecret,
    DATA_FILE: APP_DATA_FILE,
    SEED_ADMIN_EMAIL: APP_ADMIN.email,
    SEED_ADMIN_PASSWORD: APP_ADMIN.password,
    LOG_LEVEL,
  });
  void app.exited.then(({ code, signal }) => {
    if (!stopping) {
      process.stderr.write(`Acme MDR stopped (${signal ?? `exit ${code}`}).\n`);
      void stop(1);
    }
  });
  await waitUntilAnswering(app, `${APP_URL}/login`);

  process.stdout.write(await summary());
}

main().catch(async (error: unknown) => {
  process.stderr.write(`npm run demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
  await stopAll();
});
