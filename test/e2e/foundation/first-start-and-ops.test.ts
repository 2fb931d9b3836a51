// First start and operations: the one-time link creates the first platform operator
// and then stops working; /healthz, /readyz and /metrics; audit events for every security outcome;
// password attempts limited per account and per IP; and the real process prints what a newcomer needs
// while its logs never carry a password, a client secret or a token.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { backendName, testDatabaseUrl } from '../../helpers/db.ts';
import { testRedisUrl } from '../../helpers/redis.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent, textOf, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator } from '../../helpers/mfa.ts';
import { cliJson, createScratchPostgresDatabase, jsonLogLines, startGatehouseProcess, tempDataDir, type GatehouseProcess, type ProcessEnv, type ScratchDatabase } from '../../helpers/processes.ts';
import { bootstrapOf } from '../../../src/setup/routes.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { CSRF_COOKIE, csrfTokenFor, newCsrfSecret } from '../../../src/http/csrf.ts';

jest.setTimeout(90_000);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Audit events of one action, newest first, optionally about one target. */
const auditOf = (runtime: Runtime, action: string, target?: string) => runtime.repos.audit.list({ action, limit: 100, ...(target ? { target } : {}) });

/** Polls until the audit log has an event (some are written after the response). */
async function eventually<T>(read: () => Promise<T[]>, timeoutMs = 3000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await read();
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await sleep(50);
  }
}

/** The value of one Prometheus sample, e.g. `gatehouse_signins_total{outcome="success"}`. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function tryPassword(config: oidc.Configuration, email: string, password: string): Promise<Page> {
  const agent = new UserAgent();
  const start = await startAuthorization(config);
  const login = await agent.get(start.url.href, REDIRECT_URI);
  return agent.submit(login, '/login', { email, password }, REDIRECT_URI);
}

describe(`first start: the one-time setup link (${backendName()})`, () => {
  let gh: TestGatehouse;
  const operatorEmail = `operator-${uniq()}@example.com`;
  const operatorPassword = 'operator passphrase one';

  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(() => gh.stop());

  it('is issued on an empty database, valid for one hour, under the issuer', () => {
    expect(gh.setupLink?.link).toMatch(new RegExp(`^${gh.issuer}/setup/[A-Za-z0-9_-]{43}$`));
    const lifetime = (gh.setupLink?.expiresAt.getTime() ?? 0) - Date.now();
    expect(lifetime).toBeGreaterThan(59 * 60 * 1000);
    expect(lifetime).toBeLessThanOrEqual(60 * 60 * 1000);
  });

  it('refuses the setup form without its CSRF token, and mismatched passwords, leaving the link usable', async () => {
    const agent = new UserAgent();
    const page = await agent.get(gh.setupLink?.link ?? '');
    expect(page.status).toBe(200);
    expect(page.html).toContain('autocomplete="new-password"');
    const forged = await agent.request(gh.setupLink?.link ?? '', { method: 'POST', headers: FORM, body: new URLSearchParams({ email: 'attacker@example.com', password: 'attacker passphrase', password_confirm: 'attacker passphrase' }) });
    expect(forged.status).toBe(403);
    const mismatch = await agent.submit(page, '/setup/', { email: operatorEmail, password: operatorPassword, password_confirm: 'something else entirely' });
    expect(mismatch.status).toBe(400);
    expect(textOf(mismatch.html)).toContain('The two passwords do not match.');
    expect(await bootstrapOf(gh.runtime).hasOperator()).toBe(false);
  });

  it('creates the first platform operator through the page', async () => {
    const agent = new UserAgent();
    const page = await agent.get(gh.setupLink?.link ?? '');
    const done = await agent.submit(page, '/setup/', { name: 'Olga Operator', email: operatorEmail, password: operatorPassword, password_confirm: operatorPassword });
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain(`The platform operator ${operatorEmail} was created.`);
    expect(await bootstrapOf(gh.runtime).hasOperator()).toBe(true);
    const [completed] = await auditOf(gh.runtime, 'operator.setup_completed');
    expect(completed).toBeDefined();
  });

  it('is single-use: the page and the form refuse it afterwards', async () => {
    const agent = new UserAgent();
    const again = await agent.get(gh.setupLink?.link ?? '');
    expect(again.status).toBe(400);
    expect(textOf(again.html)).toContain('This setup link is not valid');
    // a submission that passes CSRF (the setup form's purpose) cannot use the spent link either
    const secret = newCsrfSecret();
    const res = await fetch(gh.setupLink?.link ?? '', {
      method: 'POST',
      headers: { ...FORM, cookie: `${CSRF_COOKIE}=${secret}` },
      body: new URLSearchParams({ _csrf: csrfTokenFor(secret, 'setup'), email: 'second@example.com', password: 'second passphrase', password_confirm: 'second passphrase' }),
    });
    expect([400, 409]).toContain(res.status);
    expect(textOf(await res.text())).toMatch(/already has a platform operator|expired or was already used/);
  });

  it('is not issued again once an operator exists (a restart prints no link)', async () => {
    const restarted = await startTestGatehouse({ database: gh.database, env: { GATEHOUSE_SECRET_KEY: gh.runtime.config.secretKeys ?? '' } });
    try {
      expect(restarted.setupLink).toBeUndefined();
    } finally {
      await restarted.stop();
    }
    expect(await bootstrapOf(gh.runtime).issueSetupLink(gh.issuer)).toBeUndefined();
  });

  it('lets the operator sign in with the chosen password', async () => {
    const config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
    const { tokens } = await passwordSignIn(config, operatorEmail, operatorPassword);
    expect(tokens.claims()).toMatchObject({ email: operatorEmail, name: 'Olga Operator', amr: ['pwd'] });
  });
});

describe(`operations endpoints, metrics and audit events (${backendName()})`, () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let client: { clientId: string; clientSecret?: string | undefined };
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime);
    account = await seedAccount(gh.runtime, tenant.id);
    client = await seedClient(gh.runtime);
    config = await rpConfig(gh.issuer, client);
  });
  afterAll(() => gh.stop());

  it('/healthz says the process is alive', async () => {
    const res = await fetch(`${gh.issuer}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it(`/readyz checks the database${testRedisUrl() ? ' and Redis' : ''}`, async () => {
    const res = await fetch(`${gh.issuer}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { database: 'ok', ...(testRedisUrl() ? { redis: 'ok' } : {}) } });
  });

  it('/readyz answers 503 naming the failed dependency (and not its error) when the database is unreachable', async () => {
    const database = gh.runtime.database;
    const ping = database.ping;
    database.ping = () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:5432 password=hunter2'));
    try {
      const res = await fetch(`${gh.issuer}/readyz`);
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ status: 'unavailable', checks: { database: 'failed' } });
      expect(body).not.toContain('ECONNREFUSED');
    } finally {
      database.ping = ping;
    }
    expect((await fetch(`${gh.issuer}/readyz`)).status).toBe(200);
  });

  it('/metrics speaks Prometheus text: requests by route (no ids in labels) and sign-ins by outcome', async () => {
    const before = await (await fetch(`${gh.issuer}/metrics`)).text();
    expect((await tryPassword(config, account.email, 'not the password')).status).toBe(401);
    await passwordSignIn(config, account.email);
    const res = await fetch(`${gh.issuer}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = await res.text();
    expect(after).toContain('# TYPE http_requests_total counter');
    expect(after).toContain('# TYPE http_request_duration_seconds histogram');
    expect(after).toContain('# TYPE gatehouse_signins_total counter');
    const success = 'gatehouse_signins_total{outcome="success"}';
    const bad = 'gatehouse_signins_total{outcome="bad_credentials"}';
    expect(sample(after, success) - sample(before, success)).toBe(1);
    expect(sample(after, bad) - sample(before, bad)).toBe(1);
    expect(after).toMatch(/^http_requests_total\{method="POST",route="\/interaction\/:uid\/login",status="30[23]"\} [1-9]/m);
    expect(sample(after, 'http_requests_total{method="POST",route="/interaction/:uid/login",status="401"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'http_requests_total{method="POST",route="/token",status="200"}')).toBeGreaterThanOrEqual(1);
    // labels carry route patterns only: no interaction uid, account id or client id
    const labels = after.split('\n').filter((l) => l.startsWith('http_request'));
    const routes = [...new Set(labels.map((l) => /route="([^"]*)"/.exec(l)?.[1] ?? ''))];
    // every segment of a route label is a lowercase word (e.g. .well-known, openid-configuration) or a :param
    const notAPattern = routes.filter((r) => r.split('/').slice(1).some((segment) => !/^(:[a-z_]+|[a-z.-]*)$/.test(segment)));
    expect(notAPattern).toEqual([]);
    expect(labels.filter((l) => l.includes(account.id) || l.includes(client.clientId))).toEqual([]);
  });

  it('/metrics counts MFA events by name wherever they are emitted: a wrong code, then the right one', async () => {
    const user = await seedAccount(gh.runtime, tenant.id);
    const app = await importAuthenticator(gh.runtime, user);
    const failed = 'gatehouse_mfa_events_total{event="mfa.totp.check_failed"}';
    const verified = 'gatehouse_mfa_events_total{event="mfa.totp.verified"}';
    const before = await (await fetch(`${gh.issuer}/metrics`)).text();
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const verify = await agent.submit(await agent.get(start.url.href, REDIRECT_URI), '/login', { email: user.email, password: PASSWORD }, REDIRECT_URI);
    const wrong = await agent.submit(verify, '/verify', { code: app.wrongCode() }, REDIRECT_URI);
    expect(wrong.status).toBe(401);
    await finishAuthorization(config, start, await agent.submit(wrong, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    const after = await (await fetch(`${gh.issuer}/metrics`)).text();
    expect(sample(after, failed) - sample(before, failed)).toBe(1);
    expect(sample(after, verified) - sample(before, verified)).toBe(1);
  });

  it('records a successful sign-in (auth.signed_in) with account, tenant, client, amr and request id', async () => {
    await passwordSignIn(config, account.email);
    const [event] = await auditOf(gh.runtime, 'auth.signed_in', account.id);
    expect(event).toMatchObject({ actorAccountId: account.id, tenantId: tenant.id, detail: { amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa', client_id: client.clientId } });
    expect(event?.requestId).toEqual(expect.any(String));
    expect(event?.ip).toEqual(expect.stringContaining('127.0.0.1'));
  });

  it('records a failed password (auth.password.failed) for a known and an unknown email alike, without the password', async () => {
    const before = (await auditOf(gh.runtime, 'auth.password.failed')).length;
    await tryPassword(config, account.email, 'wrong password one');
    await tryPassword(config, `nobody-${uniq()}@example.com`, 'wrong password two');
    const events = await auditOf(gh.runtime, 'auth.password.failed');
    expect(events.length - before).toBe(2);
    expect(JSON.stringify(events)).not.toMatch(/wrong password/);
  });

  it('asks a third-party client for consent once, and records consent.granted', async () => {
    const thirdParty = await seedClient(gh.runtime, { firstParty: false });
    const rp = await rpConfig(gh.issuer, thirdParty);
    const agent = new UserAgent();
    const start = await startAuthorization(rp);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const consent = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(consent.status).toBe(200);
    expect(textOf(consent.html)).toContain('Allow access');
    expect(textOf(consent.html)).toContain('See your email address');
    const callback = await agent.submit(consent, '/consent', {}, REDIRECT_URI);
    expect((await finishAuthorization(rp, start, callback)).claims()).toMatchObject({ sub: account.id });
    const [granted] = await auditOf(gh.runtime, 'consent.granted', thirdParty.clientId);
    expect(granted).toMatchObject({ actorAccountId: account.id, detail: { scopes: expect.arrayContaining(['openid', 'email', 'profile']) } });
    // remembered: the same browser signs in to that client again without a consent page
    const again = await startAuthorization(rp);
    const direct = await agent.get(again.url.href, REDIRECT_URI);
    expect(direct.url.startsWith(REDIRECT_URI)).toBe(true);
  });

  it('records a sign-out (auth.signed_out) for the account', async () => {
    const { tokens, agent } = await passwordSignIn(config, account.email);
    const before = (await auditOf(gh.runtime, 'auth.signed_out')).filter((e) => e.actorAccountId === account.id).length;
    const confirm = await agent.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://127.0.0.1:9/logged-out' }).href);
    await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' }, 'http://127.0.0.1:9/logged-out');
    const events = await eventually(async () => (await auditOf(gh.runtime, 'auth.signed_out')).filter((e) => e.actorAccountId === account.id).slice(before));
    expect(events).toHaveLength(1);
    expect(events[0]?.requestId).toEqual(expect.any(String));
  });

  it('records client registration (client.created) and key rotation (keys.rotated)', async () => {
    const created = await seedClient(gh.runtime, { name: 'Audited app' });
    const [clientEvent] = await auditOf(gh.runtime, 'client.created', created.clientId);
    expect(clientEvent).toMatchObject({ detail: { name: 'Audited app' } });
    const rotation = await gh.runtime.keys.rotate(gh.runtime.config.keyRetireAfterSeconds);
    const [keyEvent] = await auditOf(gh.runtime, 'keys.rotated');
    expect(keyEvent).toMatchObject({ detail: { activated: rotation.activated, created: rotation.created } });
  });
});

describe(`password attempts are rate-limited (${backendName()})`, () => {
  it('refuses the 4th attempt for one email with 429, even with the right password, while other accounts still sign in', async () => {
    const gh = await startTestGatehouse({ env: { LOGIN_MAX_PER_ACCOUNT: '3' } });
    try {
      const tenant = await seedTenant(gh.runtime);
      const target = await seedAccount(gh.runtime, tenant.id);
      const bystander = await seedAccount(gh.runtime, tenant.id);
      const config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
      for (let i = 0; i < 3; i++) expect((await tryPassword(config, target.email, `guess number ${i}`)).status).toBe(401);
      const fourth = await tryPassword(config, target.email, PASSWORD);
      expect(fourth.status).toBe(429);
      expect(textOf(fourth.html)).toMatch(/Too many sign-in attempts\. Try again in \d+ minutes\./);
      expect(fourth.url.startsWith(REDIRECT_URI)).toBe(false);
      // the email is matched case-insensitively, so changing its case does not reset the count
      expect((await tryPassword(config, target.email.toUpperCase(), PASSWORD)).status).toBe(429);
      // other accounts from the same address are not affected by a per-account limit
      await passwordSignIn(config, bystander.email);
      const [limited] = await auditOf(gh.runtime, 'auth.rate_limited');
      expect(limited).toMatchObject({ detail: { scope: 'account' } });
      const metrics = await (await fetch(`${gh.issuer}/metrics`)).text();
      expect(sample(metrics, 'gatehouse_signins_total{outcome="rate_limited"}')).toBe(2);
    } finally {
      await gh.stop();
    }
  });

  it('limits an unknown email the same way (no way to tell unknown from known by the limiter)', async () => {
    const gh = await startTestGatehouse({ env: { LOGIN_MAX_PER_ACCOUNT: '3' } });
    try {
      const config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
      const email = `ghost-${uniq()}@example.com`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await tryPassword(config, email, PASSWORD)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await gh.stop();
    }
  });

  it('refuses the 4th attempt from one IP address across different emails with 429', async () => {
    const gh = await startTestGatehouse({ env: { LOGIN_MAX_PER_IP: '3' } });
    try {
      const tenant = await seedTenant(gh.runtime);
      const config = await rpConfig(gh.issuer, await seedClient(gh.runtime));
      const accounts = await Promise.all([0, 1, 2, 3].map(() => seedAccount(gh.runtime, tenant.id)));
      for (const a of accounts.slice(0, 3)) expect((await tryPassword(config, a.email, 'a wrong password')).status).toBe(401);
      const fourth = await tryPassword(config, accounts[3]?.email ?? '', PASSWORD);
      expect(fourth.status).toBe(429);
      expect(textOf(fourth.html)).toContain('Too many sign-in attempts.');
      const [limited] = await auditOf(gh.runtime, 'auth.rate_limited');
      expect(limited).toMatchObject({ detail: { scope: 'ip' } });
    } finally {
      await gh.stop();
    }
  });
});

describe(`the gatehouse process: first-start banner and logs without secrets (${backendName()})`, () => {
  let proc: GatehouseProcess | undefined;
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let scratch: ScratchDatabase | undefined;
  let env: ProcessEnv;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    scratch = testDatabaseUrl() ? await createScratchPostgresDatabase() : undefined;
    env = {
      DATA_DIR: dataDir.dir,
      GATEHOUSE_SECRET_KEY: generateSecretKey(),
      DATABASE_URL: scratch?.url,
      REDIS_URL: testRedisUrl(),
      LOG_LEVEL: 'debug',
      LOGIN_MAX_PER_IP: '100000',
    };
    proc = await startGatehouseProcess(env);
  });
  afterAll(async () => {
    await proc?.stop();
    await scratch?.drop();
    dataDir.remove();
  });

  it('prints the issuer, the discovery URL and the one-time setup link; sets up, signs in, and never logs a secret', async () => {
    if (!proc) throw new Error('no process');
    const issuer = proc.url;
    const banner = proc.stdout();
    expect(banner).toContain(`Gatehouse is running: ${issuer}`);
    expect(banner).toContain(`Discovery: ${issuer}/.well-known/openid-configuration`);
    const link = new RegExp(`(${issuer}/setup/([A-Za-z0-9_-]{43}))`).exec(banner);
    expect(link).not.toBeNull();
    const [, setupLink = '', setupToken = ''] = link ?? [];
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).toBe(issuer);

    // the operator sets a password through the link
    const operatorEmail = `op-${uniq()}@example.com`;
    const operatorPassword = `Operator-Secret-${uniq()}`;
    const agent = new UserAgent();
    const setup = await agent.get(setupLink);
    const done = await agent.submit(setup, '/setup/', { email: operatorEmail, password: operatorPassword, password_confirm: operatorPassword });
    expect(textOf(done.html)).toContain('Gatehouse is ready');

    // an application registered with the CLI while the server runs
    const client = await cliJson<{ client_id: string; client_secret: string }>(
      ['client', 'create', '--name', 'Logged app', '--redirect-uri', REDIRECT_URI, '--grant', 'authorization_code', '--grant', 'refresh_token', '--first-party'],
      env,
    );
    const config = await rpConfig(issuer, { clientId: client.client_id, clientSecret: client.client_secret });
    const wrongPassword = `Wrong-Guess-${uniq()}`;
    expect((await tryPassword(config, operatorEmail, wrongPassword)).status).toBe(401);
    const { tokens } = await passwordSignIn(config, operatorEmail, operatorPassword);
    await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');

    const running = proc;
    proc = undefined;
    expect(await running.stop()).toEqual({ code: 0, signal: null });
    const output = `${running.stdout()}\n${running.stderr()}`;
    const logs = jsonLogLines(output);
    const logText = JSON.stringify(logs);

    // structured: one JSON line per request, each with a request id, method, route and status
    const requests = logs.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(5);
    for (const line of requests) expect(line).toMatchObject({ requestId: expect.any(String), method: expect.any(String), route: expect.any(String), status: expect.any(Number) });
    expect(requests.some((l) => l.route === '/interaction/:uid/login' && l.status === 401)).toBe(true);
    expect(logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);

    // no secrets anywhere in the output: passwords, client secret, tokens; the setup token only in the banner
    for (const secret of [operatorPassword, wrongPassword, client.client_secret, tokens.access_token, tokens.refresh_token ?? '', tokens.id_token ?? '']) {
      expect(secret.length).toBeGreaterThan(8);
      expect(output).not.toContain(secret);
    }
    expect(logText).not.toContain(setupToken);
  });
});
