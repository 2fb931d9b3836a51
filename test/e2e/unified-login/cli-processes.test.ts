// `gatehouse user mfa import-totp` and `gatehouse user sessions end` as real processes next to a running
// Gatehouse server process, so that the CLI's own configuration is what is exercised. The server calls
// an app on loopback (FETCH_ALLOW_PRIVATE_NETWORKS=true, as the demo does); the app checks each logout
// token as an RP must (signature from the server's JWKS, issuer, audience).
//
// On the embedded default a command joins the running server's database, and acts with the server's
// issuer and network rule even when the operator's shell has only DATA_DIR (the README's demo command):
// otherwise the logout token would name another issuer, and delivery to loopback would be refused.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet } from 'jose';
import { validateLogoutToken, type LogoutTokenClaims } from '../../../src/relying-party/index.ts';
import { backendName, testDatabaseUrl } from '../../helpers/db.ts';
import { testRedisUrl } from '../../helpers/redis.ts';
import { Authenticator, newTotpSecret } from '../../helpers/mfa.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, startAuthorization, uniq } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';
import {
  cliJson,
  createScratchPostgresDatabase,
  runCliProcess,
  startGatehouseProcess,
  tempDataDir,
  type GatehouseProcess,
  type ProcessEnv,
  type ScratchDatabase,
} from '../../helpers/processes.ts';

jest.setTimeout(180_000);

/** An app's back-channel logout endpoint on loopback: answers 200 and keeps every token it was sent. */
async function startLogoutReceiver() {
  const tokens: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (req.method === 'POST' && req.url === '/backchannel-logout' && token) tokens.push(token);
      res.writeHead(token ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`;
  return { url, tokens, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe(`gatehouse commands as processes next to a running server (${backendName()})`, () => {
  let dataDir: Awaited<ReturnType<typeof tempDataDir>>;
  let scratch: ScratchDatabase | undefined;
  let receiver: Awaited<ReturnType<typeof startLogoutReceiver>>;
  let server: GatehouseProcess;
  /** the environment of the server process, as its deployment has it. */
  let serverEnv: ProcessEnv;
  let tenant: string;
  let client: { clientId: string; clientSecret: string };
  let config: oidc.Configuration;

  beforeAll(async () => {
    dataDir = await tempDataDir({ migrated: true });
    scratch = testDatabaseUrl() ? await createScratchPostgresDatabase() : undefined;
    receiver = await startLogoutReceiver();
    const env: ProcessEnv = { DATA_DIR: dataDir.dir, DATABASE_URL: scratch?.url, REDIS_URL: testRedisUrl(), FETCH_ALLOW_PRIVATE_NETWORKS: 'true', LOGIN_MAX_PER_IP: '100000', MFA_MAX_PER_IP: '100000' };
    server = await startGatehouseProcess(env);
    serverEnv = { ...env, ISSUER: server.url };
    tenant = (await cliJson<{ slug: string }>(['tenant', 'create', '--kind', 'distributor', '--name', `Fabrikam ${uniq()}`], serverEnv)).slug;
    const created = await cliJson<{ client_id: string; client_secret: string }>(
      ['client', 'create', '--name', 'Fabrikam portal', '--redirect-uri', REDIRECT_URI, '--grant', 'authorization_code', '--grant', 'refresh_token', '--first-party', '--backchannel-logout-uri', receiver.url],
      serverEnv,
    );
    client = { clientId: created.client_id, clientSecret: created.client_secret };
    config = await rpConfig(server.url, client);
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await scratch?.drop();
    dataDir?.remove();
  });

  const newUser = async () => {
    const email = `ops-${uniq()}@example.com`;
    const user = await cliJson<{ id: string }>(['user', 'create', '--tenant', tenant, '--email', email, '--password', PASSWORD], serverEnv);
    return { id: user.id, email };
  };

  /** What an RP does with a logout token: any that fails its checks is refused (and would end nothing). */
  const checkedTokens = () =>
    Promise.all(receiver.tokens.map((t) => validateLogoutToken(t, { issuer: server.url, clientId: client.clientId, jwks: createRemoteJWKSet(new URL(`${server.url}/jwks`)) })));

  it('imports an authenticator the user already has: the next sign-in asks for its code and proves MFA', async () => {
    const user = await newUser();
    const secret = newTotpSecret();
    const imported = await cliJson(['user', 'mfa', 'import-totp', '--tenant', tenant, '--email', user.email, '--secret', secret], serverEnv);
    expect(imported).toMatchObject({ account_id: user.id, email: user.email, mfa: 'active', source: 'imported' });

    const app = new Authenticator(secret);
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const verify = await agent.submit(login, '/login', { email: user.email, password: PASSWORD }, REDIRECT_URI);
    expect(verify.url).toContain('/interaction/');
    const tokens = await finishAuthorization(config, start, await agent.submit(verify, '/verify', { code: await app.nextCode() }, REDIRECT_URI));
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: expect.arrayContaining(['pwd', 'otp', 'mfa']) });
  });

  it('refuses a setup key that is not base32, with exit 1 and nothing imported', async () => {
    const user = await newUser();
    const bad = await runCliProcess(['user', 'mfa', 'import-totp', '--tenant', tenant, '--email', user.email, '--secret', 'not-base32!'], serverEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The setup key must contain only the letters A–Z and the digits 2–7.');
    const { tokens } = await passwordSignIn(config, user.email); // still password only
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd'] });
  });

  it('ends every session of the user: the app gets a valid logout token, the refresh tokens stop working', async () => {
    const user = await newUser();
    const bystander = await newUser();
    const laptop = await passwordSignIn(config, user.email);
    const phone = await passwordSignIn(config, user.email);
    const other = await passwordSignIn(config, bystander.email);
    receiver.tokens.length = 0;

    const ended = await cliJson(['user', 'sessions', 'end', '--tenant', tenant, '--email', user.email], serverEnv);
    expect(ended).toEqual({ account_id: user.id, sessions_ended: 2, clients_notified: [client.clientId, client.clientId], notification_failures: [] });

    const claims: LogoutTokenClaims[] = await checkedTokens();
    expect(claims).toHaveLength(2);
    for (const c of claims) expect(c.sub).toBe(user.id);
    for (const signedIn of [laptop, phone]) {
      await expect(oidc.refreshTokenGrant(config, signedIn.tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
    }
    // another user's session is untouched
    expect((await oidc.refreshTokenGrant(config, other.tokens.refresh_token ?? '')).access_token).toEqual(expect.any(String));
    // the browser's Gatehouse session is gone: the next authorization asks for the password again
    const again = await laptop.agent.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    expect(again.html).toContain('autocomplete="current-password"');
  });

  // Only an embedded server is joined by the commands; with PostgreSQL each command reads the
  // deployment's own environment, as the tests above do.
  if (!testDatabaseUrl()) {
    it("acts with the server's issuer and network rule when the shell has only DATA_DIR (the demo's command)", async () => {
      const user = await newUser();
      await passwordSignIn(config, user.email);
      receiver.tokens.length = 0;
      const ended = await cliJson(['user', 'sessions', 'end', '--tenant', tenant, '--email', user.email], { DATA_DIR: dataDir.dir });
      expect(ended).toMatchObject({ sessions_ended: 1, clients_notified: [client.clientId], notification_failures: [] });
      expect((await checkedTokens()).map((c) => c.sub)).toEqual([user.id]);
    });
  }
});
