// Clients and accounts are kept in each server's memory (src/store/change-signals.ts), so revocation must
// reach every instance at once (issue 16: nothing whose revocation must be immediate is cached unless
// invalidation is proven across two instances). Each test first has instance B serve the client or the
// account (so B holds it in memory), changes it elsewhere — instance A's admin API, or the CLI as
// another process — and then asks B straight away, without waiting.
//
// Two servers on one PostgreSQL + Redis run on the local servers in both modes (only they can be shared
// by two servers). The embedded default (one server; the CLI joins its database and LMDB) is proved
// by the second describe, which runs in this run's storage mode.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type * as oidc from 'openid-client';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { openRuntime, type Runtime } from '../../../src/runtime.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { freePort } from '../../helpers/gatehouse.ts';
import { backendName, postgresUnderTest, testDatabaseUrl } from '../../helpers/db.ts';
import { redisUnderTest, testRedisUrl } from '../../helpers/redis.ts';
import { TEST_SETTINGS } from '../../helpers/settings.ts';
import { PASSWORD, REDIRECT_URI, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization, uniq } from '../../helpers/seed.ts';
import { importAuthenticator, isEnrolPage, isVerifyPage } from '../../helpers/mfa.ts';
import { UserAgent, textOf } from '../../helpers/user-agent.ts';
import { cliJson, createScratchPostgresDatabase, startGatehouseProcess, tempDataDir, type GatehouseProcess, type ProcessEnv, type ScratchDatabase } from '../../helpers/processes.ts';

jest.setTimeout(180_000);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The client-credentials grant's status and error code. */
async function clientCredentials(base: string, id: string, secret: string): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${base}/token`, { method: 'POST', headers: { ...FORM, authorization: basic(id, secret) }, body: 'grant_type=client_credentials' });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, ...(body.error ? { error: body.error } : {}) };
}

async function userinfo(base: string, accessToken: string): Promise<number> {
  return (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

async function introspect(base: string, client: { clientId: string; clientSecret: string }, token: string): Promise<{ active: boolean; sub?: string }> {
  const res = await fetch(`${base}/token/introspection`, { method: 'POST', headers: { ...FORM, authorization: basic(client.clientId, client.clientSecret) }, body: new URLSearchParams({ token }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean; sub?: string };
}

async function refresh(base: string, client: { clientId: string; clientSecret: string }, refreshToken: string): Promise<{ status: number; error?: string; refresh_token?: string }> {
  const res = await fetch(`${base}/token`, { method: 'POST', headers: { ...FORM, authorization: basic(client.clientId, client.clientSecret) }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
  return { status: res.status, ...((await res.json()) as { error?: string; refresh_token?: string }) };
}

describe('two instances on one PostgreSQL + Redis: a change on A or from the CLI is seen by B at once', () => {
  let scratch: ScratchDatabase;
  let dataDir: string;
  let env: ProcessEnv;
  let a: GatehouseProcess | undefined;
  let b: GatehouseProcess | undefined;
  let runtime: Runtime | undefined;
  let tenantId: string;
  let config: oidc.Configuration;
  /** the signed-in users' app (authorization code, refresh tokens). */
  let app: { clientId: string; clientSecret: string };
  /** service clients calling the admin API: the platform's manages clients, the tenant's its users and policy. */
  let admins: Record<'clients' | 'users', { clientId: string; clientSecret: string; scope: string }>;

  const urlA = () => a?.url ?? '';
  const urlB = () => b?.url ?? '';

  const adminToken = async (caller: keyof typeof admins) => {
    const { clientId, clientSecret, scope } = admins[caller];
    const res = await fetch(`${urlA()}/token`, { method: 'POST', headers: { ...FORM, authorization: basic(clientId, clientSecret) }, body: new URLSearchParams({ grant_type: 'client_credentials', scope }) });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  /** A's admin API, called by the platform's admin for /clients, by the tenant's for the rest. */
  const adminApi = async (method: string, apiPath: string, body?: unknown) =>
    fetch(`${urlA()}/api/v1${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${await adminToken(apiPath.startsWith('/clients') ? 'clients' : 'users')}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const newServiceClient = async () => {
    const created = await seedClient(runtime as Runtime, { grants: ['client_credentials'], tenantId, firstParty: false });
    return { clientId: created.clientId, clientSecret: created.clientSecret ?? '' };
  };

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase(postgresUnderTest());
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-signals-'));
    const portA = await freePort();
    env = { DATABASE_URL: scratch.url, REDIS_URL: redisUnderTest(), GATEHOUSE_SECRET_KEY: generateSecretKey(), DATA_DIR: dataDir, ISSUER: `http://127.0.0.1:${portA}`, LOGIN_MAX_PER_IP: '100000' };
    a = await startGatehouseProcess(env, { port: portA });
    b = await startGatehouseProcess(env);
    const seedConfig = loadConfig({ ...TEST_SETTINGS, ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    runtime = await openRuntime(seedConfig, createLogger(seedConfig), { role: 'client' });
    tenantId = (await seedTenant(runtime, 'distributor', `Signals ${uniq()}`)).id;
    const seededApp = await seedClient(runtime, { tenantId });
    app = { clientId: seededApp.clientId, clientSecret: seededApp.clientSecret ?? '' };
    const serviceClient = async (owner: string, scope: string) => {
      const seeded = await seedClient(runtime as Runtime, { grants: ['client_credentials'], tenantId: owner, firstParty: false, scope });
      return { clientId: seeded.clientId, clientSecret: seeded.clientSecret ?? '', scope };
    };
    const platform = await runtime.repos.tenants.getPlatform();
    admins = { clients: await serviceClient(platform?.id ?? '', 'clients:write'), users: await serviceClient(tenantId, 'users:read users:write policy:write') };
    config = await rpConfig(env.ISSUER ?? '', app);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await runtime?.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses on B a client disabled through A’s admin API, and accepts it on B once the CLI enabled it', async () => {
    const service = await newServiceClient();
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 200 });
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 200 });

    expect((await adminApi('POST', `/clients/${service.clientId}/disable`)).status).toBe(200);
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
    expect(await clientCredentials(urlA(), service.clientId, service.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });

    await cliJson(['client', 'enable', '--client-id', service.clientId], env);
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 200 });
  });

  it('refuses the old secret on B as soon as A’s admin API rotated it, and accepts the new one', async () => {
    const service = await newServiceClient();
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 200 });

    const res = await adminApi('POST', `/clients/${service.clientId}/secret`);
    expect(res.status).toBe(200);
    const { client_secret: rotated } = (await res.json()) as { client_secret: string };
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
    expect(await clientCredentials(urlB(), service.clientId, rotated)).toEqual({ status: 200 });
  });

  it('refuses on B a client deleted through A’s admin API', async () => {
    const service = await newServiceClient();
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 200 });
    expect((await adminApi('DELETE', `/clients/${service.clientId}`)).status).toBeLessThan(300);
    expect(await clientCredentials(urlB(), service.clientId, service.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('refuses on B the tokens of an account disabled through A’s admin API: userinfo, introspection and refresh', async () => {
    const account = await seedAccount(runtime as Runtime, tenantId);
    const { tokens } = await passwordSignIn(config, account.email, PASSWORD);
    // B serves the account (userinfo and a refresh hold it in memory) and the token is active
    expect(await userinfo(urlB(), tokens.access_token)).toBe(200);
    expect(await userinfo(urlB(), tokens.access_token)).toBe(200);
    expect(await introspect(urlB(), app, tokens.access_token)).toMatchObject({ active: true, sub: account.id });
    const refreshed = await refresh(urlB(), app, tokens.refresh_token ?? '');
    expect(refreshed.status).toBe(200);

    expect((await adminApi('PUT', `/users/${account.id}/status`, { status: 'disabled' })).status).toBe(200);
    expect(await userinfo(urlB(), tokens.access_token)).toBe(401);
    expect(await introspect(urlB(), app, tokens.access_token)).toEqual({ active: false });
    expect(await refresh(urlB(), app, refreshed.refresh_token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  /** A new authorization request of the app, sent to B (the issuer in the configuration is A). */
  const authorizationOnB = async () => {
    const url = new URL((await startAuthorization(config)).url.href);
    const b = new URL(urlB());
    url.host = b.host;
    return url.href;
  };

  it('refuses on B, at its next page, a sign-in whose account was disabled through A’s admin API after B read it for the password', async () => {
    const account = await seedAccount(runtime as Runtime, tenantId);
    const authenticator = await importAuthenticator(runtime as Runtime, account);
    const agent = new UserAgent();
    const login = await agent.get(await authorizationOnB(), REDIRECT_URI);
    // B has read the account for the password and again for the code page, and keeps the row
    const codePage = await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI);
    expect(isVerifyPage(codePage)).toBe(true);

    expect((await adminApi('PUT', `/users/${account.id}/status`, { status: 'disabled' })).status).toBe(200);
    const refused = await agent.submit(codePage, '/verify', { code: await authenticator.nextCode() }, REDIRECT_URI);
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('This account is no longer available');
  });

  it('asks B’s signed-in browser for a second factor at once when A’s admin API enforced MFA for its tenant', async () => {
    const account = await seedAccount(runtime as Runtime, tenantId);
    const agent = new UserAgent();
    const login = await agent.get(await authorizationOnB(), REDIRECT_URI);
    expect((await agent.submit(login, '/login', { email: account.email, password: PASSWORD }, REDIRECT_URI)).url).toContain('code=');
    // the session alone signs the browser in again on B, which keeps the row it read for the session check
    expect((await agent.get(await authorizationOnB(), REDIRECT_URI)).url).toContain('code=');

    const enforce = (on: boolean) => adminApi('PATCH', `/tenants/${tenantId}/policy`, { enforce_mfa_partner_users: on, grace_days: 0 });
    expect((await enforce(true)).status).toBe(200);
    try {
      const again = await agent.get(await authorizationOnB(), REDIRECT_URI);
      expect(again.url).not.toContain('code=');
      expect(isEnrolPage(again)).toBe(true);
    } finally {
      expect((await enforce(false)).status).toBe(200);
    }
  });
});

describe(`a server and the CLI as another process (${backendName()}${testRedisUrl() ? ' + Redis' : ', LMDB'})`, () => {
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let scratch: ScratchDatabase | undefined;
  let server: GatehouseProcess;
  let env: ProcessEnv;
  let tenant: string;
  let app: { clientId: string; clientSecret: string };
  let config: oidc.Configuration;

  beforeAll(async () => {
    dataDir = await tempDataDir({ migrated: true });
    scratch = testDatabaseUrl() ? await createScratchPostgresDatabase() : undefined;
    const serverEnv: ProcessEnv = { DATA_DIR: dataDir.dir, DATABASE_URL: scratch?.url, REDIS_URL: testRedisUrl(), LOGIN_MAX_PER_IP: '100000' };
    server = await startGatehouseProcess(serverEnv);
    env = { ...serverEnv, ISSUER: server.url };
    tenant = (await cliJson<{ slug: string }>(['tenant', 'create', '--kind', 'distributor', '--name', `Signals ${uniq()}`], env)).slug;
    const created = await cliJson<{ client_id: string; client_secret: string }>(
      ['client', 'create', '--name', 'Signals app', '--redirect-uri', REDIRECT_URI, '--grant', 'authorization_code', '--grant', 'refresh_token', '--grant', 'client_credentials', '--first-party'],
      env,
    );
    app = { clientId: created.client_id, clientSecret: created.client_secret };
    config = await rpConfig(server.url, app);
  });
  afterAll(async () => {
    await server?.stop();
    await scratch?.drop();
    dataDir?.remove();
  });

  it('refuses a client at once after `client disable`, and the old secret at once after `client rotate-secret`', async () => {
    expect(await clientCredentials(server.url, app.clientId, app.clientSecret)).toEqual({ status: 200 });
    expect(await clientCredentials(server.url, app.clientId, app.clientSecret)).toEqual({ status: 200 });

    await cliJson(['client', 'disable', '--client-id', app.clientId], env);
    expect(await clientCredentials(server.url, app.clientId, app.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
    await cliJson(['client', 'enable', '--client-id', app.clientId], env);
    expect(await clientCredentials(server.url, app.clientId, app.clientSecret)).toEqual({ status: 200 });

    const rotated = await cliJson<{ client_secret: string }>(['client', 'rotate-secret', '--client-id', app.clientId], env);
    expect(await clientCredentials(server.url, app.clientId, app.clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
    expect(await clientCredentials(server.url, app.clientId, rotated.client_secret)).toEqual({ status: 200 });
    app = { ...app, clientSecret: rotated.client_secret };
    config = await rpConfig(server.url, app);
  });

  it('refuses userinfo, introspection and refresh at once after `user disable`', async () => {
    const email = `signals-${uniq()}@example.com`;
    await cliJson(['user', 'create', '--tenant', tenant, '--email', email, '--password', PASSWORD], env);
    const { tokens } = await passwordSignIn(config, email, PASSWORD);
    expect(await userinfo(server.url, tokens.access_token)).toBe(200);
    expect(await userinfo(server.url, tokens.access_token)).toBe(200);
    const refreshed = await refresh(server.url, app, tokens.refresh_token ?? '');
    expect(refreshed.status).toBe(200);

    await cliJson(['user', 'disable', '--tenant', tenant, '--email', email], env);
    expect(await userinfo(server.url, tokens.access_token)).toBe(401);
    expect(await introspect(server.url, app, tokens.access_token)).toEqual({ active: false });
    expect(await refresh(server.url, app, refreshed.refresh_token ?? '')).toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});
