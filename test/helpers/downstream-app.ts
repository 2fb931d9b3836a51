// The demo downstream app "Acme MDR" (examples/downstream-app) as a separate process signing in
// through a test Gatehouse: its client is registered with the app's callback, post-logout and
// back-channel logout URIs, then `node examples/downstream-app/main.ts` runs on a free port. Plus
// what end-to-end tests of unified login need: Gatehouse users with an authenticator, local users of
// the app with its own 2FA, exact-action form submission and the dashboard's facts.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, type TestGatehouse } from './gatehouse.ts';
import { seedAccount, uniq } from './seed.ts';
import { Authenticator, importAuthenticator, newTotpSecret } from './mfa.ts';
import { findForm, type Page, type UserAgent } from './user-agent.ts';
import type { Runtime } from '../../src/runtime.ts';
import { createJsonFileStore, createLocalUser } from '../../examples/downstream-app/app.ts';
import type { DownstreamStore, LocalUser } from '../../examples/downstream-app/app.ts';

export const DEMO_ADMIN = { email: 'admin@acme.test', password: 'acme admin password' } as const;

export interface DemoAppProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  clientId: string;
  child: ChildProcess;
  /** everything the process wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const appMain = path.resolve('examples/downstream-app/main.ts');

/** Registers the app at Gatehouse, starts it as a child process and waits until it answers. */
export async function startDemoAppProcess(
  gh: TestGatehouse,
  options: {
    env?: Record<string, string>;
    name?: string;
    /** fills the app's data file before it starts (users that already have local 2FA, links to Gatehouse). */
    prepare?: (store: DownstreamStore) => Promise<void>;
  } = {},
): Promise<DemoAppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const registered = await gh.runtime.clients.register({
    name: options.name ?? `Acme MDR ${uniq()}`,
    redirectUris: [`${url}/callback`],
    postLogoutRedirectUris: [`${url}/signed-out`],
    backchannelLogoutUri: `${url}/backchannel-logout`,
    firstParty: true,
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'acme-mdr-'));
  const dataFile = path.join(dataDir, 'acme-mdr.json');
  if (options.prepare) await options.prepare(await createJsonFileStore(dataFile));
  const child = spawn(process.execPath, [appMain], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      PORT: String(port),
      PUBLIC_URL: url,
      GATEHOUSE_ISSUER: gh.issuer,
      CLIENT_ID: registered.client_id,
      CLIENT_SECRET: registered.client_secret ?? '',
      DATA_FILE: dataFile,
      SEED_ADMIN_EMAIL: DEMO_ADMIN.email,
      SEED_ADMIN_PASSWORD: DEMO_ADMIN.password,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo app exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/login`, { redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the demo app did not answer on ${url} within 30 s:\n${output}`);
    }
    await sleep(100);
  }
  return { url, clientId: registered.client_id, child, output: () => output, stop };
}

/**
 * A local user of the app that already has its own 2FA (as if enrolled in Settings > Account), with a
 * password for direct sign-in or a link to a Gatehouse `sub` for unified login.
 */
export async function addLocalUserWithTotp(
  store: DownstreamStore,
  input: { email: string; name?: string; password?: string; gatehouseSub?: string },
): Promise<{ user: LocalUser; authenticator: Authenticator }> {
  const name = input.name ?? input.email;
  const user = input.password !== undefined
    ? await createLocalUser(store, { email: input.email, name, password: input.password })
    : await store.createUser({ email: input.email, name, passwordHash: null, gatehouseSub: input.gatehouseSub ?? null });
  if (input.password !== undefined && input.gatehouseSub) await store.linkGatehouseSub(user.id, input.gatehouseSub);
  const authenticator = new Authenticator(newTotpSecret());
  await store.enableTotp(user.id, authenticator.secret, [], 0);
  return { user, authenticator };
}

/** A Gatehouse account with a confirmed authenticator (imported), and that authenticator. */
export async function seedMfaAccount(runtime: Runtime, tenant: { id: string; name: string }, overrides: { email?: string; name?: string } = {}) {
  const account = await seedAccount(runtime, tenant.id, overrides);
  return { account, authenticator: await importAuthenticator(runtime, account) };
}

const decode = (s: string) => s.replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Submits the form whose action is exactly `action` (the demo app has both `/login` and `/login/gatehouse`). */
export async function submitExact(agent: UserAgent, page: Page, action: string, fields: Record<string, string>, stopAt?: string): Promise<Page> {
  const forms = [...page.html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>/g)];
  const index = forms.findIndex((f) => decode(f[1] ?? '') === action);
  if (index < 0) throw new Error(`no form with action ${action} on ${page.url}:\n${page.html.slice(0, 2000)}`);
  // findForm takes the first form whose action contains its argument: hand it this form onwards.
  const rest = page.html.slice(forms[index]?.index ?? 0);
  const { hidden } = findForm(rest, action);
  const body = new URLSearchParams({ ...hidden, ...fields });
  return agent.follow(new URL(action, page.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, stopAt);
}

export interface DashboardFacts {
  path: string;
  amr: string[];
  acr: string;
  reason: string;
  localFactor: string;
}

/** What the demo app's dashboard shows about the sign-in (its `data-field` elements). */
export function dashboardFacts(page: Page): DashboardFacts {
  const fieldText = (name: string) => {
    const match = new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(page.html);
    if (!match) throw new Error(`not the dashboard (no ${name}): ${page.status} ${page.url}\n${page.html.slice(0, 3000)}`);
    return decode(match[1] ?? '').trim();
  };
  return {
    path: fieldText('path'),
    amr: JSON.parse(fieldText('amr')) as string[],
    acr: fieldText('acr'),
    reason: fieldText('reason'),
    localFactor: fieldText('local-factor'),
  };
}

/** The setup key the demo app's own 2FA setup page shows, without spaces. */
export function appSetupKeyOf(page: Page): string {
  const match = /class="setup-key"[^>]*>([^<]+)</.exec(page.html);
  if (!match) throw new Error(`no setup key on ${page.url}:\n${page.html.slice(0, 3000)}`);
  return (match[1] ?? '').replace(/\s+/g, '');
}
