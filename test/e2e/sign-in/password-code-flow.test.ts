// docs/sign-in-sequence.md end to end: a standard OIDC client (openid-client) drives authorization
// code + PKCE through the real pages, then refresh with rotation, userinfo, introspection,
// revocation, client credentials and RP-initiated logout.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { PASSWORD, REDIRECT_URI, finishAuthorization, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent } from '../../helpers/user-agent.ts';

describe('password sign-in with a standard OIDC client', () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let client: { clientId: string; clientSecret?: string | undefined };
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let tenant: Awaited<ReturnType<typeof seedTenant>>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    tenant = await seedTenant(gh.runtime, 'organization', 'Northwind Traders');
    account = await seedAccount(gh.runtime, tenant.id, { name: 'Nancy Davolio' });
    client = await seedClient(gh.runtime);
    config = await rpConfig(gh.issuer, client);
  });
  afterAll(() => gh.stop());

  it('signs in through the pages and issues an ID token with amr pwd, acr 1fa and the tenant', async () => {
    const { tokens } = await passwordSignIn(config, account.email);
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      sub: account.id,
      amr: ['pwd'],
      acr: 'urn:gatehouse:acr:1fa',
      email: account.email,
      email_verified: false,
      name: 'Nancy Davolio',
      tenant: { id: tenant.id, name: 'Northwind Traders' },
    });
    expect(typeof claims?.auth_time).toBe('number');
    expect(decodeProtectedHeader(tokens.id_token ?? '').alg).toBe('ES256');
  });

  it('cancelling on the sign-in page sends the application access_denied, once', async () => {
    const start = await startAuthorization(config);
    const agent = new UserAgent();
    const page = await agent.get(start.url.href, REDIRECT_URI);
    const back = await agent.submit(page, '/abort', {}, REDIRECT_URI);
    const answer = new URL(back.url);
    expect(answer.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(Object.fromEntries(answer.searchParams)).toMatchObject({ error: 'access_denied', error_description: 'The user cancelled the sign-in.', state: start.state });
    const replay = await agent.submit(page, '/abort', {}, REDIRECT_URI);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('This sign-in page has expired or was already used.');
  });

  it("records the sign-in's audit events and last login by the time each page answers", async () => {
    const fresh = await seedAccount(gh.runtime, tenant.id);
    const since = new Date(Date.now() - 1000);
    await passwordSignIn(config, fresh.email);
    const events = (await gh.runtime.repos.audit.list({ target: fresh.id, limit: 10 })).filter((e) => e.action.startsWith('auth.'));
    expect(events.map((e) => e.action).reverse()).toEqual(['auth.password.succeeded', 'auth.signed_in']);
    expect(events[0]).toMatchObject({ tenantId: tenant.id, actorAccountId: fresh.id, detail: { amr: ['pwd'], client_id: client.clientId } });
    expect((await gh.runtime.repos.accounts.findById(fresh.id))?.lastLoginAt?.getTime()).toBeGreaterThanOrEqual(since.getTime());
  });

  it('ends the sign-in in the request that accepted the password when nothing more is asked', async () => {
    const agent = new UserAgent();
    const start = await startAuthorization(config);
    const login = await agent.get(start.url.href, REDIRECT_URI);
    const form = agent.formRequest(login, '/login', { email: account.email, password: PASSWORD });
    const res = await agent.request(form.url, { method: 'POST', headers: form.headers, body: form.body });
    // straight back to the authorization endpoint, not to an interaction page that would only finish
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location') ?? '', gh.issuer).pathname).toMatch(/^\/auth\/[^/]+$/);
    const callback = await agent.get(new URL(res.headers.get('location') ?? '', gh.issuer).href, REDIRECT_URI);
    expect((await finishAuthorization(config, start, callback)).claims()).toMatchObject({ sub: account.id, amr: ['pwd'] });
  });

  it('rotates refresh tokens and refuses the old one', async () => {
    const { tokens } = await passwordSignIn(config, account.email);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()).toMatchObject({ sub: account.id, amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? '')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('answers userinfo and introspection with the authentication claims', async () => {
    const { tokens } = await passwordSignIn(config, account.email);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, account.id);
    expect(userinfo).toMatchObject({ sub: account.id, email: account.email, amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, sub: account.id, client_id: client.clientId, amr: ['pwd'], acr: 'urn:gatehouse:acr:1fa' });
  });

  it('revokes access tokens', async () => {
    const { tokens } = await passwordSignIn(config, account.email);
    await oidc.tokenRevocation(config, tokens.access_token);
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: false });
  });

  it('issues JWT access tokens for the gatehouse-api audience by client credentials', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, {});
    const payload = decodeJwt(tokens.access_token);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ aud: 'gatehouse-api', client_id: client.clientId, iss: gh.issuer });
  });

  it('refuses a wrong password and an unknown email with the same message', async () => {
    for (const [email, password] of [[account.email, 'wrong password!'], ['nobody@example.com', PASSWORD]] as const) {
      const agent = new UserAgent();
      const start = await oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
      const login = await agent.get(start.href);
      const page = await agent.submit(login, '/login', { email, password });
      expect(page.status).toBe(401);
      expect(page.html).toContain('Incorrect email or password.');
    }
  });

  it('logs out through the confirmation page and ends the SSO session', async () => {
    const { tokens, agent } = await passwordSignIn(config, account.email);
    const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://127.0.0.1:9/logged-out' });
    const confirm = await agent.get(endSession.href);
    expect(confirm.html).toContain('Sign out');
    const done = await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' }, 'http://127.0.0.1:9/logged-out');
    expect(done.url.startsWith('http://127.0.0.1:9/logged-out')).toBe(true);
    // with the session gone, the next authorization asks for the password again
    const again = await agent.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).href, REDIRECT_URI);
    expect(again.html).toContain('autocomplete="current-password"');
  });
});
