// Hostile and clumsy input (DESIGN.md §9, §11): every bad request gets a clear
// 4xx — a friendly HTML page with a request id, or `{ error, error_description }` JSON for JSON
// callers — never a 500 and never a stack trace. Also pins the browser-facing security headers and
// cookie attributes of the sign-in pages.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as oidc from 'openid-client';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { REDIRECT_URI, passwordSignIn, rpConfig, seedAccount, seedClient, seedTenant, startAuthorization } from '../../helpers/seed.ts';
import { UserAgent, findForm, textOf, type Page } from '../../helpers/user-agent.ts';
import { CSRF_COOKIE, csrfTokenFor, newCsrfSecret } from '../../../src/http/csrf.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_ACCEPT = { accept: 'application/json' };
const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
/** Traces of a leaked exception: stack frames, source paths, module folders. */
const STACK_TRACE = /\bat [^\n]*\(?[^\n]*:\d+:\d+\)?|node_modules|\/src\/[\w/-]+\.ts|\bTypeError\b|\bReferenceError\b/;

interface Answer {
  status: number;
  type: string;
  requestId: string;
  headers: Headers;
  body: string;
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, type: res.headers.get('content-type') ?? '', requestId: res.headers.get('x-request-id') ?? '', headers: res.headers, body: await res.text() };
}

/** A friendly HTML error page: the status, the sentence, the request id, no stack trace. */
function expectPage(a: Answer, status: number, sentence: string | RegExp) {
  expect({ status: a.status, type: a.type }).toEqual({ status, type: expect.stringContaining('text/html') });
  const text = textOf(a.body);
  if (typeof sentence === 'string') expect(text).toContain(sentence);
  else expect(text).toMatch(sentence);
  expect(a.requestId).not.toBe('');
  expect(text).toContain(a.requestId);
  expect(a.body).not.toMatch(STACK_TRACE);
}

/** A JSON error: `{ error, error_description }` with the given status, no stack trace. */
function expectJsonError(a: Answer, status: number, error?: string) {
  expect({ status: a.status, type: a.type }).toEqual({ status, type: expect.stringContaining('application/json') });
  const body = JSON.parse(a.body) as Record<string, unknown>;
  expect(typeof body.error).toBe('string');
  expect(typeof body.error_description).toBe('string');
  if (error) expect(body.error).toBe(error);
  expect(a.body).not.toMatch(STACK_TRACE);
  return body;
}

describe('bad input gets a clear 4xx, never a 500 or a stack trace', () => {
  let gh: TestGatehouse;
  let config: oidc.Configuration;
  let client: { clientId: string; clientSecret?: string | undefined };
  let account: Awaited<ReturnType<typeof seedAccount>>;
  let basic: string;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    const tenant = await seedTenant(gh.runtime);
    account = await seedAccount(gh.runtime, tenant.id);
    client = await seedClient(gh.runtime);
    config = await rpConfig(gh.issuer, client);
    basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret ?? ''}`).toString('base64')}`;
  });
  afterAll(() => gh.stop());

  /** A browser that opened the login page: its interaction uid and the form's CSRF token. */
  async function openLogin(params: Record<string, string> = {}) {
    const agent = new UserAgent();
    const start = await startAuthorization(config, params);
    const page = await agent.get(start.url.href, REDIRECT_URI);
    const uid = /\/interaction\/([^/?#]+)/.exec(page.url)?.[1];
    if (!uid) throw new Error(`no interaction page: ${page.status} ${page.url}`);
    const csrf = findForm(page.html, '/login').hidden._csrf ?? '';
    return { agent, page, uid, csrf, loginUrl: `${gh.issuer}/interaction/${uid}/login` };
  }

  const authorizeUrl = (params: Record<string, string>) => `${gh.issuer}/auth?${new URLSearchParams(params).toString()}`;

  describe('interaction forms', () => {
    it('refuses an oversized login form with 413 and names the limit', async () => {
      const { agent, loginUrl, csrf } = await openLogin();
      const body = new URLSearchParams({ _csrf: csrf, email: account.email, password: 'x'.repeat(100 * 1024) });
      expectPage(await answer(await agent.request(loginUrl, { method: 'POST', headers: FORM, body })), 413, 'The request body is too large. The limit is 64 KB.');
    });

    it('refuses a form body that cannot be decoded (bogus content encoding) with 400', async () => {
      const { agent, loginUrl, csrf } = await openLogin();
      const res = await agent.request(loginUrl, { method: 'POST', headers: { ...FORM, 'content-encoding': 'gzip' }, body: `_csrf=${csrf}&email=a` });
      expectPage(await answer(res), 400, 'The form data could not be read.');
    });

    it('answers broken percent-escapes and repeated or nested fields as a failed sign-in, not a crash', async () => {
      const { agent, loginUrl, csrf } = await openLogin();
      const broken = await answer(await agent.request(loginUrl, { method: 'POST', headers: FORM, body: `_csrf=${csrf}&email=%E0%A4%A&password=%%%` }));
      expect(broken.status).toBe(401);
      expect(textOf(broken.body)).toContain('Incorrect email or password.');
      const nested = await answer(await agent.request(loginUrl, { method: 'POST', headers: FORM, body: `_csrf=${csrf}&email[a]=1&email[b]=2&password=x&password=y` }));
      expect(nested.status).toBe(400);
      expect(textOf(nested.body)).toContain('Enter your email and password.');
      expect(nested.body).not.toMatch(STACK_TRACE);
    });

    it.each([
      ['JSON', 'application/json', JSON.stringify({ email: 'a@example.com', password: 'x' })],
      ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--x--\r\n'],
      ['plain text', 'text/plain', 'email=a'],
    ])('refuses a %s body on a form endpoint with 415', async (_kind, type, body) => {
      const { agent, loginUrl } = await openLogin();
      const res = await agent.request(loginUrl, { method: 'POST', headers: { 'content-type': type }, body });
      expectPage(await answer(res), 415, 'This address accepts form submissions only (application/x-www-form-urlencoded).');
    });

    it('refuses a login form without a CSRF token, with a wrong one, and a cross-site post, with 403 and a clear message', async () => {
      const { agent, loginUrl } = await openLogin();
      const message = 'The form expired or was sent from another site. Go back, reload the page and try again.';
      const fields = { email: account.email, password: 'whatever it is' };
      expectPage(await answer(await agent.request(loginUrl, { method: 'POST', headers: FORM, body: new URLSearchParams(fields) })), 403, message);
      expectPage(await answer(await agent.request(loginUrl, { method: 'POST', headers: FORM, body: new URLSearchParams({ ...fields, _csrf: 'forged' }) })), 403, message);
      const { agent: victim, loginUrl: victimUrl, csrf } = await openLogin();
      const crossSite = await victim.request(victimUrl, { method: 'POST', headers: { ...FORM, 'sec-fetch-site': 'cross-site' }, body: new URLSearchParams({ ...fields, _csrf: csrf }) });
      expectPage(await answer(crossSite), 403, message);
    });

    it("refuses a token from another browser's form (no CSRF cookie of its own) with 403", async () => {
      const { loginUrl, csrf } = await openLogin();
      const stranger = new UserAgent();
      const res = await stranger.request(loginUrl, { method: 'POST', headers: FORM, body: new URLSearchParams({ _csrf: csrf, email: account.email, password: 'x' }) });
      expectPage(await answer(res), 403, 'The form expired or was sent from another site.');
    });

    it('shows a 400 page for an unknown interaction uid, a malformed one, and one without its cookie', async () => {
      const expired = 'This sign-in page has expired or was already used. Go back to the application and sign in again.';
      const agent = new UserAgent();
      expectPage(await answer(await agent.request(`${gh.issuer}/interaction/${'A1'.repeat(20)}`)), 400, expired);
      expectPage(await answer(await agent.request(`${gh.issuer}/interaction/%00%ff`)), 400, expired);
      const { uid } = await openLogin();
      expectPage(await answer(await agent.request(`${gh.issuer}/interaction/${uid}`)), 400, expired);
    });

    it('shows a 400 page when a finished interaction is used again', async () => {
      const { agent, page, uid } = await openLogin();
      const done = await agent.submit(page, '/login', { email: account.email, password: 'correct horse battery' }, REDIRECT_URI);
      expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
      expectPage(await answer(await agent.request(`${gh.issuer}/interaction/${uid}`)), 400, 'This sign-in page has expired or was already used.');
    });

    it.each([
      ['GET', '/verify', 'POST'],
      ['GET', '/login', 'POST'],
      ['GET', '/abort', 'POST'],
      ['POST', '/lost', 'HEAD, GET'],
      ['DELETE', '', 'HEAD, GET'],
      ['PUT', '/login', 'POST'],
    ])('answers %s %s of an interaction with 405 and Allow: %s', async (method, path, allow) => {
      const { agent, uid } = await openLogin();
      const res = await agent.request(`${gh.issuer}/interaction/${uid}${path}`, { method });
      expect(res.headers.get('allow')).toBe(allow);
      expectPage(await answer(res), 405, 'That action is not available at this address.');
    });

    it('refuses to select an account before the password has opened any', async () => {
      const { agent, uid, csrf } = await openLogin();
      const body = new URLSearchParams({ _csrf: csrf, account: account.id });
      const res = await agent.request(`${gh.issuer}/interaction/${uid}/select`, { method: 'POST', headers: FORM, body });
      expectPage(await answer(res), 409, 'This step of the sign-in is not available now.');
    });
  });

  describe('/token', () => {
    it('refuses a JSON body with invalid_request', async () => {
      const res = await fetch(`${gh.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
      const body = expectJsonError(await answer(res), 400, 'invalid_request');
      expect(body.error_description).toContain('application/x-www-form-urlencoded');
    });

    it('refuses an oversized body with a JSON 4xx', async () => {
      const res = await fetch(`${gh.issuer}/token`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: `grant_type=client_credentials&pad=${'a'.repeat(2 * 1024 * 1024)}` });
      const a = await answer(res);
      expect([400, 413]).toContain(a.status);
      expectJsonError(a, a.status);
    });

    it('refuses malformed bodies and credentials with JSON 4xx errors', async () => {
      const cases: [RequestInit, number, string][] = [
        [{ headers: { ...FORM, authorization: basic }, body: 'grant_type=%E0%A4%A&&&==' }, 400, 'unsupported_grant_type'],
        [{ headers: { ...FORM, authorization: basic }, body: 'grant_type=password&username=a&password=b' }, 400, 'unsupported_grant_type'],
        [{ headers: { ...FORM, authorization: 'Basic %%%' }, body: 'grant_type=client_credentials' }, 400, 'invalid_request'],
        [{ headers: FORM, body: 'grant_type=client_credentials' }, 400, 'invalid_request'],
        [{ headers: { ...FORM, authorization: `Basic ${Buffer.from(`${client.clientId}:wrong`).toString('base64')}` }, body: 'grant_type=client_credentials' }, 401, 'invalid_client'],
        [{ headers: { ...FORM, authorization: basic }, body: 'grant_type=authorization_code&code=nope&redirect_uri=x&code_verifier=y' }, 400, 'invalid_grant'],
      ];
      for (const [init, status, error] of cases) {
        expectJsonError(await answer(await fetch(`${gh.issuer}/token`, { method: 'POST', ...init })), status, error);
      }
    });
  });

  describe('authorization requests', () => {
    it('shows an HTML 400 page with a request id for an unknown client_id (never redirecting anywhere)', async () => {
      const res = await fetch(authorizeUrl({ client_id: 'no-such-client', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, ...PKCE }), { redirect: 'manual' });
      expect(res.headers.get('location')).toBeNull();
      expectPage(await answer(res), 400, 'client is invalid (invalid_client)');
    });

    it('shows an HTML 400 page for a redirect_uri that is not registered, and does not redirect to it', async () => {
      const res = await fetch(authorizeUrl({ client_id: client.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'https://attacker.example/callback', ...PKCE }), { redirect: 'manual' });
      expect(res.headers.get('location')).toBeNull();
      expectPage(await answer(res), 400, /redirect_uri.*(invalid_redirect_uri|invalid_request)/);
    });

    it('also refuses a redirect_uri that only differs by a trailing path or query', async () => {
      for (const uri of [`${REDIRECT_URI}/extra`, `${REDIRECT_URI}?next=https://attacker.example`]) {
        const res = await fetch(authorizeUrl({ client_id: client.clientId, response_type: 'code', scope: 'openid', redirect_uri: uri, ...PKCE }), { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      }
    });

    it('returns a malformed claims parameter to the client as invalid_request', async () => {
      for (const claims of ['{not json', '[1,2]', JSON.stringify({ id_token: { acr: { essential: true, values: 5 } } })]) {
        const res = await fetch(authorizeUrl({ client_id: client.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 's1', ...PKCE, claims }), { redirect: 'manual' });
        expect(res.status).toBe(303);
        const location = new URL(res.headers.get('location') ?? '');
        expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
        expect(location.searchParams.get('error')).toBe('invalid_request');
        expect(location.searchParams.get('error_description')).toMatch(/claims/);
        expect(location.searchParams.get('state')).toBe('s1');
      }
    });

    it('shows a 400 page for undecodable parameters', async () => {
      expectPage(await answer(await fetch(`${gh.issuer}/auth?client_id=%E0%A4%A&response_type=code`, { redirect: 'manual' })), 400, /invalid_(request|client)/);
    });

    it('answers a huge query string with 431 or 414', async () => {
      const res = await fetch(authorizeUrl({ client_id: client.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'x'.repeat(100 * 1024) }), { redirect: 'manual' });
      expect([414, 431]).toContain(res.status);
      expect(await res.text()).not.toMatch(STACK_TRACE);
    });
  });

  describe('unknown and invalid paths', () => {
    it.each([['/no/such/page'], ['/me/00000000-0000-0000-0000-000000000000'], ['/accounts/%00'], ['/interaction/abc/def/ghi'], ['/jwks/extra/segment'], ['/.well-known/nothing']])(
      'shows a 404 page with a request id for %s',
      async (path) => {
        expectPage(await answer(await fetch(`${gh.issuer}${path}`)), 404, "We couldn't find that page.");
      },
    );

    it('answers a method no route accepts with a 4xx page', async () => {
      const a = await answer(await fetch(`${gh.issuer}/jwks`, { method: 'POST', headers: FORM, body: 'x=1' }));
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.status).toBeLessThan(500);
      expect(a.body).not.toMatch(STACK_TRACE);
    });

    it('shows a 400 page for a setup link with a bad token, on GET and on POST', async () => {
      const get = await answer(await fetch(`${gh.issuer}/setup/not-a-real-token`));
      expect(get.status).toBe(400);
      expect(textOf(get.body)).toContain('This setup link is not valid');
      // a POST that passes CSRF (the setup form's purpose) still cannot use the bad token
      const secret = newCsrfSecret();
      const body = new URLSearchParams({ _csrf: csrfTokenFor(secret, 'setup'), email: 'op@example.com', password: 'a long passphrase', password_confirm: 'a long passphrase' });
      const post = await answer(await fetch(`${gh.issuer}/setup/not-a-real-token`, { method: 'POST', headers: { ...FORM, cookie: `${CSRF_COOKIE}=${secret}` }, body }));
      expect(post.status).toBe(400);
      expect(textOf(post.body)).toContain('This setup link has expired or was already used.');
      expect(post.body).not.toMatch(STACK_TRACE);
    });
  });

  describe('JSON callers', () => {
    it('get JSON errors with the request id of the response', async () => {
      const { agent, loginUrl, uid } = await openLogin();
      const cases: [Promise<Response>, number, string][] = [
        [fetch(`${gh.issuer}/no/such/page`, { headers: JSON_ACCEPT }), 404, 'not_found'],
        [fetch(authorizeUrl({ client_id: 'no-such-client', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI }), { headers: JSON_ACCEPT, redirect: 'manual' }), 400, 'invalid_client'],
        [fetch(`${gh.issuer}/interaction/${'A1'.repeat(20)}`, { headers: JSON_ACCEPT }), 400, 'interaction_expired'],
        [agent.request(loginUrl, { method: 'POST', headers: { ...FORM, ...JSON_ACCEPT }, body: 'email=a&password=b' }), 403, 'csrf_failed'],
        [agent.request(loginUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...JSON_ACCEPT }, body: '{}' }), 415, 'unsupported_media_type'],
        [agent.request(`${gh.issuer}/interaction/${uid}/select`, { method: 'POST', headers: { ...FORM, ...JSON_ACCEPT }, body: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large'],
      ];
      for (const [pending, status, error] of cases) {
        const a = await answer(await pending);
        const body = expectJsonError(a, status, error);
        expect(body.request_id).toBe(a.requestId);
      }
    });
  });

  describe('browser protections on the pages', () => {
    function expectSecurityHeaders(headers: Headers) {
      expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-frame-options')).toBe('DENY');
    }

    it('sends CSP (frame-ancestors none), nosniff, a referrer policy and no-store on the sign-in pages', async () => {
      const agent = new UserAgent();
      const start = await startAuthorization(config);
      const authorize = await agent.request(start.url.href);
      expect(authorize.status).toBe(303);
      expectSecurityHeaders(authorize.headers);
      expect(authorize.headers.get('cache-control')).toContain('no-store');
      const loginPage = await agent.request(new URL(authorize.headers.get('location') ?? '', gh.issuer).href);
      expect(loginPage.status).toBe(200);
      expectSecurityHeaders(loginPage.headers);
      expect(loginPage.headers.get('cache-control')).toContain('no-store');
    });

    it('sends the same headers with error pages', async () => {
      const res = await fetch(authorizeUrl({ client_id: 'no-such-client', response_type: 'code' }));
      expectSecurityHeaders(res.headers);
      expect(res.headers.get('cache-control')).toContain('no-store');
      expectSecurityHeaders((await fetch(`${gh.issuer}/no/such/page`)).headers);
      expectSecurityHeaders((await fetch(`${gh.issuer}/interaction/unknown-uid-1234567890`)).headers);
    });

    it('sets every cookie of a sign-in HttpOnly and SameSite=Lax', async () => {
      const cookies: string[] = [];
      const agent = new UserAgent();
      const start = await startAuthorization(config);
      let res = await agent.request(start.url.href);
      cookies.push(...res.headers.getSetCookie());
      const loginUrl = new URL(res.headers.get('location') ?? '', gh.issuer).href;
      res = await agent.request(loginUrl);
      cookies.push(...res.headers.getSetCookie());
      const page: Page = { url: loginUrl, status: res.status, html: await res.text() };
      const form = findForm(page.html, '/login');
      res = await agent.request(new URL(form.action, gh.issuer).href, { method: 'POST', headers: FORM, body: new URLSearchParams({ ...form.hidden, email: account.email, password: 'correct horse battery' }) });
      for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
        cookies.push(...res.headers.getSetCookie());
        const next = new URL(res.headers.get('location') ?? '', gh.issuer).href;
        if (next.startsWith(REDIRECT_URI)) break;
        res = await agent.request(next);
      }
      const names = cookies.map((c) => c.split('=')[0]);
      expect(names).toEqual(expect.arrayContaining(['_interaction', '_session', CSRF_COOKIE]));
      for (const cookie of cookies) {
        expect(cookie).toMatch(/;\s*httponly/i);
        expect(cookie).toMatch(/;\s*samesite=lax/i);
      }
    });
  });

  describe('in total', () => {
    it('answered none of the requests above with a 5xx (per the metrics of this instance)', async () => {
      // one more sign-in, so the counters include a complete flow next to all the bad input
      await passwordSignIn(config, account.email);
      const metrics = await (await fetch(`${gh.issuer}/metrics`)).text();
      const lines = metrics.split('\n').filter((l) => l.startsWith('http_requests_total{'));
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.filter((l) => /status="5\d\d"/.test(l))).toEqual([]);
      expect(lines.some((l) => /status="4\d\d"/.test(l))).toBe(true);
    });
  });
});
