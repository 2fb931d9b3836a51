// Scale-out (DESIGN.md §10): two Gatehouse processes on one PostgreSQL database and one Redis keep
// nothing in process memory that the other needs. A sign-in started on A finishes on B, a refresh
// token from A works on B, a rate-limit counter is shared, and a key rotated with the CLI is published
// and used by both. Only PostgreSQL + Redis can be shared by several processes, so this runs on the
// local servers in both storage modes.
//
// Both run with A's URL as ISSUER (as behind one load balancer); the "browser" sends the requests of
// the steps that happen on B to B's port.
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createClient } from 'redis';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { openRuntime, type Runtime } from '../../../src/runtime.ts';
import { generateSecretKey } from '../../../src/domain/secrets.ts';
import { freePort } from '../../helpers/gatehouse.ts';
import { postgresUnderTest } from '../../helpers/db.ts';
import { redisUnderTest } from '../../helpers/redis.ts';
import { TEST_SETTINGS } from '../../helpers/settings.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, findForm, textOf, type Page } from '../../helpers/user-agent.ts';
import { cliJson, createScratchPostgresDatabase, startGatehouseProcess, type GatehouseProcess, type ProcessEnv, type ScratchDatabase } from '../../helpers/processes.ts';

jest.setTimeout(120_000);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * Submits a form of `page` to `base` (another instance) and follows redirects there, rewriting the
 * issuer's origin in each Location to `base`, until the client's redirect URI. Returns the final page
 * and every origin that answered.
 */
async function submitOn(agent: UserAgent, base: string, page: Page, actionPart: string, fields: Record<string, string>): Promise<{ page: Page; origins: string[] }> {
  const form = findForm(page.html, actionPart);
  const origins: string[] = [];
  let url = new URL(form.action, base).href;
  let res = await agent.request(url, { method: 'POST', headers: FORM, body: new URLSearchParams({ ...form.hidden, ...fields }) });
  origins.push(new URL(url).origin);
  for (let hops = 0; hops < 20 && res.status >= 300 && res.status < 400; hops++) {
    const location = new URL(res.headers.get('location') ?? '', url);
    if (location.href.startsWith(REDIRECT_URI)) return { page: { url: location.href, status: res.status, html: '' }, origins };
    url = new URL(`${location.pathname}${location.search}`, base).href;
    res = await agent.request(url);
    origins.push(new URL(url).origin);
  }
  return { page: { url, status: res.status, html: await res.text() }, origins };
}

describe('two Gatehouse instances on one PostgreSQL + Redis', () => {
  let scratch: ScratchDatabase;
  let dataDir: string;
  let env: ProcessEnv;
  let a: GatehouseProcess | undefined;
  let b: GatehouseProcess | undefined;
  let runtime: Runtime | undefined;
  let config: oidc.Configuration;
  let client: { clientId: string; clientSecret?: string | undefined };
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    scratch = await createScratchPostgresDatabase(postgresUnderTest());
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-scale-'));
    const portA = await freePort();
    env = {
      DATABASE_URL: scratch.url,
      REDIS_URL: redisUnderTest(),
      GATEHOUSE_SECRET_KEY: generateSecretKey(),
      DATA_DIR: dataDir,
      ISSUER: `http://127.0.0.1:${portA}`,
      LOGIN_MAX_PER_ACCOUNT: '3',
      LOGIN_MAX_PER_IP: '100000',
      KEY_REFRESH_SECONDS: '1',
    };
    // one after the other, as a rolling deployment would (the first one migrates and creates the keys)
    a = await startGatehouseProcess(env, { port: portA });
    b = await startGatehouseProcess(env);
    const seedConfig = loadConfig({ ...TEST_SETTINGS, ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    runtime = await openRuntime(seedConfig, createLogger(seedConfig), { role: 'client' });
    tenant = await seedTenant(runtime, 'organization', 'Scale-out Ltd');
    client = await seedClient(runtime);
    config = await rpConfig(env.ISSUER ?? '', client);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await runtime?.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const urlA = () => a?.url ?? '';
  const urlB = () => b?.url ?? '';

  it('finishes on B a sign-in started on A, and A exchanges the code', async () => {
    const account = await seedAccount(runtime as Runtime, tenant.id, { name: 'Roaming Rita' });
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    expect(start.url.origin).toBe(urlA());
    const login = await agent.get(start.url.href, REDIRECT_URI);
    expect(login.url.startsWith(`${urlA()}/interaction/`)).toBe(true);
    expect(login.html).toContain('autocomplete="current-password"');

    const { page: callback, origins } = await submitOn(agent, urlB(), login, '/login', { email: account.email, password: PASSWORD });
    expect(origins.length).toBeGreaterThanOrEqual(2); // POST login + resume at /auth/:uid, both on B
    expect(new Set(origins)).toEqual(new Set([urlB()]));

    const tokens = await finishAuthorization(config, start, callback); // token endpoint of A
    expect(tokens.claims()).toMatchObject({ sub: account.id, iss: urlA(), amr: ['pwd'], tenant: { id: tenant.id, name: 'Scale-out Ltd' } });

    // a refresh token issued by A is rotated by B, and the old one is then refused by A
    const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
    const onB = await fetch(`${urlB()}/token`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }) });
    expect(onB.status).toBe(200);
    const refreshed = (await onB.json()) as { refresh_token: string };
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const replay = await fetch(`${urlA()}/token`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }) });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('shares the password rate-limit counter: 2 failures on A + 1 on B, then the 4th on A is refused', async () => {
    const account = await seedAccount(runtime as Runtime, tenant.id);
    const attempt = async (base: string, password: string) => {
      const agent = new UserAgent();
      const start = await startAuthorization(config);
      const login = await agent.get(start.url.href, REDIRECT_URI);
      return (await submitOn(agent, base, login, '/login', { email: account.email, password })).page;
    };
    expect((await attempt(urlA(), 'wrong guess one')).status).toBe(401);
    expect((await attempt(urlA(), 'wrong guess two')).status).toBe(401);
    expect((await attempt(urlB(), 'wrong guess three')).status).toBe(401);
    const fourth = await attempt(urlA(), PASSWORD);
    expect(fourth.status).toBe(429);
    expect(textOf(fourth.html)).toContain('Too many sign-in attempts.');
    expect((await attempt(urlB(), PASSWORD)).status).toBe(429);
  });

  describe('a token read with its grant and session in one round trip (src/oidc/adapters/redis-adapter.ts)', () => {
    const basic = () => `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
    const introspect = async (base: string, token: string) => {
      const res = await fetch(`${base}/token/introspection`, { method: 'POST', headers: { ...FORM, authorization: basic() }, body: new URLSearchParams({ token }) });
      expect(res.status).toBe(200);
      return (await res.json()) as { active: boolean; sub?: string };
    };
    const signedIn = async () => {
      const account = await seedAccount(runtime as Runtime, tenant.id);
      const { tokens } = await passwordSignIn(config, account.email, PASSWORD);
      return { account, tokens };
    };

    it('asks Redis once for the token, its grant and its session when B introspects it', async () => {
      const { account, tokens } = await signedIn();
      expect(await introspect(urlB(), tokens.access_token)).toMatchObject({ active: true, sub: account.id });
      const monitor = createClient({ url: redisUnderTest() });
      await monitor.connect();
      const lines: string[] = [];
      await monitor.monitor((line) => lines.push(line));
      try {
        expect(await introspect(urlB(), tokens.access_token)).toMatchObject({ active: true, sub: account.id });
        await sleep(300);
      } finally {
        monitor.destroy();
      }
      // MONITOR shows each command as `<time> [<db> <client address>] "COMMAND" …`, a script's own reads as `[<db> lua]`
      const byScript = (l: string) => l.includes(' lua]');
      const tokenRead = lines.filter((l) => l.includes(`AccessToken:${tokens.access_token}`) && !byScript(l));
      expect(tokenRead).toHaveLength(1);
      expect(tokenRead[0]).toContain('"EVALSHA"');
      // (without a type hint the refresh tokens are searched too, by the same script, in the same round trip)
      expect(lines.filter(byScript).map((l) => /lua\] "(\w+)" "[^"]*:(\w+):/.exec(l)?.slice(1).join(' '))).toEqual(expect.arrayContaining(['HMGET AccessToken', 'HMGET Grant', 'GET Session', 'HMGET Session']));
      // and no other command of B's connection in that window reads a grant or a session
      const connection = /\[\d+ ([^\]]+)\]/.exec(tokenRead[0] ?? '')?.[1] ?? 'none';
      const fromB = lines.filter((l) => l.includes(` ${connection}]`));
      expect(fromB.length).toBeGreaterThan(0);
      expect(fromB.filter((l) => /:Grant:|:Session:/.test(l))).toEqual([]);
    });

    it('refuses the token on B as soon as the CLI ended the user’s sessions, also while B is asked in parallel', async () => {
      const { account, tokens } = await signedIn();
      expect(await introspect(urlB(), tokens.access_token)).toMatchObject({ active: true });
      const during = Promise.all(Array.from({ length: 20 }, () => introspect(urlB(), tokens.access_token)));
      await cliJson(['user', 'sessions', 'end', '--tenant', tenant.id, '--email', account.email], env);
      await during;
      const after = await Promise.all(Array.from({ length: 10 }, () => introspect(urlB(), tokens.access_token)));
      expect(after).toEqual(Array.from({ length: 10 }, () => ({ active: false })));
      expect((await fetch(`${urlB()}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    });

    it('refuses the access token on B as soon as A revoked the refresh token (the whole grant)', async () => {
      const { tokens } = await signedIn();
      expect(await introspect(urlB(), tokens.access_token)).toMatchObject({ active: true });
      const revoked = await fetch(`${urlA()}/token/revocation`, { method: 'POST', headers: { ...FORM, authorization: basic() }, body: new URLSearchParams({ token: tokens.refresh_token ?? '', token_type_hint: 'refresh_token' }) });
      expect(revoked.status).toBe(200);
      expect(await introspect(urlB(), tokens.access_token)).toEqual({ active: false });
      expect((await fetch(`${urlB()}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    });
  });

  it('serves a key rotated with the CLI from both instances, and both sign with the new active key', async () => {
    const jwks = async (base: string) => (await (await fetch(`${base}/jwks`)).json()) as JSONWebKeySet;
    const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid ?? '').sort();
    expect(kids(await jwks(urlA()))).toEqual(kids(await jwks(urlB())));

    const rotation = await cliJson<{ activated: string[]; retiring: { kid: string }[]; published_next: string[] }>(['keys', 'rotate'], env);
    expect(rotation.published_next.length).toBeGreaterThan(0);

    // each instance notices within KEY_REFRESH_SECONDS (1 s here)
    const deadline = Date.now() + 20_000;
    let seen: [string[], string[]] = [[], []];
    while (Date.now() < deadline) {
      seen = [kids(await jwks(urlA())), kids(await jwks(urlB()))];
      if (seen.every((set) => rotation.published_next.every((kid) => set.includes(kid)))) break;
      await sleep(250);
    }
    for (const set of seen) {
      expect(set).toEqual(expect.arrayContaining([...rotation.published_next, ...rotation.activated, ...rotation.retiring.map((r) => r.kid)]));
    }
    expect(seen[0]).toEqual(seen[1]);

    // tokens now carry the activated ES256 key, and each instance's token verifies with the other's key set
    const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
    const published = await jwks(urlA());
    const activatedEs256 = published.keys.find((k) => k.alg === 'ES256' && rotation.activated.includes(k.kid ?? ''))?.kid;
    expect(activatedEs256).toBeDefined();
    for (const [issuing, verifying] of [
      [urlA(), urlB()],
      [urlB(), urlA()],
    ] as const) {
      const res = await fetch(`${issuing}/token`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials' });
      const { access_token: accessToken } = (await res.json()) as { access_token: string };
      expect(decodeProtectedHeader(accessToken).kid).toBe(activatedEs256);
      const { payload } = await jwtVerify(accessToken, createLocalJWKSet(await jwks(verifying)), { issuer: urlA() });
      expect(payload).toMatchObject({ client_id: client.clientId, aud: 'gatehouse-api' });
    }
  });
});
