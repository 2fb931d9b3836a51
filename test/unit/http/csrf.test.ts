import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { Router } from '@koa/router';
import { parseForm } from '../../../src/http/body.ts';
import {
  CSRF_COOKIE,
  csrfCookieName,
  csrfProtection,
  csrfTokenFor,
  newCsrfSecret,
  verifyCsrfToken,
} from '../../../src/http/csrf.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { createLogger } from '../../../src/http/logger.ts';
import { serve, type Served } from './_serve.ts';

const logger = createLogger({ logLevel: 'silent' });

function app(secure = false): Koa {
  const a = new Koa();
  const router = new Router();
  router.use(parseForm(), csrfProtection({ secure }));
  router.get('/form', (ctx) => {
    ctx.body = { token: ctx.state.csrfToken };
  });
  router.post('/form', (ctx) => {
    ctx.body = { ok: true };
  });
  a.use(errorHandler({ logger }));
  a.use(router.routes());
  return a;
}

const cookieOf = (res: Response): string => {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${CSRF_COOKIE}=`) || c.startsWith(`__Host-${CSRF_COOKIE}=`));
  if (!header) throw new Error('no csrf cookie');
  return header.split(';')[0] ?? '';
};

const form = (fields: Record<string, string>, cookie?: string, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(cookie ? { cookie } : {}), ...extra },
  body: new URLSearchParams(fields).toString(),
});

describe('CSRF tokens (stateless, shared by all instances)', () => {
  it('derives the same token from the same browser secret on any instance', () => {
    const secret = newCsrfSecret();
    expect(csrfTokenFor(secret, 'form')).toBe(csrfTokenFor(secret, 'form'));
    expect(verifyCsrfToken(secret, 'form', csrfTokenFor(secret, 'form'))).toBe(true);
  });

  it('refuses a token made for another browser secret or another purpose', () => {
    const secret = newCsrfSecret();
    expect(verifyCsrfToken(secret, 'form', csrfTokenFor(newCsrfSecret(), 'form'))).toBe(false);
    expect(verifyCsrfToken(secret, 'account', csrfTokenFor(secret, 'form'))).toBe(false);
    expect(verifyCsrfToken(secret, 'form', undefined)).toBe(false);
    expect(verifyCsrfToken(secret, 'form', ['x'])).toBe(false);
    expect(verifyCsrfToken(secret, 'form', '')).toBe(false);
  });

  it('uses the __Host- prefix for Secure cookies, so a sibling subdomain cannot plant a secret', () => {
    expect(csrfCookieName(false)).toBe('gh_csrf');
    expect(csrfCookieName(true)).toBe('__Host-gh_csrf');
  });
});

describe('csrfProtection middleware', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(app());
  });
  afterAll(() => s.close());

  it('sets an HttpOnly SameSite=Lax cookie and a token on a GET page', async () => {
    const res = await s.fetch('/form');
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/gh_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
    const { token } = (await res.json()) as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts a POST with the matching _csrf field', async () => {
    const get = await s.fetch('/form');
    const cookie = cookieOf(get);
    const { token } = (await get.json()) as { token: string };
    const res = await s.fetch('/form', form({ _csrf: token }, cookie));
    expect(res.status).toBe(200);
  });

  it('accepts the token in the X-CSRF-Token header', async () => {
    const get = await s.fetch('/form');
    const cookie = cookieOf(get);
    const { token } = (await get.json()) as { token: string };
    const res = await s.fetch('/form', { method: 'POST', headers: { cookie, 'x-csrf-token': token, accept: 'application/json' } });
    expect(res.status).toBe(200);
  });

  it('refuses a POST without a token (403 csrf_failed with the friendly message)', async () => {
    const cookie = cookieOf(await s.fetch('/form'));
    const res = await s.fetch('/form', form({ name: 'x' }, cookie));
    expect(res.status).toBe(403);
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe('csrf_failed');
    expect(body.error_description).toBe('The form expired or was sent from another site. Go back, reload the page and try again.');
  });

  it('refuses a forged POST from another site that has no cookie', async () => {
    const res = await s.fetch('/form', form({ _csrf: csrfTokenFor(newCsrfSecret()) }));
    expect(res.status).toBe(403);
  });

  it("refuses a token from the attacker's own browser secret", async () => {
    const victimCookie = cookieOf(await s.fetch('/form'));
    const attacker = await s.fetch('/form');
    const { token } = (await attacker.json()) as { token: string };
    const res = await s.fetch('/form', form({ _csrf: token }, victimCookie));
    expect(res.status).toBe(403);
  });

  it('refuses a request the browser labels cross-site even with a valid token', async () => {
    const get = await s.fetch('/form');
    const cookie = cookieOf(get);
    const { token } = (await get.json()) as { token: string };
    const res = await s.fetch('/form', form({ _csrf: token }, cookie, { 'sec-fetch-site': 'cross-site' }));
    expect(res.status).toBe(403);
  });

  it('marks the cookie Secure when asked, even if TLS ends at a proxy', async () => {
    const secure = await serve(app(true));
    try {
      const res = await secure.fetch('/form');
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie().join('\n')).toMatch(/^__Host-gh_csrf=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure/m);
    } finally {
      await secure.close();
    }
  });
});
