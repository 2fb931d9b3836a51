// Browser security headers (DESIGN.md §9): CSP, framing, sniffing, referrer, HSTS behind TLS.
//
// About `form-action`. oidc-provider's form_post response mode renders an auto-submitting form whose
// action is the RP's redirect_uri (any origin). Worse, Chromium-based browsers also check form-action
// against every redirect that follows a form submission: the login form posts to
// /interaction/:uid/..., which redirects to /auth/:uid, which redirects to the RP. With
// `form-action 'self'` on the interaction pages, that last hop is blocked and sign-in never
// completes. So the app-wide default is `form-action 'self' *` (any http(s) or same-scheme target; it
// still blocks `javascript:` and `data:` actions). An RP whose redirect URIs use a private-use scheme
// (`com.example.app:/cb`) needs that scheme added through `formAction`. Pages that only ever post to
// Gatehouse itself and redirect within it (account and admin consoles) should tighten it with
// `restrictFormAction(["'self'"])` on their router.
import type { Context, Middleware } from 'koa';

export interface SecurityHeadersOptions {
  /** Public issuer URL; HSTS is sent only when it is https. */
  issuer: string;
  /** Sources allowed in CSP `form-action` besides `'self'`. Default `['*']` (see the note above). */
  formAction?: readonly string[];
  /** Paths answered only to servers (JSON): they get nosniff, Referrer-Policy and HSTS, not the browser headers. */
  machinePaths?: readonly string[];
  /** HSTS max-age in seconds (default one year); 0 disables HSTS even on https. */
  hstsMaxAgeSeconds?: number;
}

export const DEFAULT_FORM_ACTION: readonly string[] = ['*'];

export const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'camera=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
].join(', ');

/** `'self'` followed by the given sources, without duplicates. */
const formActionSources = (extra: readonly string[]): string[] => [...new Set(["'self'", ...extra])];

/**
 * The Content-Security-Policy value. Directives are separated by `; ` and `script-src` is always
 * present, so oidc-provider can append the sha256 of its inline scripts to it. `form-action` is
 * `'self'` plus `formAction` (default `*`).
 */
export function buildCsp(formAction: readonly string[] = DEFAULT_FORM_ACTION): string {
  const directives: [string, ...string[]][] = [
    ['default-src', "'self'"],
    ['base-uri', "'none'"],
    ['object-src', "'none'"],
    ['img-src', "'self'", 'data:'],
    ['style-src', "'self'"],
    ['script-src', "'self'"],
    ['form-action', ...formActionSources(formAction)],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map((d) => d.join(' ')).join('; ');
}

/** Sets the security headers before the handlers run, so oidc-provider can extend the CSP. */
export function securityHeaders(options: SecurityHeadersOptions): Middleware {
  const csp = buildCsp(options.formAction);
  const maxAge = options.hstsMaxAgeSeconds ?? 31_536_000;
  const hsts = new URL(options.issuer).protocol === 'https:' && maxAge > 0 ? `max-age=${maxAge}` : undefined;
  const machinePaths = new Set(options.machinePaths ?? []);
  return (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (hsts) ctx.set('Strict-Transport-Security', hsts);
    // JSON endpoints called by servers (token, introspection, JWKS): browser-only headers mean nothing there.
    if (machinePaths.has(ctx.path)) return next();
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', PERMISSIONS_POLICY);
    return next();
  };
}

/** Replaces the `form-action` sources of the CSP already set on the response (no-op without a CSP). */
export function setFormAction(ctx: Context, sources: readonly string[]): void {
  const csp = ctx.response.get('Content-Security-Policy');
  if (!csp) return;
  const value = ['form-action', ...(sources.length > 0 ? sources : ["'none'"])].join(' ');
  const directives = csp
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d.length > 0 && !/^form-action(\s|$)/i.test(d));
  ctx.set('Content-Security-Policy', [...directives, value].join('; '));
}

/** Router-level middleware tightening `form-action` (e.g. `["'self'"]` for the account console). */
export const restrictFormAction =
  (sources: readonly string[]): Middleware =>
  (ctx, next) => {
    setFormAction(ctx, sources);
    return next();
  };

/** `Cache-Control: no-store` for pages with credentials, codes or personal data (auth pages). */
export const noStore = (): Middleware => async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  await next();
};
