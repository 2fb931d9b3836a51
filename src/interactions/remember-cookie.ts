// The "remember this browser" cookie (and the known-browser cookie of the new-browser notice): HttpOnly, SameSite=Lax, on every path (the sign-in pages live
// under /interaction/), Secure and `__Host-` behind TLS. Written by hand, as the CSRF cookie is: Koa
// refuses `secure` when TLS ends at a proxy it was not told about.
import type { Context } from 'koa';

const rememberCookieName = (secure: boolean) => `${secure ? '__Host-' : ''}gh_remember`;

export const readRememberCookie = (ctx: Context, secure: boolean): string | undefined => ctx.cookies.get(rememberCookieName(secure));

export const writeRememberCookie = (ctx: Context, secure: boolean, value: string, maxAgeSeconds: number): void =>
  writeCookie(ctx, secure, rememberCookieName(secure), value, maxAgeSeconds);

export const knownBrowserCookieName = (secure: boolean) => `${secure ? '__Host-' : ''}gh_known`;

/** A year: the notice is about browsers never seen, not recently seen. */
export const KNOWN_BROWSER_MAX_AGE_SECONDS = 365 * 86400;

export function writeCookie(ctx: Context, secure: boolean, name: string, value: string, maxAgeSeconds: number): void {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}
