// Two causes of 500s found by fuzzing, each now a clear 400: a NUL byte that reached PostgreSQL (which
// refuses NUL in text and jsonb), and a Host header that is not an authority (oidc-provider's URL
// building threw "Invalid URL"). Protocol endpoints answer in oidc-provider's JSON error format.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { REDIRECT_URI, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, findForm, textOf } from '../../helpers/user-agent.ts';

const NUL = 'a\u0000b';
const JSON_ACCEPT = { accept: 'application/json' };

describe('a NUL byte anywhere in a request is a 400, never a 500', () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let basic: string;
  let email: string;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    const tenant = await seedTenant(gh.runtime);
    email = (await seedAccount(gh.runtime, tenant.id)).email;
    const client = await seedClient(gh.runtime);
    config = await rpConfig(gh.issuer, client);
    basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
  });
  afterAll(() => gh.stop());

  it.each(['email', 'password'])('the sign-in form with NUL in %s: a 400 page, and no sign-in', async (field) => {
    const agent = new UserAgent();
    const page = await agent.get((await startAuthorization(config)).url.href, REDIRECT_URI);
    const form = findForm(page.html, '/login');
    const res = await agent.request(new URL(form.action, page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.hidden, email, password: 'correct horse battery', [field]: field === 'email' ? `${email}\u0000` : `x${NUL}` }),
    });
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toContain('The form contains control characters');
  });

  it.each(['nonce', 'state', 'login_hint', 'ui_locales', 'client_id', 'acr_values', 'redirect_uri'])('/auth with NUL in %s: invalid_request', async (param) => {
    const url = (await startAuthorization(config)).url;
    url.searchParams.set(param, NUL);
    const res = await fetch(url, { headers: JSON_ACCEPT, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    const page = await fetch(url, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  async function post(path: string, body: Record<string, string>) {
    const res = await fetch(`${gh.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new URLSearchParams(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it.each([
    ['/token', { grant_type: 'authorization_code', code: NUL, redirect_uri: REDIRECT_URI, code_verifier: 'v'.repeat(43) }],
    ['/token', { grant_type: 'refresh_token', refresh_token: NUL }],
    ['/token/introspection', { token: NUL }],
    ['/token/introspection', { token: NUL, token_type_hint: 'refresh_token' }],
    ['/token/revocation', { token: NUL }],
  ])('%s with NUL in the token: 400 invalid_request (no token ever contains one)', async (path, body) => {
    expect(await post(path, body)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('a client id with NUL: refused in Basic credentials (form-encoded, as RFC 6749 §2.3.1 says), an unknown client in the body', async () => {
    const viaHeader = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('a%00b:secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(viaHeader.status).toBe(400);
    expect(await viaHeader.json()).toMatchObject({ error: 'invalid_request' });
    const viaBody = await fetch(`${gh.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: NUL, client_secret: 'secret' }),
    });
    expect(viaBody.status).toBe(401);
    expect(await viaBody.json()).toMatchObject({ error: 'invalid_client' });
  });

  it.each(['state', 'ui_locales', 'logout_hint', 'client_id'])('/session/end with NUL in %s, signed in: invalid_request', async (param) => {
    const { agent, tokens } = await passwordSignIn(config, email);
    const url = new URL(`${gh.issuer}/session/end`);
    url.searchParams.set('id_token_hint', tokens.id_token ?? '');
    url.searchParams.set(param, NUL);
    const res = await agent.request(url.href, { headers: JSON_ACCEPT });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('an interaction or resume path with NUL: a 4xx page', async () => {
    for (const path of ['/interaction/%00/login', '/auth/%00', '/setup/%00']) {
      const res = await fetch(`${gh.issuer}${path}`, { method: 'POST' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('a Host header that is not an authority is a 400 before oidc-provider builds a URL from it', () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(() => gh.stop());

  function get(path: string, host: string): Promise<{ status: number; body: string }> {
    const { port } = new URL(gh.issuer);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers: { host, accept: 'application/json' }, setHost: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it.each(['host with spaces', '[::1', '127.0.0.1:99999', 'localhost:-1', 'localhost:', 'a/b', 'user@localhost', '[zz::1]:80', ''])(
    'Host %p: 400 invalid_request on discovery and /session/end',
    async (host) => {
      for (const path of ['/.well-known/openid-configuration', '/session/end']) {
        const res = await get(path, host);
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request' });
      }
    },
  );

  it.each(['localhost', '127.0.0.1:3000', '[::1]:8080', 'id.example.com', 'gatehouse_internal:3000'])('Host %p is served', async (host) => {
    const res = await get('/.well-known/openid-configuration', host);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ issuer: gh.issuer });
  });

  it('health checks answer whatever Host they send', async () => {
    expect((await get('/healthz', 'host with spaces')).status).toBe(200);
  });
});
