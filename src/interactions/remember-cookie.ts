// The "remember this browser" cookie: HttpOnly, SameSite=Lax, on every path (the sign-in pages live
// under /interaction/), Secure and `__Host-` behind TLS. Written by hand, as the CSRF cookie is: Koa
// refuses `secure` when TLS ends at a proxy it was not told about.
import type { Context } from 'koa';

export const rememberCookieName = (secure: boolean) => `${secure ? '__Host-' : ''}gh_remember`;

export const readRememberCookie = (ctx: Context, secure: boolean): string | undefined => ctx.cookies.get(rememberCookieName(secure));

export function writeRememberCookie(ctx: Context, secure: boolean, value: string, maxAgeSeconds: number): void {
  const parts = [`${rememberCookieName(secure)}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}
