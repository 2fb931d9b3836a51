/**
 * Headers for every response: a strict CSP (no scripts at all; forms may go to this app and to
 * Gatehouse, whose redirects follow form posts), no framing, no referrer (the callback URL carries
 * the authorization code), and no caching of these authentication pages.
 */
import type { Middleware } from 'koa';

export function securityHeaders(issuerOrigin: string | undefined): Middleware {
  const formAction = ["'self'", ...(issuerOrigin ? [issuerOrigin] : [])].join(' ');
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
