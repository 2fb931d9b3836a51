// The console framework as a relying party of Gatehouse, with Gatehouse itself replaced by fakes
// (token endpoint, keys, SSO session) and a movable clock: the authorization request it makes, the
// callback's checks (state bound to the browser, single use, nonce, acr, no open redirect), the
// console session following the SSO session, the idle timeout, and recent authentication before
// sensitive actions (prompt=login, and an auth_time after the request).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import Router, { type RouterMiddleware } from '@koa/router';
import { SignJWT, exportJWK, generateKeyPair, createLocalJWKSet, type JWK } from 'jose';
import type { Provider } from 'oidc-provider';
import { createConsole, type ConsoleDeps } from '../../../src/console/framework.ts';
import type { Kv } from '../../../src/store/kv.ts';
import type { TokenEndpoint } from '../../../src/console/token-endpoint.ts';
import { serve, type Served } from '../http/_serve.ts';

const ISSUER = 'https://id.gatehouse.test';
const ACR_MFA = 'urn:gatehouse:acr:mfa';
const ACCOUNT = '7f1d9a70-58a8-4a43-9f8e-2a7c1f0b8d11';

describe('console sign-in and session (framework)', () => {
  let clock = new Date('2030-05-01T10:00:00Z');
  const epoch = () => Math.floor(clock.getTime() / 1000);
  const store = new Map<string, unknown>();
  const kv = {
    async get<T>(key: string) {
      return store.get(key) as T | undefined;
    },
    async set(key: string, value: unknown) {
      store.set(key, JSON.parse(JSON.stringify(value)));
    },
    async delete(key: string) {
      store.delete(key);
    },
  } as unknown as Kv;
  let sso: { uid: string; accountId: string | undefined } = { uid: 'sso-1', accountId: ACCOUNT };
  let account: { id: string; status: string; email: string } | undefined = { id: ACCOUNT, status: 'active', email: 'olivia@example.com' };
  let idTokenClaims: Record<string, unknown> = {};
  let signingKey: CryptoKey;
  let publicJwk: JWK;
  let served: Served;
  const exchanged: Record<string, string | undefined>[] = [];

  const idToken = (claims: Record<string, unknown>) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('gatehouse-test')
      .setSubject(ACCOUNT)
      .setIssuedAt(epoch())
      .setExpirationTime(epoch() + 3600)
      .sign(signingKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    const tokenEndpoint = {
      baseUrl: () => ISSUER,
      async exchangeCode(_ctx: unknown, input: { code: string; codeVerifier: string; redirectUri: string; resource?: string }) {
        exchanged.push({ code: input.code, verifier: input.codeVerifier, redirectUri: input.redirectUri, resource: input.resource });
        return { access_token: 'at', id_token: await idToken(idTokenClaims), token_type: 'Bearer', expires_in: 3600 };
      },
    } as unknown as TokenEndpoint;
    const deps: ConsoleDeps = {
      issuer: ISSUER,
      secure: true,
      kv,
      clients: {} as ConsoleDeps['clients'],
      accounts: { findById: async (id: string) => (account && id === account.id ? account : undefined) } as unknown as ConsoleDeps['accounts'],
      getKey: createLocalJWKSet({ keys: [publicJwk] }),
      provider: () => ({ Session: { get: async () => sso } }) as unknown as Provider,
      tokenEndpoint,
      now: () => clock,
    };
    const console = createConsole(
      { id: 'test', basePath: '/admin', clientId: 'gatehouse-test', clientName: 'Test console', requiredAcr: ACR_MFA, apiScopes: ['users:read'], apiResource: `${ISSUER}/api`, recentAuthSeconds: 300 },
      deps,
    );
    const app = new Koa();
    app.silent = true;
    const pages = new Router({ prefix: '/admin' });
    pages.get('/page', console.requireUser() as unknown as RouterMiddleware, (ctx) => {
      ctx.body = `hello ${console.user(ctx as unknown as Koa.Context).account.email}`;
    });
    pages.post('/sensitive', console.requireUser() as unknown as RouterMiddleware, console.requireRecentAuth(() => '/admin/page') as unknown as RouterMiddleware, (ctx) => {
      ctx.body = 'changed';
    });
    app.use(console.routes([]));
    app.use(pages.routes());
    served = await serve(app);
  });
  afterAll(() => served.close());

  let cookies: Record<string, string> = {};
  const cookieHeader = () => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value === '' || /Max-Age=0/.test(line)) delete cookies[name];
      else cookies[name] = value;
    }
  };
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await served.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() } });
    remember(res);
    return res;
  };
  /** The authorization request a console redirect starts. */
  const authorization = (res: Response) => {
    expect(res.status).toBe(303);
    const url = new URL(res.headers.get('location') ?? '');
    expect(url.origin + url.pathname).toBe(`${ISSUER}/auth`);
    return url.searchParams;
  };
  const signIn = async (claims: Record<string, unknown> = {}) => {
    const params = authorization(await get('/admin/page'));
    idTokenClaims = { nonce: params.get('nonce'), acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], auth_time: epoch(), ...claims };
    return get(`/admin/callback?code=c-${exchanged.length}&state=${params.get('state')}`);
  };

  it('asks for an authorization code with PKCE S256, nonce, state, the acr and the API resource', async () => {
    cookies = {};
    const params = authorization(await get('/admin/page'));
    expect(Object.fromEntries(params)).toMatchObject({
      client_id: 'gatehouse-test',
      response_type: 'code',
      redirect_uri: `${ISSUER}/admin/callback`,
      scope: 'openid email profile users:read',
      code_challenge_method: 'S256',
      acr_values: ACR_MFA,
      resource: `${ISSUER}/api`,
    });
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toBe(cookies['__Host-gh_test_signin']);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('completes the sign-in: exchanges the code with its verifier, sets an HttpOnly Secure SameSite=Lax session cookie, goes back to the page', async () => {
    cookies = {};
    const res = await signIn();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/page');
    const set = res.headers.getSetCookie().find((c) => c.startsWith('__Host-gh_test_session='));
    expect(set).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    expect(exchanged.at(-1)).toMatchObject({ redirectUri: `${ISSUER}/admin/callback`, resource: `${ISSUER}/api`, verifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(await (await get('/admin/page')).text()).toBe('hello olivia@example.com');
    // the store keeps no session under the cookie's own value
    expect([...store.keys()].some((k) => k.includes(cookies['__Host-gh_test_session'] ?? 'x'))).toBe(false);
  });

  it('refuses a callback whose state was not started in this browser, and a state used twice', async () => {
    cookies = {};
    const params = authorization(await get('/admin/page'));
    idTokenClaims = { nonce: params.get('nonce'), acr: ACR_MFA, auth_time: epoch() };
    // someone else's browser (login CSRF: an attacker's code and state) has no matching cookie
    const elsewhere = await served.fetch(`/admin/callback?code=x&state=${params.get('state')}`);
    expect(elsewhere.status).toBe(400);
    // the user's own browser still completes its sign-in
    const saved = { ...cookies };
    expect((await get(`/admin/callback?code=y&state=${params.get('state')}`)).status).toBe(303);
    // and the same state cannot complete a second one
    cookies = saved;
    expect((await get(`/admin/callback?code=y&state=${params.get('state')}`)).status).toBe(400);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a wrong nonce', { nonce: 'not-the-one' }],
    ['a sign-in without MFA', { acr: 'urn:gatehouse:acr:1fa', amr: ['pwd'] }],
  ])('refuses an ID token with %s', async (_case, claims) => {
    cookies = {};
    const res = await signIn(claims);
    expect(res.status).toBe(400);
    expect(cookies['__Host-gh_test_session']).toBeUndefined();
  });

  it('follows only return_to paths of the console itself', async () => {
    cookies = {};
    for (const [returnTo, expected] of [
      ['/admin/page?x=1', '/admin/page?x=1'],
      ['https://evil.test/admin/', '/admin/'],
      ['//evil.test/admin/', '/admin/'],
      ['/elsewhere', '/admin/'],
    ]) {
      const params = authorization(await get(`/admin/login?return_to=${encodeURIComponent(returnTo ?? '')}`));
      idTokenClaims = { nonce: params.get('nonce'), acr: ACR_MFA, auth_time: epoch() };
      const res = await get(`/admin/callback?code=z&state=${params.get('state')}`);
      expect([returnTo, res.headers.get('location')]).toEqual([returnTo, expected]);
    }
  });

  it('ends the console session when the Gatehouse session is gone or belongs to someone else, or after an hour unused', async () => {
    cookies = {};
    await signIn();
    expect((await get('/admin/page')).status).toBe(200);
    sso = { uid: 'sso-2', accountId: ACCOUNT }; // signed out and in again elsewhere: another SSO session
    expect((await get('/admin/page')).status).toBe(303);
    expect(cookies['__Host-gh_test_session']).toBeUndefined();
    await signIn();
    expect((await get('/admin/page')).status).toBe(200);
    clock = new Date(clock.getTime() + 61 * 60_000);
    expect((await get('/admin/page')).status).toBe(303);
    await signIn();
    account = { ...(account ?? { id: ACCOUNT, email: 'olivia@example.com' }), status: 'disabled' };
    expect((await get('/admin/page')).status).toBe(303);
    account = { id: ACCOUNT, status: 'active', email: 'olivia@example.com' };
  });

  it('asks for a fresh authentication (prompt=login) before a sensitive action once the last one is older than allowed', async () => {
    cookies = {};
    await signIn();
    expect(await (await get('/admin/sensitive', { method: 'POST' })).text()).toBe('changed');
    clock = new Date(clock.getTime() + 6 * 60_000);
    const res = await get('/admin/sensitive', { method: 'POST' });
    const params = authorization(res);
    expect(Object.fromEntries(params)).toMatchObject({ prompt: 'login', max_age: '0', acr_values: ACR_MFA, login_hint: 'olivia@example.com' });
    // an ID token whose auth_time predates the request is no re-authentication
    idTokenClaims = { nonce: params.get('nonce'), acr: ACR_MFA, auth_time: epoch() - 600 };
    expect((await get(`/admin/callback?code=r1&state=${params.get('state')}`)).status).toBe(400);
    const retry = authorization(await get('/admin/sensitive', { method: 'POST' }));
    idTokenClaims = { nonce: retry.get('nonce'), acr: ACR_MFA, auth_time: epoch() };
    const back = await get(`/admin/callback?code=r2&state=${retry.get('state')}`);
    expect(back.headers.get('location')).toBe('/admin/page');
    expect(await (await get('/admin/sensitive', { method: 'POST' })).text()).toBe('changed');
  });
});
