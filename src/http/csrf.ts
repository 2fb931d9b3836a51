// Stateless CSRF protection that works across many instances (DESIGN.md §9, §10): a random
// per-browser secret lives in an HttpOnly SameSite=Lax cookie; the form token is
// HMAC-SHA256(secret, purpose). Any instance can check a token; nothing is kept in memory.
// With `secure`, the cookie uses the `__Host-` prefix, so a sibling subdomain cannot plant a secret
// it knows (the classic weakness of double-submit cookies).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { GatehouseError } from '../domain/errors.ts';

export const CSRF_COOKIE = 'gh_csrf';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
export const DEFAULT_CSRF_PURPOSE = 'form';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SECRET_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface CsrfOptions {
  /** Mark the cookie Secure (issuer is https, or TLS ends at a trusted proxy). */
  secure: boolean;
  /** Binds tokens to a use (e.g. 'interaction', 'account'); a token for one purpose fails another. */
  purpose?: string;
}

export const csrfCookieName = (secure: boolean): string => (secure ? `__Host-${CSRF_COOKIE}` : CSRF_COOKIE);

export const csrfFailed = (detail?: string): GatehouseError =>
  new GatehouseError(
    'csrf_failed',
    403,
    'The form expired or was sent from another site. Go back, reload the page and try again.',
    detail,
  );

export const newCsrfSecret = (): string => randomBytes(32).toString('base64url');

/** The form token for a browser secret and a purpose. */
export const csrfTokenFor = (secret: string, purpose: string = DEFAULT_CSRF_PURPOSE): string =>
  createHmac('sha256', secret).update(`gatehouse-csrf:v1:${purpose}`).digest('base64url');

/** Constant-time check of a submitted token. */
export function verifyCsrfToken(secret: string, purpose: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0 || submitted.length > 128) return false;
  const expected = Buffer.from(csrfTokenFor(secret, purpose));
  const given = Buffer.from(submitted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function cookieHeader(name: string, value: string, secure: boolean): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

function submittedToken(ctx: Context): unknown {
  const body: unknown = ctx.request.body;
  if (typeof body === 'object' && body !== null && CSRF_FIELD in body) {
    return (body as Record<string, unknown>)[CSRF_FIELD];
  }
  const header = ctx.get(CSRF_HEADER);
  return header === '' ? undefined : header;
}

/**
 * Sets `ctx.state.csrfToken` for every request (pages put it in a hidden `_csrf` field) and, on
 * POST/PUT/PATCH/DELETE, requires a matching `_csrf` form field or `X-CSRF-Token` header, else throws
 * GatehouseError `csrf_failed` (403). Mount it after `parseForm()` on routers with forms.
 * Also refuses requests a browser labels `Sec-Fetch-Site: cross-site`.
 */
export function csrfProtection(options: CsrfOptions): Middleware {
  const name = csrfCookieName(options.secure);
  const purpose = options.purpose ?? DEFAULT_CSRF_PURPOSE;
  return async (ctx, next) => {
    const stored = ctx.cookies.get(name);
    const hasSecret = stored !== undefined && SECRET_FORMAT.test(stored);
    const secret = hasSecret ? stored : newCsrfSecret();
    if (!hasSecret) {
      // Written by hand: Koa's cookies refuse `secure` when TLS ends at a proxy Koa was not told about.
      ctx.append('Set-Cookie', cookieHeader(name, secret, options.secure));
    }
    ctx.state.csrfToken = csrfTokenFor(secret, purpose);
    if (UNSAFE_METHODS.has(ctx.method)) {
      if (ctx.get('Sec-Fetch-Site') === 'cross-site') throw csrfFailed('cross-site request');
      if (!hasSecret) throw csrfFailed('no csrf cookie');
      if (!verifyCsrfToken(secret, purpose, submittedToken(ctx))) throw csrfFailed('csrf token mismatch');
    }
    await next();
  };
}
