/**
 * "Acme MDR": a demo relying party of Gatehouse with its own users, its own TOTP 2FA and an
 * org-wide "Require 2FA for sign-in" setting, signing users in directly or through Gatehouse
 * (unified login) and deciding per sign-in whether its own 2FA applies (DESIGN.md §7).
 *
 *   const app = createDownstreamApp({ issuer, clientId, clientSecret, publicUrl, store });
 *   const server = app.listen(4000, '127.0.0.1');
 *   // or, on a port the OS picks, with publicUrl derived from it:
 *   const { url, close } = await startDownstreamApp({ issuer, clientId, clientSecret, store });
 *
 * Register the client at Gatehouse with redirect_uri `${publicUrl}/callback`,
 * post_logout_redirect_uri `${publicUrl}/signed-out`, backchannel_logout_uri
 * `${publicUrl}/backchannel-logout` and backchannel_logout_session_required true.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import { Router } from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { AppDeps, AppState } from './context.ts';
import { csrfMiddleware } from './http/csrf.ts';
import { errorMiddleware } from './http/errors.ts';
import { createPageRenderer } from './http/render.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createSessionStore, sessionMiddleware } from './http/sessions.ts';
import type { SessionStore } from './http/sessions.ts';
import { createGatehouseClient } from './oidc/gatehouse-client.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { directLoginRoutes } from './routes/direct-login.ts';
import { linkAccountRoutes } from './routes/link-account.ts';
import { backchannelLogoutRoutes, logoutRoutes } from './routes/logout.ts';
import { secondFactorRoutes } from './routes/second-factor.ts';
import { settingsRoutes } from './routes/settings.ts';
import { unifiedLoginRoutes } from './routes/unified-login.ts';
import { createMemoryStore } from './store/memory-store.ts';
import type { DownstreamStore } from './store/types.ts';
import { listenDownstreamApp } from './start.ts';
import type { StartedDownstreamApp } from './start.ts';

export { createLocalUser } from './auth/users.ts';
export { createMemoryStore } from './store/memory-store.ts';
export { createJsonFileStore } from './store/json-file-store.ts';
export type { DownstreamStore, LocalUser, OrgSettings } from './store/types.ts';
export type { SessionStore } from './http/sessions.ts';
export { createSessionStore } from './http/sessions.ts';
export type { StartedDownstreamApp } from './start.ts';

export interface DownstreamAppOptions {
  /** Public base URL of this app, e.g. `http://127.0.0.1:4000`; https makes cookies Secure. */
  publicUrl: string;
  /** Gatehouse issuer, e.g. `http://127.0.0.1:3000`. Without issuer and clientId: direct sign-in only. */
  issuer?: string | undefined;
  clientId?: string | undefined;
  /** Without a secret the app is a public client (PKCE only). */
  clientSecret?: string | undefined;
  /** Default client_secret_basic (Gatehouse's default for clients). */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | undefined;
  /** Local data; default a fresh in-memory store. */
  store?: DownstreamStore | undefined;
  /**
   * The RP's max authentication age (seconds): Gatehouse MFA older than this does not bypass local
   * 2FA, and step-up requests send it as `max_age`. Default: none.
   */
  maxAuthAgeSeconds?: number | undefined;
  /** Clock skew allowed on Gatehouse tokens (seconds); default 30. */
  clockToleranceSeconds?: number | undefined;
  /** Wrong codes/passwords before a pending sign-in is dropped; default 5. */
  maxAttempts?: number | undefined;
  /** Trust X-Forwarded-* (behind a TLS-terminating proxy). */
  trustProxy?: boolean | undefined;
  appName?: string | undefined;
  logger?: Logger | undefined;
  /** Clock for tests (TOTP steps, token times); default the system clock. */
  clock?: (() => Date) | undefined;
  /** Session store, to share or inspect in tests; default a fresh in-memory one. */
  sessions?: SessionStore | undefined;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CALLBACK_PATH = '/callback';

export function createDownstreamApp(options: DownstreamAppOptions): Koa<AppState> {
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const secure = new URL(publicUrl).protocol === 'https:';
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'acme-mdr' });
  const appName = options.appName ?? 'Acme MDR';
  const unified = options.issuer !== undefined && options.clientId !== undefined;
  const gatehouse = unified
    ? createGatehouseClient({
      issuer: options.issuer as string,
      clientId: options.clientId as string,
      clientSecret: options.clientSecret,
      tokenEndpointAuthMethod: options.tokenEndpointAuthMethod,
      redirectUri: `${publicUrl}${CALLBACK_PATH}`,
      postLogoutRedirectUri: `${publicUrl}/signed-out`,
      clockToleranceSeconds: options.clockToleranceSeconds ?? 30,
      clock,
    })
    : null;

  const pages = createPageRenderer(path.join(here, 'views'), {
    appName,
    unifiedConfigured: unified,
    issuer: options.issuer ?? null,
  }, process.env.NODE_ENV === 'production');

  const deps: AppDeps = {
    appName,
    publicUrl,
    store: options.store ?? createMemoryStore(),
    sessions: options.sessions ?? createSessionStore({ clock }),
    cookie: { secure },
    pages,
    gatehouse,
    maxAuthAgeSeconds: options.maxAuthAgeSeconds,
    maxAttempts: options.maxAttempts ?? 5,
    logger,
    clock,
  };

  const app = new Koa<AppState>();
  app.proxy = options.trustProxy ?? false;
  const stylesheet = readFileSync(path.join(here, 'public', 'app.css'), 'utf8');

  app.use(async (ctx, next) => {
    ctx.state.requestId = randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    }
  });
  app.use(errorMiddleware(logger, async (ctx, status, message, code) => {
    await pages.render(ctx, 'error', { title: 'Something went wrong', status, message, code });
  }));
  app.use(securityHeaders(options.issuer ? new URL(options.issuer).origin : undefined));
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/assets/app.css') return next();
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });
  app.use(bodyParser({ enableTypes: ['form'], formLimit: '32kb' }));

  const machine = new Router();
  backchannelLogoutRoutes(machine, deps);
  app.use(machine.routes());

  app.use(sessionMiddleware(deps.sessions, deps.cookie));
  app.use(csrfMiddleware());

  const pagesRouter = new Router<AppState>();
  dashboardRoutes(pagesRouter, deps);
  directLoginRoutes(pagesRouter, deps);
  unifiedLoginRoutes(pagesRouter, deps, CALLBACK_PATH);
  secondFactorRoutes(pagesRouter, deps);
  linkAccountRoutes(pagesRouter, deps);
  settingsRoutes(pagesRouter, deps);
  logoutRoutes(pagesRouter, deps);
  app.use(pagesRouter.routes());
  app.use(pagesRouter.allowedMethods());

  return app;
}

/** Binds a port first (default 0 on 127.0.0.1), then creates the app with the resulting public URL. */
export function startDownstreamApp(
  options: Omit<DownstreamAppOptions, 'publicUrl'> & { publicUrl?: string },
  listen: { port?: number; host?: string } = {},
): Promise<StartedDownstreamApp> {
  return listenDownstreamApp(createDownstreamApp, options, listen);
}
