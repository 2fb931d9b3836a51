// Prometheus metrics (prom-client): one registry per app, bounded label values only.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Context, Middleware } from 'koa';
import { NOTIFYING_EVENTS, SILENT_EVENTS, type SecurityEventName } from '../domain/events.ts';

export const SIGNIN_OUTCOMES = [
  'success',
  'bad_credentials',
  'rate_limited',
  'account_disabled',
  'mfa_verified',
  'mfa_failed',
  'mfa_locked',
  'mfa_enrolled',
  'recovery_code_used',
  'passkey_verified',
  'passkey_failed',
] as const;
export type SigninOutcome = (typeof SIGNIN_OUTCOMES)[number];

/**
 * The MFA security events (src/domain/events.ts), counted as they are emitted wherever they happen
 * (sign-in, setup, settings, administration): enrolments, codes that passed or failed, lockouts,
 * recovery codes, resets.
 */
export const MFA_EVENTS: readonly SecurityEventName[] = [...NOTIFYING_EVENTS, ...SILENT_EVENTS].filter((name) => name.startsWith('mfa.'));
const MFA_EVENT_SET: ReadonlySet<string> = new Set(MFA_EVENTS);

/**
 * First path segments that may label a request which no @koa/router route matched: oidc-provider's
 * endpoints plus Gatehouse's own areas. Anything else becomes `other` (or `unmatched` on a 404), so a
 * scanner requesting random paths cannot create new time series.
 */
export const DEFAULT_ROUTE_PREFIXES: readonly string[] = [
  '.well-known',
  'auth',
  'token',
  'me',
  'jwks',
  'reg',
  'session',
  'request',
  'device',
  'backchannel',
  'interaction',
  'account',
  'admin',
  'api',
  'assets',
];

const DEFAULT_PREFIX_SET: ReadonlySet<string> = new Set(DEFAULT_ROUTE_PREFIXES);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route label of a request: the matched @koa/router path (`/interaction/:uid/login`), else `/` +
 * a known first path segment (`/token`, `/auth` for `/auth/:uid`), else `unmatched` (404) or `other`.
 * Never a raw path with ids in it.
 */
export function routeLabel(ctx: Context, prefixes: ReadonlySet<string> = DEFAULT_PREFIX_SET): string {
  const matched = matchedRoutePath(ctx);
  if (matched !== undefined) return matched;
  if (ctx.path === '/') return '/';
  const first = ctx.path.split('/')[1] ?? '';
  if (prefixes.has(first)) return `/${first}`;
  return ctx.status === 404 ? 'unmatched' : 'other';
}

interface MatchedLayer {
  path?: unknown;
  methods?: unknown;
}

/**
 * The path of the route (not router.use middleware) @koa/router matched. `ctx._matchedRoute` alone is
 * not enough: each executed layer overwrites it, so when a router-level middleware (CSRF, body
 * parser) throws, it still names that middleware's `/prefix{/*rest}` path.
 */
function matchedRoutePath(ctx: Context): string | undefined {
  const c = ctx as Context & { _matchedRoute?: unknown; matched?: unknown };
  const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
  if (Array.isArray(c.matched)) {
    for (let i = c.matched.length - 1; i >= 0; i--) {
      const layer = c.matched[i] as MatchedLayer | undefined;
      if (Array.isArray(layer?.methods) && layer.methods.includes(method) && isLabel(layer.path)) return layer.path;
    }
  }
  return isLabel(c._matchedRoute) ? c._matchedRoute : undefined;
}

const isLabel = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Method label: the standard methods, anything else `OTHER`. */
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : 'OTHER');

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly signins: Counter<'outcome'>;
  readonly mfaEvents: Counter<'event'>;
  /** Koa middleware recording every request; place it outside the error middleware. */
  middleware(): Middleware;
  recordSignin(outcome: SigninOutcome): void;
  /** counts a security event when it is an MFA event (others are ignored). */
  recordMfaEvent(event: SecurityEventName): void;
}

export interface MetricsOptions {
  /** Collect prom-client's default process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
  /** Extra first path segments accepted as route labels (see DEFAULT_ROUTE_PREFIXES). */
  routePrefixes?: readonly string[];
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const prefixes = new Set([...DEFAULT_ROUTE_PREFIXES, ...(options.routePrefixes ?? [])]);

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds (until the handlers finished)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const signins = new Counter({
    name: 'gatehouse_signins_total',
    help: 'Sign-in steps by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const mfaEvents = new Counter({
    name: 'gatehouse_mfa_events_total',
    help: 'Multi-factor authentication events',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  // Publish every known label at 0 so dashboards and rate() see the series before the first event.
  for (const outcome of SIGNIN_OUTCOMES) signins.inc({ outcome }, 0);
  for (const event of MFA_EVENTS) mfaEvents.inc({ event }, 0);

  const middleware = (): Middleware => async (ctx, next) => {
    const start = process.hrtime.bigint();
    let status: number | undefined;
    try {
      await next();
    } catch (err) {
      const s = (err as { status?: unknown }).status;
      status = typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const method = methodLabel(ctx.method);
      const route = routeLabel(ctx, prefixes);
      httpRequests.inc({ method, route, status: String(status ?? ctx.status) });
      httpDuration.observe({ method, route }, seconds);
    }
  };

  return {
    registry,
    httpRequests,
    httpDuration,
    signins,
    mfaEvents,
    middleware,
    recordSignin: (outcome) => signins.inc({ outcome }),
    recordMfaEvent: (event) => {
      if (MFA_EVENT_SET.has(event)) mfaEvents.inc({ event });
    },
  };
}
